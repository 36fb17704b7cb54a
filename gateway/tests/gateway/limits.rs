//! Request bodies, batches and operation cost over real HTTP: compressed bodies are inflated and
//! the body limit counts the inflated bytes (a zip bomb stops at the limit); refusals are GraphQL
//! errors with their own `extensions.code`; batches run when enabled, mutations one after the
//! other; expensive operations are refused by their estimated cost. After every refusal a normal
//! query still succeeds, and no refused request reaches the subgraph.

use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use apollo_compiler::ExecutableDocument;
use flate2::Compression;
use flate2::write::{GzEncoder, ZlibEncoder};
use ggzhub_gateway::auth::identity::Identity;
use ggzhub_gateway::engine::{EngineOptions, Gateway};
use ggzhub_gateway::http::{BatchingOptions, HttpOptions};
use ggzhub_gateway::pipeline::limits::OperationLimits;
use ggzhub_gateway::supergraph::Supergraph;
use ggzhub_kit::SigningKey;
use ggzhub_kit::server::HttpLimits;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::support;
use crate::support::{Clock, Mock, mock, supergraph};

const SDL: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query {
  me: User
  users(first: Int): [User!]!
  userConnection(first: Int, after: String): UserConnection!
  "The length of the text received."
  echo(text: String): Int!
}
type Mutation { rename(name: String!): User }
type User @key(fields: "id") { id: ID! name: String! friends(first: Int): [User!]! }
type UserConnection { edges: [UserEdge!]! nodes: [User!]! }
type UserEdge { node: User! cursor: String! }
"#;

/// The subgraph's answers: whatever root fields the query names.
fn answer(body: &Value) -> Value {
    let query = body["query"].as_str().unwrap_or("");
    let user = json!({ "id": "u2", "name": "Bo", "friends": [] });
    if query.contains("rename") {
        return json!({ "data": { "rename": { "id": "u1", "name": "renamed" } } });
    }
    let mut data = serde_json::Map::new();
    if query.contains("echo") {
        let text = body["variables"].as_object().and_then(|v| v.values().find_map(Value::as_str)).unwrap_or("");
        data.insert("echo".into(), json!(text.chars().count()));
    }
    if query.contains("users") {
        data.insert("users".into(), json!([user]));
    }
    if query.contains("userConnection") {
        data.insert("userConnection".into(), json!({ "edges": [{ "node": user, "cursor": "c" }], "nodes": [user] }));
    }
    data.insert("me".into(), json!({ "id": "u1", "name": "Ann", "friends": [] }));
    json!({ "data": data })
}

const NORMAL_QUERY: &str = "{ me { name } }";
const HANG: Duration = Duration::from_secs(60);
/// The default body limit (1 MiB).
const LIMIT: usize = 1024 * 1024;

struct Reply {
    status: u16,
    content_type: String,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Reply {
    fn code(&self) -> &str {
        self.body["errors"][0]["extensions"]["code"].as_str().unwrap_or_else(|| panic!("no code in {}", self.body))
    }
}

struct Target {
    url: String,
    http: reqwest::Client,
    mock: Mock,
    expected_calls: AtomicUsize,
}

impl Target {
    async fn start() -> Self {
        Self::start_with(EngineOptions::default(), HttpOptions::default(), Duration::ZERO).await
    }

    async fn start_with(engine: EngineOptions, options: HttpOptions, delay: Duration) -> Self {
        Self::start_with_handler(engine, options, delay, answer).await
    }

