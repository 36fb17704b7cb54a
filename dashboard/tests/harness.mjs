// Test harness: a real hub (`ggzhub dev` on ports 4100-4105, fresh data directory; 4106 is the origin it lets call
// it with CORS, 4106 and 4107 are served by the CORS test) and, when the hub does
// not serve the dashboard itself yet, a small static server for dist/ on 4104 with the gateway's
// headers (CSP from /work/notes/dashboard-contract.md) and /graphql proxied to the hub.
// Environment:
//   DASHBOARD_URL  test this running dashboard instead (nothing is started; DEMO_TOKENS names the tokens file)
//   GGZHUB_BIN     hub binary (default target/debug/ggzhub of the repository)
//   HUB_PORT_BASE  first of the six ports (default 4100)
import { spawn } from 'node:child_process';
import { createServer, request as httpRequest } from 'node:http';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const dashboardRoot = resolve(here, '..');
export const repoRoot = resolve(dashboardRoot, '..');

const CSP = (issuer) =>
  [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self' ${issuer}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.svg': 'image/svg+xml' };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(url, timeoutMs, init) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try {
      const r = await fetch(url, init);
      if (r.status < 500) return r;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = e.message;
    }
    await sleep(250);
  }
  throw new Error(`${url} did not answer in ${timeoutMs} ms (${last})`);
}

/** Serves dist/ like the gateway will (SPA fallback, headers) and proxies /graphql to the hub. */
export function startStatic(port, gatewayUrl, issuer) {
  const dist = join(dashboardRoot, 'dist');
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/graphql' || url.pathname.startsWith('/graphql/')) {
      const target = new URL(req.url, gatewayUrl);
      const proxied = httpRequest(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      proxied.on('error', () => {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end('{"errors":[{"message":"gateway not reachable"}]}');
      });
      req.pipe(proxied);
      return;
    }
    const headers = {
      'content-security-policy': CSP(issuer),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
    };
    if (url.pathname === '/dashboard-config.json') {
      res.writeHead(200, { ...headers, 'content-type': 'application/json', 'cache-control': 'no-cache' });
      res.end(JSON.stringify({ issuer, clientId: 'ggzhub-dashboard', graphqlPath: '/graphql' }));
      return;
    }
    let file = join(dist, decodeURIComponent(url.pathname));
    if (!file.startsWith(dist)) file = join(dist, 'index.html');
    const looksLikeFile = /\.[a-z0-9]+$/i.test(url.pathname);
    if (!existsSync(file) || url.pathname === '/') {
      if (looksLikeFile && url.pathname !== '/') {
        res.writeHead(404, headers);
        res.end('not found');
        return;
      }
      file = join(dist, 'index.html');
    }
    res.writeHead(200, { ...headers, 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  return new Promise((resolveListen) => server.listen(port, '127.0.0.1', () => resolveListen(server)));
}

/** Starts what the tests need; returns { baseUrl, tokens, stop(), stopGateway?() }. */
export async function startEnvironment() {
  if (process.env.DASHBOARD_URL) {
    const tokensFile = process.env.DEMO_TOKENS ?? join(repoRoot, 'data', 'demo-tokens.json');
    return {
      baseUrl: process.env.DASHBOARD_URL.replace(/\/$/, ''),
      tokens: JSON.parse(readFileSync(tokensFile, 'utf8')),
      issuer: process.env.ISSUER_URL ?? 'http://127.0.0.1:4005',
      stop: async () => undefined,
      stopHub: async () => {
        throw new Error('DASHBOARD_URL given: this test stops the hub it started itself; run without DASHBOARD_URL');
      },
    };
  }
  const base = Number(process.env.HUB_PORT_BASE ?? 4100);
  const bin = resolve(repoRoot, process.env.GGZHUB_BIN ?? 'target/debug/ggzhub');
  if (!existsSync(bin)) throw new Error(`hub binary ${bin} not found: build it (cargo build) or set GGZHUB_BIN`);
  const dataDir = mkdtempSync(join(tmpdir(), 'ggzhub-dashboard-'));
  const args = [
    'dev',
    '--data-dir', dataDir,
    '--gateway-port', String(base),
    '--region-port', String(base + 1),
    '--national-table-port', String(base + 2),
    '--contracting-port', String(base + 3),
    '--issuer-port', String(base + 5),
    // A partner's web app on another origin (the CORS test serves a page there; base + 7 is not allowed).
    '--cors-origin', `http://127.0.0.1:${base + 6}`,
  ];
  const hub = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' } });
  let output = '';
  hub.stdout.on('data', (d) => (output += d));
  hub.stderr.on('data', (d) => (output += d));
  const exited = new Promise((r) => hub.on('exit', r));
  const gatewayUrl = `http://127.0.0.1:${base}`;
  const issuer = `http://127.0.0.1:${base + 5}`;
  try {
    await waitFor(`${gatewayUrl}/graphql`, 120_000, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{__typename}"}' });
    const tokensFile = join(dataDir, 'demo-tokens.json');
    const end = Date.now() + 30_000;
    while (!existsSync(tokensFile) && Date.now() < end) await sleep(200);
  } catch (e) {
    hub.kill('SIGINT');
    throw new Error(`${e.message}\n--- hub output ---\n${output}`);
  }
  const tokens = JSON.parse(readFileSync(join(dataDir, 'demo-tokens.json'), 'utf8'));

  // Does the hub serve the dashboard itself (the gateway embeds dist/)? Else serve dist/ beside it.
  let baseUrl = gatewayUrl;
  let server;
  const home = await fetch(`${gatewayUrl}/`, { headers: { accept: 'text/html' } }).then((r) => r.text()).catch(() => '');
  let configuredIssuer = issuer;
  if (!home.includes('<div id="root">')) {
    server = await startStatic(base + 4, gatewayUrl, issuer);
    baseUrl = `http://127.0.0.1:${base + 4}`;
  } else {
    // The gateway serves the app: sign-in state is keyed by the issuer its config names.
    const config = await fetch(`${gatewayUrl}/dashboard-config.json`).then((r) => r.json()).catch(() => ({}));
    configuredIssuer = config.issuer ?? issuer;
  }
  let stopped = false;
  const stopHub = async () => {
    if (stopped) return;
    stopped = true;
    hub.kill('SIGINT');
    await Promise.race([exited, sleep(10_000).then(() => hub.kill('SIGKILL'))]);
  };
  return {
    baseUrl,
    gatewayUrl,
    partnerPorts: { allowed: base + 6, refused: base + 7 },
    issuer: configuredIssuer,
    tokens,
    servesDashboard: !server,
    hubOutput: () => output,
    stopHub,
    stop: async () => {
      await stopHub();
      server?.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The session entry oidc-client-ts keeps in sessionStorage, for a demo token (no identity provider needed). */
export function sessionEntry(issuer, token) {
  const payload = JSON.parse(Buffer.from(token.token.split('.')[1], 'base64url').toString('utf8'));
  const key = `oidc.user:${issuer}:ggzhub-dashboard`;
  const value = JSON.stringify({
    access_token: token.token,
    token_type: 'Bearer',
    scope: 'openid',
    profile: { sub: payload.sub, name: `Demo ${token.name}`, org_name: token.name, iss: payload.iss, aud: payload.aud, exp: payload.exp, iat: payload.iat },
    expires_at: payload.exp,
  });
  return { key, value };
}
