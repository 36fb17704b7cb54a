// Talking to ggzhub: an access token with client credentials, GraphQL over HTTP, errors by
// `extensions.code`, and waiting when the hub asks for it (429 and 503 with Retry-After).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TypedDocumentString } from './gql/graphql.js';

/** A client in data/demo-clients.json, which `ggzhub dev` writes: one per demo organisation. */
export interface DemoClient {
  client_id: string;
  client_secret: string | null;
  organisation: string | null;
  kind: string | null;
}

export interface DemoClients {
  token_endpoint: string;
  clients: DemoClient[];
}

/** The development identity provider's token endpoint and clients, from `ggzhub dev`'s data directory. */
export async function readDemoClients(dataDir: string): Promise<DemoClients> {
  const path = join(dataDir, 'demo-clients.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new Error(`${path} is missing: is --data-dir the directory \`ggzhub dev --data-dir\` uses?`);
  }
  return JSON.parse(text) as DemoClients;
}

/**
 * An access token for `client` from the OAuth 2.0 client-credentials grant (RFC 6749 §4.4),
 * the client authenticating with HTTP Basic. A real partner system does the same with its own
 * identity provider, and asks again when the token expires (`expires_in` seconds).
 */
export async function clientCredentialsToken(tokenEndpoint: string, client: DemoClient): Promise<string> {
  const basic = Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret ?? '')}`);
  const response = await fetchWithRetry(tokenEndpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${basic.toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  const body = (await response.json()) as { access_token?: string; error?: string; error_description?: string };
  if (!response.ok || !body.access_token) {
    throw new Error(`no token for ${client.client_id}: ${body.error ?? response.status} ${body.error_description ?? ''}`);
  }
  return body.access_token;
}

/** The statuses after which the hub says how long to wait: RATE_LIMITED and OVERLOADED. */
const RETRY_STATUSES = new Set([429, 503]);

export interface RetryOptions {
  /** Tries in all, the first included. */
  attempts?: number;
  /** Longest wait we accept; a longer Retry-After fails at once. */
  maxWaitSeconds?: number;
}

/**
 * `fetch`, trying again after a 429 (RATE_LIMITED) or 503 (OVERLOADED) as many seconds later as
 * the answer's `Retry-After` says, at most `attempts` tries in all. Both statuses mean the hub did
 * not run the operation, so a mutation is safe to send again. Any other answer is returned as is.
 */
export async function fetchWithRetry(url: string, init: RequestInit, options: RetryOptions = {}): Promise<Response> {
  const { attempts = 4, maxWaitSeconds = 60 } = options;
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(url, init);
    if (!RETRY_STATUSES.has(response.status) || attempt >= attempts) return response;
    const wait = retryAfterSeconds(response.headers.get('retry-after'));
    if (wait > maxWaitSeconds) return response;
    await response.body?.cancel();
    console.warn(`  (HTTP ${response.status}: trying again in ${wait} s, attempt ${attempt + 1} of ${attempts})`);
    await sleep(wait * 1000);
  }
}

/** `Retry-After` in seconds: a number of seconds (as the hub sends it) or an HTTP date; 1 when absent. */
export function retryAfterSeconds(header: string | null): number {
  if (header === null || header.trim() === '') return 1;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(header);
  return Number.isNaN(date) ? 1 : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/** One refused item of a bulk write (`extensions.items`). */
export interface RefusedItem {
  index: number;
  field: string | null;
  code?: string;
  reason: string;
}

/** A GraphQL error as the hub sends it. */
export interface GraphQLErrorEntry {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; items?: RefusedItem[]; [key: string]: unknown };
}

/** The hub answered with errors: handle them by `code` (docs/partners.md, "Errors"), never by message. */
export class HubError extends Error {
  constructor(
    readonly errors: GraphQLErrorEntry[],
    readonly status: number,
  ) {
    super(errors.map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('; ') || `HTTP ${status}`);
    this.name = 'HubError';
  }

  /** The first error's `extensions.code`. */
  get code(): string | undefined {
    return this.errors[0]?.extensions?.code;
  }
}

/** The hub's GraphQL endpoint, called as one organisation (its bearer token). */
export class Hub {
  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  /**
   * Runs one operation. Its result and variables are typed by the generated document; an answer
   * with any error throws a HubError (this example treats partial data as a failure).
   */
  async execute<Result, Variables>(document: TypedDocumentString<Result, Variables>, variables: Variables): Promise<Result> {
    const response = await fetchWithRetry(this.url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${this.token}`,
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
      },
      body: JSON.stringify({ query: document.toString(), variables }),
    });
    const text = await response.text();
    let body: { data?: Result | null; errors?: GraphQLErrorEntry[] };
    try {
      body = JSON.parse(text);
    } catch {
      throw new HubError([{ message: `not a GraphQL answer (HTTP ${response.status}): ${text.slice(0, 200)}` }], response.status);
    }
    if (body.errors?.length) throw new HubError(body.errors, response.status);
    if (body.data == null) throw new HubError([{ message: `no data (HTTP ${response.status})` }], response.status);
    return body.data;
  }
}
