// The hub's own schema checks (issue 22), run in CI by scripts/check-schema-changes.sh:
//   1. the API schema and the public contract derived from schema/supergraph.graphql, compared
//      with those of the last release (schema/released/) by GraphQL Inspector: a breaking change
//      fails the check unless it is declared in schema/breaking-changes.json, or it removes a
//      field or enum value that the release had deprecated with a removal date now passed
//      (`@deprecated(reason: "… Removal on or after 2027-06-01.")`), as docs/partners.md's
//      change policy says;
//   2. every operation in the trusted-document manifests validated against the new schemas: the
//      dashboard's public operations (operations.json) against the public contract, a gateway
//      manifest ({"<organisation or *>": {"<sha256>": "<query>"}}, named with --manifest or
//      GGZHUB_TRUSTED_DOCUMENTS, several separated by ':') against the API schema.
// `node scripts/schema-check.mjs --release` records the current schemas as the released ones and
// empties the declarations (they were for this release).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { diff, CriticalityLevel } from '@graphql-inspector/core';
import { buildASTSchema, buildSchema, parse, print, validate } from 'graphql';
import { deriveSchemas } from './api-schema.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');

const REMOVAL_DATE = /removal (?:on or after|after|on) (\d{4}-\d{2}-\d{2})/i;

/** The deprecation reasons of fields, input fields, arguments and enum values, by inspector path. */
function deprecations(schema) {
  const found = new Map();
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    const fields = typeof type.getFields === 'function' ? Object.values(type.getFields()) : [];
    for (const field of fields) {
      if (field.deprecationReason) found.set(`${type.name}.${field.name}`, field.deprecationReason);
      for (const arg of field.args ?? []) {
        if (arg.deprecationReason) found.set(`${type.name}.${field.name}.${arg.name}`, arg.deprecationReason);
      }
    }
    const values = typeof type.getValues === 'function' ? type.getValues() : [];
    for (const value of values) {
      if (value.deprecationReason) found.set(`${type.name}.${value.name}`, value.deprecationReason);
    }
  }
  return found;
}

/** Checks a declarations file's entries; returns the problems. */
export function checkDeclarations(declared) {
  const problems = [];
  if (!Array.isArray(declared)) return ['schema/breaking-changes.json must be a JSON array'];
  declared.forEach((entry, i) => {
    for (const key of ['path', 'reason', 'announced']) {
      if (typeof entry?.[key] !== 'string' || !entry[key].trim()) problems.push(`entry ${i}: "${key}" is missing`);
    }
    if (typeof entry?.announced === 'string' && !/^\d{4}-\d{2}-\d{2}$/.test(entry.announced)) {
      problems.push(`entry ${i}: "announced" is not a date (YYYY-MM-DD)`);
    }
  });
  return problems;
}

/**
 * Compares one schema with its released version.
 * Returns { breaking: [refused change], allowed: [[change, why]], dangerous: [change], safe: [change] }.
 */
export async function compare(releasedSdl, currentSdl, { declared = [], today = new Date().toISOString().slice(0, 10) } = {}) {
  const released = buildSchema(releasedSdl);
  const current = buildSchema(currentSdl);
  const deprecated = deprecations(released);
  const result = { breaking: [], allowed: [], dangerous: [], safe: [] };
  for (const change of await diff(released, current)) {
    if (change.criticality.level === CriticalityLevel.Dangerous) {
      result.dangerous.push(change);
      continue;
    }
    if (change.criticality.level !== CriticalityLevel.Breaking) {
      result.safe.push(change);
      continue;
    }
    const declaration = declared.find((d) => d.path === change.path && (!d.type || d.type === change.type));
    if (declaration) {
      result.allowed.push([change, `declared (announced ${declaration.announced}): ${declaration.reason}`]);
      continue;
    }
    const reason = change.path ? deprecated.get(change.path) : undefined;
    const removal = reason?.match(REMOVAL_DATE)?.[1];
    const removed = change.type === 'FIELD_REMOVED' || change.type === 'ENUM_VALUE_REMOVED' || change.type === 'INPUT_FIELD_REMOVED' || change.type === 'FIELD_ARGUMENT_REMOVED';
    if (removed && removal && removal <= today) {
      result.allowed.push([change, `deprecated in the release with removal on or after ${removal}`]);
      continue;
    }
    result.breaking.push(change);
  }
  return result;
}

