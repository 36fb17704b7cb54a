// The HTTP layer against a tiny local server: waiting on 429/503 as Retry-After says, and errors
// by code. Run with `npm test` after `npm run build`.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { Hub, HubError, fetchWithRetry, retryAfterSeconds } from '../src/hub.js';
import { Me } from '../src/operations.js';

type Reply = { status: number; headers?: Record<string, string>; body: unknown };
const DROP = 'close the connection without an answer';
type Answer = Reply | typeof DROP;

// The server answers each request with the next of `answers` and keeps what it was sent.
let answers: Answer[] = [];
const received: string[] = [];
const tokens: (string | undefined)[] = [];
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    received.push(body);
    tokens.push(req.headers.authorization);
    const answer = answers.shift() ?? { status: 500, body: { errors: [{ message: 'no answer left' }] } };
    if (answer === DROP) return void req.socket.destroy();
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(JSON.stringify(answer.body));
  });
});
let url = '';

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
after(() => server.close());

function serve(...next: Answer[]) {
  answers = next;
  received.length = 0;
  tokens.length = 0;
}

const rateLimited: Reply = {
  status: 429,
  headers: { 'retry-after': '1' },
  body: { errors: [{ message: 'too many requests', extensions: { code: 'RATE_LIMITED' } }] },
};
const me = { me: { organisation: { id: 'o1', name: 'GGZ Voorbeeld' }, kind: 'PROVIDER', regions: ['utrecht'] } };

test('a 429 is tried again after Retry-After seconds, then the answer is returned', async () => {
  serve(rateLimited, { status: 200, body: { data: { ok: true } } });
  const started = performance.now();
  const response = await fetchWithRetry(url, { method: 'POST', body: '{"query":"{ ok }"}' });
  const waited = (performance.now() - started) / 1000;
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { data: { ok: true } });
  assert.equal(received.length, 2, 'sent twice');
  assert.equal(received[1], received[0], 'the same request again');
  assert.ok(waited >= 0.95, `waited ${waited.toFixed(2)} s, Retry-After said 1`);
  assert.ok(waited < 3, `waited ${waited.toFixed(2)} s`);
});

test('a 503 that persists is returned after the last attempt', async () => {
  const overloaded: Reply = { status: 503, headers: { 'retry-after': '0' }, body: { errors: [{ message: 'busy', extensions: { code: 'OVERLOADED' } }] } };
  serve(overloaded, overloaded, overloaded, overloaded);
  const response = await fetchWithRetry(url, { method: 'POST', body: '{}' }, { attempts: 3 });
  assert.equal(response.status, 503);
  assert.equal(received.length, 3, 'three attempts in all');
});

test('a Retry-After longer than we accept is returned at once', async () => {
  serve({ ...rateLimited, headers: { 'retry-after': '3600' } });
  const response = await fetchWithRetry(url, { method: 'POST', body: '{}' }, { maxWaitSeconds: 60 });
  assert.equal(response.status, 429);
  assert.equal(received.length, 1);
});

test('other statuses are not tried again', async () => {
  serve({ status: 401, body: { errors: [{ message: 'no token', extensions: { code: 'UNAUTHENTICATED' } }] } });
  const response = await fetchWithRetry(url, { method: 'POST', body: '{}' });
  assert.equal(response.status, 401);
  assert.equal(received.length, 1);
});

test('a lost answer is not tried again: the request may have been applied', async () => {
  serve(DROP, { status: 200, body: { data: { ok: true } } });
  await assert.rejects(fetchWithRetry(url, { method: 'POST', body: '{}' }));
  assert.equal(received.length, 1);
});

test('Retry-After in seconds, as an HTTP date, or absent', () => {
  assert.equal(retryAfterSeconds('2'), 2);
  assert.equal(retryAfterSeconds(null), 1);
  const inFive = new Date(Date.now() + 5000).toUTCString();
  assert.ok([4, 5].includes(retryAfterSeconds(inFive)), retryAfterSeconds(inFive).toString());
  assert.equal(retryAfterSeconds(new Date(Date.now() - 60_000).toUTCString()), 0);
});

test('Hub.execute sends the operation with the token, waits out a 429 and returns typed data', async () => {
  serve(rateLimited, { status: 200, body: { data: me } });
  const data = await new Hub(url, 'tok').execute(Me, {});
  assert.equal(data.me.organisation?.name, 'GGZ Voorbeeld');
  assert.equal(received.length, 2);
  assert.match(JSON.parse(received[0]!).query, /query Me/);
  assert.deepEqual(tokens, ['Bearer tok', 'Bearer tok']);
});

test('Hub.execute throws a HubError with the code and the refused items of a bulk write', async () => {
  const items = [{ index: 3, field: 'month', code: 'BAD_USER_INPUT', reason: 'month must look like 2026-09, got "2026-13"' }];
  serve({
    status: 200,
    body: { data: null, errors: [{ message: '1 of 4 waiting-time reports refused', path: ['reportWaitingTimes'], extensions: { code: 'BAD_USER_INPUT', items } }] },
  });
  await assert.rejects(new Hub(url, 'tok').execute(Me, {}), (e: unknown) => {
    assert.ok(e instanceof HubError);
    assert.equal(e.code, 'BAD_USER_INPUT');
    assert.deepEqual(e.errors[0]?.extensions?.items, items);
    return true;
  });
});