    async fn start_with_handler(
        engine: EngineOptions,
        options: HttpOptions,
        delay: Duration,
        handler: impl Fn(&Value) -> Value + Send + Sync + 'static,
    ) -> Self {
        let mock = mock("users", SDL, &Clock::default(), delay, handler).await;
        let gateway = Gateway::new(engine);
        gateway.load_supergraph(&supergraph(&[&mock])).expect("loads");
        let url = serve(gateway, options).await;
        let http = reqwest::Client::builder().timeout(HANG).build().expect("client");
        Self { url, http, mock, expected_calls: AtomicUsize::new(0) }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("the gateway answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let bytes = response.bytes().await.expect("a whole body");
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Reply { status, content_type, headers, body }
    }

    /// POSTs `body` as JSON, with this Content-Encoding; `accept` none means no Accept header
    /// (plain `application/json` answers).
    async fn post(&self, body: Vec<u8>, encoding: Option<&str>, accept: Option<&str>) -> Reply {
        let mut request = self.http.post(&self.url).header("content-type", "application/json").body(body);
        if let Some(encoding) = encoding {
            request = request.header("content-encoding", encoding);
        }
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        self.send(request).await
    }

    async fn post_json(&self, body: &Value) -> Reply {
        self.post(body.to_string().into_bytes(), None, Some("application/graphql-response+json")).await
    }

    /// Refused with this status and code as a GraphQL error (JSON, no `data`), then still serving.
    async fn refused(&self, reply: Reply, status: u16, code: &str) {
        assert_eq!(reply.status, status, "{}", reply.body);
        assert!(
            reply.content_type == "application/json" || reply.content_type == "application/graphql-response+json",
            "{}: {}",
            reply.content_type,
            reply.body
        );
        assert_eq!(reply.code(), code, "{}", reply.body);
        assert!(reply.body["errors"][0]["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", reply.body);
        assert!(reply.body.get("data").is_none(), "{}", reply.body);
        self.still_serves().await;
    }

    async fn still_serves(&self) {
        assert_eq!(
            self.mock.calls(),
            self.expected_calls.load(Ordering::SeqCst),
            "a refused request reached the subgraph: {:?}",
            self.mock.received().last()
        );
        let reply = self.post_json(&json!({ "query": NORMAL_QUERY })).await;
        assert_eq!((reply.status, reply.body), (200, json!({ "data": { "me": { "name": "Ann" } } })));
        self.expected_calls.store(self.mock.calls(), Ordering::SeqCst);
    }

    /// Served with 200: the subgraph calls it made are expected.
    fn served(&self) {
        self.expected_calls.store(self.mock.calls(), Ordering::SeqCst);
    }
}

fn anonymous() -> Identity {
    Identity { verifier: None, register: None, signer: None, allow_anonymous: true }
}

async fn serve(gateway: Gateway, options: HttpOptions) -> String {
    let app =
        ggzhub_gateway::http::server::app(Arc::new(gateway), Arc::new(anonymous()), options, HttpLimits::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/graphql", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(data).expect("gzip");
    encoder.finish().expect("gzip")
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(data).expect("deflate");
    encoder.finish().expect("deflate")
}

/// A JSON request of `size` bytes or more: a normal query and one long variable.
fn big_request(size: usize) -> Vec<u8> {
    format!(r#"{{"query":"query($t: String) {{ echo(text: $t) }}","variables":{{"t":"{}"}}}}"#, "a".repeat(size))
        .into_bytes()
}

// ---------------------------------------------------------------------------------------------
// Compression and the body limit

#[tokio::test]
async fn compressed_bodies_are_inflated_and_the_limit_counts_inflated_bytes() {
    let t = Target::start().await;
    let normal = json!({ "query": NORMAL_QUERY }).to_string().into_bytes();
    for (encoding, body) in [("gzip", gzip(&normal)), ("deflate", zlib(&normal)), ("identity", normal.clone())] {
        let reply = t.post(body, Some(encoding), Some("application/graphql-response+json")).await;
        assert_eq!((reply.status, reply.body), (200, json!({ "data": { "me": { "name": "Ann" } } })), "{encoding}");
    }
    t.served();

    // 900 KB of variables, gzipped to a few KB: under the limit once inflated, so it runs and the
    // subgraph gets all of it.
    let near = big_request(900_000);
    let reply = t.post(gzip(&near), Some("gzip"), Some("application/graphql-response+json")).await;
    assert_eq!((reply.status, reply.body), (200, json!({ "data": { "echo": 900_000 } })));
    t.served();

    // 10 MB of JSON gzipped to a few KB: refused once 1 MiB has been inflated, with a GraphQL
    // error in plain JSON.
    let big = big_request(10 * 1024 * 1024);
    let compressed = gzip(&big);
    assert!(compressed.len() < 64 * 1024, "{} bytes compressed", compressed.len());
    let reply = t.post(compressed, Some("gzip"), None).await;
    assert!(reply.body["errors"][0]["message"].as_str().unwrap_or_default().contains("1048576"), "{}", reply.body);
    t.refused(reply, 413, "PAYLOAD_TOO_LARGE").await;
    let reply = t.post(zlib(&big), Some("deflate"), Some("application/graphql-response+json")).await;
    t.refused(reply, 413, "PAYLOAD_TOO_LARGE").await;

    // Plain bodies: announced by Content-Length (refused before reading), or streamed without one.
    t.refused(t.post(big.clone(), None, None).await, 413, "PAYLOAD_TOO_LARGE").await;
    let just_over = big_request(LIMIT);
    t.refused(t.post(just_over, None, None).await, 413, "PAYLOAD_TOO_LARGE").await;
    let chunks: Vec<Vec<u8>> = big.chunks(64 * 1024).map(<[u8]>::to_vec).collect();
    let (status, _, response) = streamed_post(&t.url, None, chunks.into_iter()).await;
    assert_eq!(status, 413);
    assert!(response.contains("PAYLOAD_TOO_LARGE"), "{response}");
    t.still_serves().await;
}

#[tokio::test]
async fn a_zip_bomb_is_refused_without_being_inflated() {
    let t = Target::start().await;
    // 100 GiB of zeros as a gzip stream of about 100 MB: the same 1 MiB deflate block over and
    // over. Were it inflated whole, this test would time out (and the gateway run out of memory).
    let block = deflate_block(&vec![0u8; 1024 * 1024]);
    assert!(block.len() < 4096, "1 MiB of zeros deflates to {} bytes", block.len());
    let blocks = 100 * 1024;
    let total = 10 + block.len() * blocks + 2 + 8;
    let header = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    // The final block (fixed Huffman, end of block) and a trailer (CRC-32 and length, never
    // reached, so left zero).
    let end = vec![0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0];
    let chunks = std::iter::once(header).chain(std::iter::repeat_n(block, blocks)).chain(std::iter::once(end));
    let started = Instant::now();
    let (status, written, response) = streamed_post(&t.url, Some("gzip"), chunks).await;
    assert_eq!(status, 413, "{response}");
    assert!(response.contains("PAYLOAD_TOO_LARGE"), "{response}");
    assert!(written < total / 4, "the gateway read {written} of {total} bytes before answering");
    assert!(started.elapsed() < Duration::from_secs(20), "answered after {:?}", started.elapsed());
    t.still_serves().await;
}

#[tokio::test]
async fn a_client_that_uploads_its_whole_body_before_reading_gets_the_413() {
    let t = Target::start().await;
    let big = big_request(10 * 1024 * 1024);
    // Announced by Content-Length (refused before a byte is read), streamed in chunks without a
    // length (refused once 1 MiB has arrived), and gzip that inflates past the limit long before
    // its end (stored, uncompressed blocks: most of it is still unread at the refusal).
    let plain = upload_then_read(&t.url, &[], Upload::Length(big.clone())).await;
    let chunked = upload_then_read(&t.url, &[], Upload::Chunked(big.clone())).await;
    let mut encoder = GzEncoder::new(Vec::new(), Compression::none());
    encoder.write_all(&big).expect("gzip");
    let stored = encoder.finish().expect("gzip");
    let gzipped = upload_then_read(&t.url, &[("content-encoding", "gzip")], Upload::Length(stored)).await;
    let bomb = upload_then_read(&t.url, &[("content-encoding", "gzip")], Upload::Chunked(gzip(&big))).await;
    for (what, (status, body)) in [("plain", plain), ("chunked", chunked), ("gzip", gzipped), ("small gzip", bomb)] {
        assert_eq!(status, 413, "{what}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "PAYLOAD_TOO_LARGE", "{what}: {body}");
        assert!(body.get("data").is_none(), "{what}: {body}");
    }
    t.still_serves().await;
}

/// A request body for [`upload_then_read`].
enum Upload {
    /// Sent with Content-Length.
    Length(Vec<u8>),
    /// Sent with Transfer-Encoding: chunked, in 64 KiB chunks.
    Chunked(Vec<u8>),
}

/// POSTs `body` on a raw connection the way most HTTP libraries do: the whole request is written
/// before a byte of the answer is read. Returns the status and the JSON body of the answer, which
/// must arrive whole (a reset connection or a truncated answer fails the test).
async fn upload_then_read(url: &str, headers: &[(&str, &str)], body: Upload) -> (u16, Value) {
    let address = url.trim_start_matches("http://").split('/').next().expect("host").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.expect("connect");
    let mut head =
        format!("POST /graphql HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\nconnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let exchange = async {
        match body {
            Upload::Length(body) => {
                head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
                stream.write_all(head.as_bytes()).await.expect("the head is written");
                stream.write_all(&body).await.expect("the whole body is written (the server reads it)");
            }
            Upload::Chunked(body) => {
                head.push_str("transfer-encoding: chunked\r\n\r\n");
                stream.write_all(head.as_bytes()).await.expect("the head is written");
                for chunk in body.chunks(64 * 1024) {
                    stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await.expect("a chunk size");
                    stream.write_all(chunk).await.expect("the whole body is written (the server reads it)");
                    stream.write_all(b"\r\n").await.expect("a chunk end");
                }
                stream.write_all(b"0\r\n\r\n").await.expect("the last chunk");
            }
        }
        let mut received = Vec::new();
        stream.read_to_end(&mut received).await.expect("the answer arrives before the connection closes");
        received
    };
    let received = tokio::time::timeout(HANG, exchange).await.expect("an answer in time");
    let text = String::from_utf8_lossy(&received).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("a whole answer: {text}"));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("a status line: {head}"));
    let length: usize = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("a content-length: {head}"));
    assert_eq!(body.len(), length, "the answer is cut short: {text}");
    (status, serde_json::from_str(body).unwrap_or_else(|_| panic!("a JSON answer: {body}")))
}

/// Raw deflate of `data` ending on a byte boundary with no final block (a full flush), so that
/// copies of it can follow one another in one stream.
fn deflate_block(data: &[u8]) -> Vec<u8> {
    let mut compress = flate2::Compress::new(Compression::best(), false);
    // Room for all of it at once (zeros shrink about a thousandfold), so that one call consumes
    // the input and writes the flush.
    let mut out = Vec::with_capacity(data.len() / 8 + 1024);
    compress.compress_vec(data, &mut out, flate2::FlushCompress::Full).expect("deflate");
    assert_eq!(compress.total_in() as usize, data.len());
    assert!(out.len() < out.capacity() && out.ends_with(&[0, 0, 0xff, 0xff]), "a whole, flushed block");
    out
}

#[tokio::test]
async fn bad_and_unsupported_encodings_are_refused() {
    let t = Target::start().await;
    let normal = json!({ "query": NORMAL_QUERY }).to_string().into_bytes();
    // Not gzip at all, and a gzip stream cut short.
    let reply = t.post(normal.clone(), Some("gzip"), None).await;
    t.refused(reply, 400, "BAD_REQUEST").await;
    let compressed = gzip(&normal);
    let reply = t.post(compressed[..compressed.len() / 2].to_vec(), Some("gzip"), None).await;
    t.refused(reply, 400, "BAD_REQUEST").await;
    let reply = t.post(normal.clone(), Some("deflate"), Some("application/graphql-response+json")).await;
    t.refused(reply, 400, "BAD_REQUEST").await;
    // Encodings the gateway does not decompress.
    for encoding in ["br", "zstd", "compress", "gzip, gzip", "x-unknown"] {
        let reply = t.post(normal.clone(), Some(encoding), None).await;
        let accepted = reply.headers.get("accept-encoding").and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert!(accepted.contains("gzip") && accepted.contains("deflate"), "{encoding}: {accepted:?}");
        assert!(!accepted.contains("br") && !accepted.contains("zstd"), "{encoding}: {accepted:?}");
        t.refused(reply, 415, "UNSUPPORTED_CONTENT_ENCODING").await;
    }
}

/// POSTs the chunks with `Transfer-Encoding: chunked` on a raw connection, reading the answer
/// while writing (the gateway may answer, and stop reading, before the end). Returns the status,
/// the body bytes written when the answer came, and the response as text.
async fn streamed_post(
    url: &str,
    encoding: Option<&str>,
    chunks: impl Iterator<Item = Vec<u8>> + Send + 'static,
) -> (u16, usize, String) {
    let address = url.trim_start_matches("http://").split('/').next().expect("host").to_owned();
    let stream = tokio::net::TcpStream::connect(&address).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    let encoding = encoding.map(|e| format!("content-encoding: {e}\r\n")).unwrap_or_default();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\n{encoding}\
         transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    );
    let written = Arc::new(AtomicUsize::new(0));
    let counter = written.clone();
    let writing = tokio::spawn(async move {
        writer.write_all(head.as_bytes()).await?;
        for chunk in chunks {
            writer.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await?;
            writer.write_all(&chunk).await?;
            writer.write_all(b"\r\n").await?;
            counter.fetch_add(chunk.len(), Ordering::SeqCst);
        }
        writer.write_all(b"0\r\n\r\n").await?;
        std::io::Result::Ok(writer)
    });
    let mut received = Vec::new();
    let mut buffer = [0u8; 8192];
    let response = tokio::time::timeout(HANG, async {
        loop {
            let n = reader.read(&mut buffer).await.expect("the gateway answers before closing");
            received.extend_from_slice(&buffer[..n]);
            let text = String::from_utf8_lossy(&received).into_owned();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
                    .and_then(|v| v.parse::<usize>().ok());
                if n == 0 || length.is_some_and(|length| received.len() >= end + 4 + length) {
                    return text;
                }
            }
            assert!(n > 0, "the connection closed without an answer: {}", String::from_utf8_lossy(&received));
        }
    })
    .await
    .expect("an answer in time");
    let written = written.load(Ordering::SeqCst);
    writing.abort();
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status line");
    (status, written, response)
}

// ---------------------------------------------------------------------------------------------
// Batching

fn batching(max_size: usize) -> HttpOptions {
    HttpOptions { batching: BatchingOptions { enabled: true, max_size }, ..HttpOptions::default() }
}

#[tokio::test]
async fn batches_are_refused_when_batching_is_off() {
    let t = Target::start().await;
    let reply = t.post_json(&json!([{ "query": NORMAL_QUERY }])).await;
    assert!(reply.body["errors"][0]["message"].as_str().unwrap_or_default().contains("batch"), "{}", reply.body);
    t.refused(reply, 400, "BAD_REQUEST").await;
    t.refused(t.post_json(&json!([])).await, 400, "BAD_REQUEST").await;
}

#[tokio::test]
async fn a_batch_answers_each_operation_in_order() {
    let t = Target::start_with(EngineOptions::default(), batching(4), Duration::ZERO).await;
    let reply = t
        .post_json(&json!([
            { "query": NORMAL_QUERY },
            { "query": "query Id { me { id } }", "operationName": "Id" },
            { "query": "{ nope }" },
            "not a request",
        ]))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.content_type, "application/graphql-response+json");
    let answers = reply.body.as_array().unwrap_or_else(|| panic!("an array: {}", reply.body));
    assert_eq!(answers.len(), 4);
    assert_eq!(answers[0], json!({ "data": { "me": { "name": "Ann" } } }));
    assert_eq!(answers[1], json!({ "data": { "me": { "id": "u1" } } }));
    assert_eq!(answers[2]["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED", "{}", answers[2]);
    assert_eq!(answers[3]["errors"][0]["extensions"]["code"], "BAD_REQUEST", "{}", answers[3]);
    assert!(answers[2].get("data").is_none() && answers[3].get("data").is_none());
    t.served();

    // With plain JSON every entry's status is 200, and so is the batch's.
    let body = json!([{ "query": NORMAL_QUERY }, { "query": NORMAL_QUERY }]).to_string().into_bytes();
    let reply = t.post(body, None, None).await;
    assert_eq!((reply.status, reply.content_type.as_str()), (200, "application/json"));
    assert_eq!(reply.body, json!([{ "data": { "me": { "name": "Ann" } } }, { "data": { "me": { "name": "Ann" } } }]));
    t.served();
    // A batch can be gzipped too.
    let body = json!([{ "query": NORMAL_QUERY }]).to_string().into_bytes();
    let reply = t.post(gzip(&body), Some("gzip"), None).await;
    assert_eq!(reply.body, json!([{ "data": { "me": { "name": "Ann" } } }]));
    t.served();
    t.still_serves().await;
}

#[tokio::test]
async fn batches_over_the_limit_and_empty_batches_are_refused() {
    let t = Target::start_with(EngineOptions::default(), batching(3), Duration::ZERO).await;
    let four: Vec<Value> = (0..4).map(|_| json!({ "query": NORMAL_QUERY })).collect();
    let reply = t.post_json(&Value::Array(four)).await;
    assert!(reply.body["errors"][0]["message"].as_str().unwrap_or_default().contains("at most 3"), "{}", reply.body);
    t.refused(reply, 400, "BATCH_LIMIT_EXCEEDED").await;
    t.refused(t.post_json(&json!([])).await, 400, "BAD_REQUEST").await;
    let three: Vec<Value> = (0..3).map(|_| json!({ "query": NORMAL_QUERY })).collect();
    let reply = t.post_json(&Value::Array(three)).await;
    assert_eq!(reply.body.as_array().map(Vec::len), Some(3), "{}", reply.body);
    t.served();
    t.still_serves().await;
}

#[tokio::test]
async fn mutations_in_a_batch_run_one_after_the_other_in_order() {
    // Each subgraph call takes 150 ms; the handler notes when each rename finished.
    let finished: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    let log = finished.clone();
    let handler = move |body: &Value| {
        let text = body.to_string();
        if let Some(name) = ["first-rename", "second-rename", "third-rename"].iter().find(|n| text.contains(*n)) {
            log.lock().expect("lock").push(((*name).to_owned(), Instant::now()));
        }
        answer(body)
    };
    let delay = Duration::from_millis(150);
    let t = Target::start_with_handler(EngineOptions::default(), batching(10), delay, handler).await;
    let rename = |name: &str| json!({ "query": format!("mutation {{ rename(name: \"{name}\") {{ name }} }}") });
    let reply = t
        .post_json(&json!([
            rename("first-rename"),
            rename("second-rename"),
            { "query": NORMAL_QUERY },
            { "query": NORMAL_QUERY },
            rename("third-rename"),
        ]))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let renamed = json!({ "data": { "rename": { "name": "renamed" } } });
    let me = json!({ "data": { "me": { "name": "Ann" } } });
    assert_eq!(reply.body, json!([renamed, renamed, me, me, renamed]));
    let finished = finished.lock().expect("lock").clone();
    let order: Vec<&str> = finished.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(order, ["first-rename", "second-rename", "third-rename"]);
    // Each mutation started only after the one before had been answered (a call takes 150 ms).
    for pair in finished.windows(2) {
        let gap = pair[1].1 - pair[0].1;
        assert!(gap >= Duration::from_millis(140), "{} finished {gap:?} after {}", pair[1].0, pair[0].0);
    }
    t.served();
    t.still_serves().await;
}

// ---------------------------------------------------------------------------------------------
// Cost

#[tokio::test]
async fn expensive_operations_are_refused_with_their_estimated_cost() {
    let t = Target::start().await;
    let reply = t
        .post_json(
            &json!({ "query": "{ users(first: 100) { friends(first: 100) { friends(first: 100) { name } } } }" }),
        )
        .await;
    let error = &reply.body["errors"][0];
    assert_eq!(error["extensions"]["estimatedCost"], 100 * (1 + 100 * (1 + 100)), "{error}");
    assert_eq!(error["extensions"]["maxCost"], 10_000, "{error}");
    assert!(error["message"].as_str().unwrap_or_default().contains("1010100"), "{error}");
    t.refused(reply, 400, "COST_ESTIMATED_TOO_EXPENSIVE").await;

    // A connection: `first` sizes its edges. 1 + 50 × (edge 1 + node 1 + 50 friends) = 2601.
    let query = "query($n: Int) { userConnection(first: $n) { edges { node { friends(first: $n) { name } } } } }";
    let reply = t.post_json(&json!({ "query": query, "variables": { "n": 50 } })).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    t.served();
    // The same document with larger pages (1 + 100 × 102): the estimate uses the variables.
    let reply = t.post_json(&json!({ "query": query, "variables": { "n": 100 } })).await;
    assert_eq!(reply.body["errors"][0]["extensions"]["estimatedCost"], 10201, "{}", reply.body);
    t.refused(reply, 400, "COST_ESTIMATED_TOO_EXPENSIVE").await;
    let reply = t.post_json(&json!({ "query": query, "variables": { "n": 5 } })).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    t.served();
    // Without the variable: the default list size (10): 1 + 10 × 12.
    let reply = t.post_json(&json!({ "query": query })).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    t.served();

    // The same limits reach a batch's entries one by one.
    let t = Target::start_with(EngineOptions::default(), batching(2), Duration::ZERO).await;
    let reply = t
        .post_json(&json!([
            { "query": "{ users(first: 100) { friends(first: 100) { name } } }" },
            { "query": NORMAL_QUERY },
        ]))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body[0]["errors"][0]["extensions"]["code"], "COST_ESTIMATED_TOO_EXPENSIVE", "{}", reply.body);
    assert_eq!(reply.body[1], json!({ "data": { "me": { "name": "Ann" } } }));
    t.served();
    t.still_serves().await;
}

