//! Subscriptions over HTTP, negotiated by `Accept` as Hive Router and Apollo Router do:
//!
//! - `text/event-stream`: GraphQL over Server-Sent Events (the `graphql-sse` protocol, distinct
//!   connections mode): each answer an `event: next` with the event's position as its `id`, the
//!   end an `event: complete`. A client that reconnects with `Last-Event-ID` (what `EventSource`
//!   sends by itself) first receives what it missed.
//! - `multipart/mixed;subscriptionSpec="1.0"`: Apollo's multipart protocol (Apollo Client, Apollo
//!   Kotlin and iOS): parts of `{"payload": <answer>}`, `{}` as heartbeat, and
//!   `{"payload": null, "errors": [...]}` for the error that ends it. Resuming: `Last-Event-ID`
//!   as well.
//!
//! Every answer also carries its position as `extensions.eventId`. Refusals before the stream
//! starts (no token, a bad document, too many subscriptions) are ordinary GraphQL error responses
//! with their HTTP status.

use std::convert::Infallible;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;

use crate::error::{GatewayError, GraphqlError};
use crate::subscription::Message;

/// The event-stream protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamMedia {
    Sse,
    Multipart,
}

/// The event-stream protocol `Accept` offers (the first listed with a quality above 0), if any.
pub fn stream_media(headers: &HeaderMap) -> Option<StreamMedia> {
    let accept = headers.get(header::ACCEPT)?.to_str().ok()?;
    accept.split(',').find_map(|part| {
        let mut pieces = part.split(';').map(str::trim);
        let media = pieces.next()?.to_ascii_lowercase();
        let mut params = pieces.map(|p| p.to_ascii_lowercase());
        let refused = params.clone().any(|p| p.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()) == Some(0.0));
        match media.as_str() {
            _ if refused => None,
            "text/event-stream" => Some(StreamMedia::Sse),
            "multipart/mixed" if params.any(|p| p.replace('"', "") == "subscriptionspec=1.0") => {
                Some(StreamMedia::Multipart)
            }
            _ => None,
        }
    })
}

/// The position after which a resuming client wants events: `Last-Event-ID`; `Err` when it is
/// not one of ours.
pub fn last_event_id(headers: &HeaderMap) -> Result<Option<u64>, GraphqlError> {
    match headers.get("last-event-id") {
        None => Ok(None),
        Some(value) => value.to_str().ok().and_then(|v| v.trim().parse::<u64>().ok()).map(Some).ok_or_else(|| {
            GatewayError::BadRequest.error("Last-Event-ID must be the id of an event this hub sent (a whole number)")
        }),
    }
}