/** Validates every document of `documents` ([{ name, text }]) against `sdl`; returns the failures. */
export function validateOperations(sdl, documents) {
  const schema = buildSchema(sdl);
  const failures = [];
  for (const { name, text } of documents) {
    let errors;
    try {
      errors = validate(schema, parse(text));
    } catch (error) {
      errors = [error];
    }
    if (errors.length) failures.push({ name, messages: errors.map((e) => e.message) });
  }
  return failures;
}

/** The documents of a gateway trusted-documents manifest, or of a flat {hash: text} one. */
export function manifestDocuments(file, json) {
  const documents = [];
  for (const [key, value] of Object.entries(json)) {
    if (typeof value === 'string') documents.push({ name: `${file} ${key.slice(0, 12)}`, text: value });
    else for (const [hash, text] of Object.entries(value)) documents.push({ name: `${file} ${key} ${hash.slice(0, 12)}`, text });
  }
  return documents;
}

const schemaText = (doc) => print(doc) + '\n';

async function main(argv) {
  const supergraph = readFileSync(join(repo, 'schema', 'supergraph.graphql'), 'utf8');
  const derived = deriveSchemas(supergraph);
  buildASTSchema(derived.api);
  buildASTSchema(derived.public);
  const current = { api: schemaText(derived.api), public: schemaText(derived.public) };
  const releasedDir = join(repo, 'schema', 'released');
  const declarationsFile = join(repo, 'schema', 'breaking-changes.json');
  const header = (what) =>
    `# The ${what} at the last release (dashboard/scripts/schema-check.mjs --release). Do not edit:\n# CI compares the current schema with it.\n\n`;
  if (argv.includes('--release')) {
    writeFileSync(join(releasedDir, 'api.graphql'), header('API schema') + current.api);
    writeFileSync(join(releasedDir, 'public.graphql'), header('public contract schema') + current.public);
    writeFileSync(declarationsFile, '[]\n');
    console.log('schema/released/ now holds the current API schema and public contract; declarations emptied');
    return 0;
  }
  let failed = false;
  const declared = JSON.parse(readFileSync(declarationsFile, 'utf8'));
  const problems = checkDeclarations(declared);
  for (const p of problems) console.error(`schema/breaking-changes.json: ${p}`);
  failed ||= problems.length > 0;

  for (const [kind, label] of [['api', 'API schema'], ['public', 'public contract']]) {
    const released = readFileSync(join(releasedDir, `${kind}.graphql`), 'utf8');
    const result = await compare(released, current[kind], { declared });
    console.log(`${label}: ${result.safe.length} safe, ${result.dangerous.length} dangerous, ${result.allowed.length} allowed breaking, ${result.breaking.length} breaking change(s) against the release`);
    for (const c of result.dangerous) console.log(`  dangerous: ${c.message}`);
    for (const [c, why] of result.allowed) console.log(`  allowed breaking: ${c.message} — ${why}`);
    for (const c of result.breaking) {
      console.error(`  BREAKING (${c.path ?? c.type}): ${c.message}`);
    }
    if (result.breaking.length) {
      console.error(`  a partner's operation may stop working: make the change additive, deprecate first (docs/partners.md, "Changes to the schema"), or declare it in schema/breaking-changes.json`);
      failed = true;
    }
  }

  const manifests = [{ file: join(repo, 'dashboard', 'operations.json'), contract: 'public' }];
  const named = [];
  for (let i = 0; i < argv.length; i++) if (argv[i] === '--manifest' && argv[i + 1]) named.push(argv[++i]);
  for (const f of (process.env.GGZHUB_TRUSTED_DOCUMENTS ?? '').split(':').filter(Boolean)) named.push(f);
  for (const f of named) manifests.push({ file: resolve(f), contract: 'api' });
  for (const { file, contract } of manifests) {
    if (!existsSync(file)) {
      console.error(`${file}: no such manifest`);
      failed = true;
      continue;
    }
    const documents = manifestDocuments(file.replace(repo + '/', ''), JSON.parse(readFileSync(file, 'utf8')));
    const failures = validateOperations(current[contract], documents);
    console.log(`${file.replace(repo + '/', '')}: ${documents.length - failures.length}/${documents.length} operations valid against the ${contract === 'public' ? 'public contract' : 'API schema'}`);
    for (const f of failures) console.error(`  INVALID ${f.name}: ${f.messages.join('; ')}`);
    failed ||= failures.length > 0;
  }
  console.log(failed ? 'schema check FAILED' : 'schema check passed');
  return failed ? 1 : 0;
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1]);
if (isMain) process.exitCode = await main(process.argv.slice(2));