#[tokio::test]
async fn max_cost_and_default_list_size_are_configurable() {
    let limits = OperationLimits { max_cost: 30, default_list_size: 40, ..OperationLimits::default() };
    let t = Target::start_with(
        EngineOptions { operation_limits: limits, ..EngineOptions::default() },
        HttpOptions::default(),
        Duration::ZERO,
    )
    .await;
    let reply = t.post_json(&json!({ "query": "{ users { name } }" })).await;
    assert_eq!(reply.body["errors"][0]["extensions"]["estimatedCost"], 40, "{}", reply.body);
    t.refused(reply, 400, "COST_ESTIMATED_TOO_EXPENSIVE").await;
    let reply = t.post_json(&json!({ "query": "{ users(first: 30) { name } }" })).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    t.served();
    let reply = t.post_json(&json!({ "query": "mutation { a: rename(name: \"a\") { id } b: rename(name: \"b\") { id } c: rename(name: \"c\") { id } d: rename(name: \"d\") { id } }" })).await;
    assert_eq!(
        reply.body["errors"][0]["extensions"]["estimatedCost"], 40,
        "a root mutation field weighs 10: {}",
        reply.body
    );
    t.refused(reply, 400, "COST_ESTIMATED_TOO_EXPENSIVE").await;
}

/// The README's queries and a dashboard-like one, against the hub's supergraph.
const README_ACUTE: &str = r#"{ region(code: "utrecht") { name coordinatingInsurer { name } offers(category: ACUTE, first: 5) { edges { node { unitName status provider { name } capacity { beds } } } } signalCounts { open overdue } } }"#;
const README_COVERAGE: &str = r#"{ region(code: "zeeland") { name missingCategories supraRegionalCoverage { targetGroup hs8 } escalations { status category } offers(category: ACUTE, first: 3) { nodes { unitName contractCoverage { otherInsurers } } } } }"#;
const ALL_REGIONS: &str =
    "{ regions(first: 31) { nodes { name offers(first: 20) { nodes { unitName provider { name } } } } } }";