/// The streaming response: the messages of `receiver` in `media`, with a keep-alive every
/// `keepalive` while nothing else is sent.
pub fn respond(media: StreamMedia, receiver: mpsc::Receiver<Message>, keepalive: std::time::Duration) -> Response {
    let ticker = tokio::time::interval_at(tokio::time::Instant::now() + keepalive, keepalive);
    let state = Stream { receiver, ticker, media, started: false, done: false };
    let body = futures_util::stream::unfold(state, |mut s| async move {
        if s.done {
            return None;
        }
        if !s.started {
            s.started = true;
            return Some((Ok::<_, Infallible>(s.opening()), s));
        }
        let chunk = tokio::select! {
            message = s.receiver.recv() => match message {
                Some(Message::Next { seq, body }) => s.next(seq, &body),
                Some(Message::Final { error, resume }) => {
                    s.done = true;
                    s.last(Some((&error, resume)))
                }
                None => {
                    s.done = true;
                    s.last(None)
                }
            },
            _ = s.ticker.tick() => s.heartbeat(),
        };
        Some((Ok(chunk), s))
    });
    let content_type = match media {
        StreamMedia::Sse => "text/event-stream",
        StreamMedia::Multipart => "multipart/mixed;boundary=\"graphql\";subscriptionSpec=\"1.0\"",
    };
    let mut response = (StatusCode::OK, Body::from_stream(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache, no-store"));
    // Proxies (nginx) would otherwise buffer the stream.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

struct Stream {
    receiver: mpsc::Receiver<Message>,
    ticker: tokio::time::Interval,
    media: StreamMedia,
    started: bool,
    done: bool,
}

const PART: &str = "\r\ncontent-type: application/json\r\n\r\n";

impl Stream {
    /// Sent at once, so the client knows the subscription is running.
    fn opening(&self) -> Vec<u8> {
        match self.media {
            StreamMedia::Sse => b":\n\n".to_vec(),
            StreamMedia::Multipart => format!("\r\n--graphql{PART}{{}}\r\n--graphql").into_bytes(),
        }
    }

    fn heartbeat(&self) -> Vec<u8> {
        match self.media {
            StreamMedia::Sse => b":\n\n".to_vec(),
            StreamMedia::Multipart => format!("{PART}{{}}\r\n--graphql").into_bytes(),
        }
    }

    fn next(&self, seq: u64, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(body.len() + 64);
        match self.media {
            StreamMedia::Sse => {
                out.extend_from_slice(format!("id: {seq}\nevent: next\ndata: ").as_bytes());
                out.extend_from_slice(body);
                out.extend_from_slice(b"\n\n");
            }
            StreamMedia::Multipart => {
                out.extend_from_slice(PART.as_bytes());
                out.extend_from_slice(b"{\"payload\":");
                out.extend_from_slice(body);
                out.extend_from_slice(b"}\r\n--graphql");
            }
        }
        out
    }

    /// The end: with the error that ends the subscription (and where to resume), or without
    /// when it simply ended. Over SSE the error's event carries the resume position as its `id`,
    /// so an `EventSource` that reconnects by itself sends it as `Last-Event-ID`.
    fn last(&self, error: Option<(&GraphqlError, Option<u64>)>) -> Vec<u8> {
        let resume = error.and_then(|(_, resume)| resume).map(|seq| format!("id: {seq}\n")).unwrap_or_default();
        let errors = error.map(|(e, _)| serde_json::to_string(&[e]).unwrap_or_default());
        match (self.media, errors) {
            (StreamMedia::Sse, Some(errors)) => {
                format!("{resume}event: next\ndata: {{\"errors\":{errors}}}\n\nevent: complete\ndata: \n\n")
                    .into_bytes()
            }
            (StreamMedia::Sse, None) => b"event: complete\ndata: \n\n".to_vec(),
            (StreamMedia::Multipart, Some(errors)) => {
                format!("{PART}{{\"payload\":null,\"errors\":{errors}}}\r\n--graphql--\r\n").into_bytes()
            }
            (StreamMedia::Multipart, None) => b"--\r\n".to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).expect("header"));
        headers
    }

    #[test]
    fn the_protocol_follows_accept() {
        assert_eq!(stream_media(&accept("text/event-stream")), Some(StreamMedia::Sse));
        assert_eq!(
            stream_media(&accept("multipart/mixed;subscriptionSpec=\"1.0\", application/json")),
            Some(StreamMedia::Multipart)
        );
        assert_eq!(stream_media(&accept("multipart/mixed; subscriptionSpec=1.0")), Some(StreamMedia::Multipart));
        assert_eq!(stream_media(&accept("multipart/mixed")), None, "incremental delivery (defer) is not served");
        assert_eq!(stream_media(&accept("application/json")), None);
        assert_eq!(stream_media(&accept("text/event-stream;q=0, application/json")), None);
        assert_eq!(stream_media(&HeaderMap::new()), None);
    }

    #[test]
    fn last_event_id_is_a_number() {
        let mut headers = HeaderMap::new();
        assert_eq!(last_event_id(&headers).expect("none"), None);
        headers.insert("last-event-id", HeaderValue::from_static("42"));
        assert_eq!(last_event_id(&headers).expect("number"), Some(42));
        headers.insert("last-event-id", HeaderValue::from_static("abc"));
        assert!(last_event_id(&headers).is_err());
    }
}
