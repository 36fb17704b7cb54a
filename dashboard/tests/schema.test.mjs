// The schemas the dashboard's operations are typed against match what the running gateway serves:
// the derived API schema equals the gateway's schema for a signed-in national table, the derived public
// contract equals what a patient organisation gets (the gateway's contract rules, gateway/src/contract.rs).
// Also: every anonymous request the dashboard can make is in the trusted-documents manifest.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildASTSchema, buildClientSchema, getIntrospectionQuery, isObjectType, isInterfaceType, isEnumType, isInputObjectType } from 'graphql';
import { deriveSchemas } from '../scripts/api-schema.mjs';
import { dashboardRoot, repoRoot, startEnvironment } from './harness.mjs';

let env;
before(async () => {
  env = await startEnvironment();
});
after(async () => {
  await env?.stop();
});

/** "Type.field(args)" lines of every non-introspection type, sorted, to compare two schemas. */
function shape(schema) {
  const lines = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        const args = (field.args ?? []).map((a) => `${a.name}: ${a.type}`).join(', ');
        lines.push(`${type.name}.${field.name}(${args}): ${field.type}`);
      }
    } else if (isEnumType(type)) {
      lines.push(`${type.name} = ${type.getValues().map((v) => v.name).join(' | ')}`);
    } else {
      lines.push(type.name);
    }
  }
  return lines.sort();
}

async function introspect(kind) {
  const token = env.tokens.find((t) => t.kind === kind).token;
  const response = await fetch(`${env.gatewayUrl ?? env.baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: getIntrospectionQuery() }),
  });
  const body = await response.json();
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return buildClientSchema(body.data);
}

const supergraph = () => readFileSync(join(repoRoot, 'schema', 'supergraph.graphql'), 'utf8');

test('the derived API schema is the schema the gateway serves a signed-in caller', async () => {
  const derived = buildASTSchema(deriveSchemas(supergraph()).api);
  assert.deepEqual(shape(derived), shape(await introspect('NATIONAL_TABLE')));
});

test('the derived public contract is the schema the gateway serves a patient organisation', async () => {
  const derived = buildASTSchema(deriveSchemas(supergraph()).public);
  const served = shape(await introspect('PATIENT_ORGANISATION'));
  assert.deepEqual(shape(derived), served);
  assert.ok(!served.some((l) => l.startsWith('CareOffer.capacity')), 'capacity is not public');
});

test('the manifest lists every public operation the app sends, hashed exactly', () => {
  const manifest = JSON.parse(readFileSync(join(dashboardRoot, 'operations.json'), 'utf8'));
  const persisted = JSON.parse(readFileSync(join(dashboardRoot, 'src', 'gql-public', 'persisted-documents.json'), 'utf8'));
  for (const text of Object.values(persisted)) assert.ok(Object.values(manifest).includes(text));
  assert.ok(Object.keys(manifest).every((k) => /^[0-9a-f]{64}$/.test(k)));
});