const ALL_REGIONS_BIG_PAGES: &str =
    "{ regions(first: 31) { nodes { name offers(first: 200) { nodes { unitName provider { name } } } } } }";

fn hub_supergraph() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../schema/supergraph.graphql")).expect("supergraph")
}

#[test]
fn the_readme_queries_cost_far_below_the_default_limit() {
    let supergraph = Supergraph::load(&hub_supergraph()).expect("the hub's supergraph loads");
    let defaults = OperationLimits::default();
    let cost = |query: &str| {
        let document = ExecutableDocument::parse_and_validate(&supergraph.api_schema, query, "query.graphql")
            .unwrap_or_else(|e| panic!("{query}: {e}"));
        let operation = document.operations.get(None).expect("one operation");
        ggzhub_gateway::pipeline::cost::estimate(
            &supergraph.full_schema,
            &document,
            operation,
            defaults.default_list_size,
            None,
        )
        .cost
    };
    // region 1 + coordinatingInsurer 1 + offers (1 + 5 edges × (1 + node 1 + provider 1 + capacity 1))
    // + signalCounts 1.
    assert_eq!(cost(README_ACUTE), 24);
    // region 1 + 10 supra-regional listings + 10 escalations + offers (1 + 3 × (1 + coverage 1)).
    assert_eq!(cost(README_COVERAGE), 28);
    assert_eq!(cost(ALL_REGIONS), 1 + 31 * (1 + 1 + 20 * 2));
    assert_eq!(cost(ALL_REGIONS_BIG_PAGES), 1 + 31 * (1 + 1 + 200 * 2));
    for query in [README_ACUTE, README_COVERAGE, ALL_REGIONS] {
        assert!(cost(query) <= defaults.max_cost, "{query}");
    }
    assert!(cost(ALL_REGIONS_BIG_PAGES) > defaults.max_cost);
}

