// Writes the trusted-documents manifest dashboard/operations.json (format: /work/notes/dashboard-contract.md
// §2: { "<sha256 hex of the exact text>": "<text>" }) from the PUBLIC operations (src/gql-public, validated
// against the public contract schema by GraphQL Code Generator).
// Each operation is listed twice: as GraphQL Code Generator's persisted document text, and as the exact
// string urql sends for it (@urql/core's formatDocument — the __typename fields its cacheExchange adds —
// then stringifyDocument, of the generated document), so the gateway admits the app's POST requests byte for
// byte. tests/dashboard.test.mjs checks every anonymous request the browser sends against this file.
// Keys are sorted: the file is reproducible.
// `--check-dist` additionally fails when dist/ holds a file with a build timestamp or an inline script.
import { readFileSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatDocument, stringifyDocument } from '@urql/core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sha256 = (text) => createHash('sha256').update(text, 'utf8').digest('hex');

const persisted = JSON.parse(readFileSync(join(root, 'src/gql-public/persisted-documents.json'), 'utf8'));
const entries = new Map();
for (const [key, text] of Object.entries(persisted)) {
  const hash = key.replace(/^sha256:/, '');
  if (sha256(text) !== hash) throw new Error(`persisted document ${key}: hash does not match its text`);
  entries.set(hash, text);
}

// The generated documents: `export const XDocument = {...} as unknown as DocumentNode<...>;`
const generated = readFileSync(join(root, 'src/gql-public/graphql.ts'), 'utf8');
const documentPattern = /^export const (\w+)Document = (\{.*\}) as unknown as DocumentNode/gm;
let count = 0;
for (const match of generated.matchAll(documentPattern)) {
  const node = JSON.parse(match[2]);
  delete node.__meta__;
  // urql's document cache (cacheExchange) adds __typename to every selection set before sending.
  const text = stringifyDocument(formatDocument(node));
  entries.set(sha256(text), text);
  count += 1;
}
if (count !== Object.keys(persisted).length) {
  throw new Error(`found ${count} generated documents for ${Object.keys(persisted).length} persisted ones`);
}

const sorted = Object.fromEntries([...entries.entries()].sort(([a], [b]) => a.localeCompare(b)));
writeFileSync(join(root, 'operations.json'), JSON.stringify(sorted, null, 2) + '\n');
console.log(`operations.json: ${count} public operations, ${entries.size} entries`);

if (process.argv.includes('--check-dist')) {
  const walk = (dir) =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? walk(path) : [path];
    });
  const html = readFileSync(join(root, 'dist/index.html'), 'utf8');
  if (/<script(?![^>]*\bsrc=)[^>]*>/.test(html)) throw new Error('dist/index.html has an inline <script> (CSP forbids it)');
  if (/<style[\s>]/.test(html)) throw new Error('dist/index.html has a <style> element (CSP forbids it)');
  for (const file of walk(join(root, 'dist'))) {
    if (file.endsWith('.map')) throw new Error(`source map in dist: ${file}`);
  }
}