#[tokio::test]
async fn the_hub_gateway_lets_the_readme_queries_through_and_refuses_the_expensive_one() {
    // The hub's supergraph with every subgraph unreachable: what matters is that the README's
    // queries get past the cost check (they are answered with SUBGRAPH_UNAVAILABLE, not refused).
    // The caller is the national table, which sees the whole schema.
    let dead = support::dead_url().await;
    let urls = ["region", "national-table", "contracting"].map(|name| (name.to_owned(), dead.clone()));
    let gateway = Gateway::new(EngineOptions { subgraph_urls: urls.into_iter().collect(), ..EngineOptions::default() });
    gateway.load_supergraph(&hub_supergraph()).expect("loads");
    let key = SigningKey::generate();
    let issuer = "https://idp.example";
    let verifier = ggzhub_gateway::auth::oidc::Authenticator::with_keys(issuer, &["gateway"], &key.jwks(), 30)
        .expect("a verifier for the key");
    let identity = Identity {
        verifier: Some(Arc::new(verifier)),
        register: Some(support::register_of(
            issuer,
            &[(
                "12345678",
                "00000000-0000-0000-0000-000000000001".parse().expect("uuid"),
                ggzhub_kit::OrgKind::NationalTable,
                &[],
                &[],
            )],
        )),
        signer: Some(SigningKey::generate().signer()),
        allow_anonymous: false,
    };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs();
    let token = key.signer_as(issuer).sign_claims(&json!({
        "iss": issuer, "sub": "tester", "aud": "gateway", "iat": now, "exp": now + 300, "jti": "j",
        "org_identifier_scheme": "URA", "org_identifier": "12345678", "scope": "picture:read",
    }));
    let app = ggzhub_gateway::http::server::app(
        Arc::new(gateway),
        Arc::new(identity),
        HttpOptions::default(),
        HttpLimits::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/graphql", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let http = reqwest::Client::builder().timeout(HANG).build().expect("client");
    let post = |query: &str| {
        http.post(&url)
            .header("content-type", "application/json")
            .header("accept", "application/graphql-response+json")
            .header("authorization", format!("Bearer {token}"))
            .body(json!({ "query": query }).to_string())
            .send()
    };
    for query in [README_ACUTE, README_COVERAGE, ALL_REGIONS] {
        let response = post(query).await.expect("answers");
        let body: Value = response.json().await.expect("json");
        let codes: Vec<&str> =
            body["errors"].as_array().into_iter().flatten().filter_map(|e| e["extensions"]["code"].as_str()).collect();
        assert!(!codes.contains(&"COST_ESTIMATED_TOO_EXPENSIVE"), "{query}: {body}");
        assert!(body.get("data").is_some(), "{query} ran: {body}");
    }
    let response = post(ALL_REGIONS_BIG_PAGES).await.expect("answers");
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["errors"][0]["extensions"]["code"], "COST_ESTIMATED_TOO_EXPENSIVE", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["estimatedCost"], 12463, "{body}");
}
