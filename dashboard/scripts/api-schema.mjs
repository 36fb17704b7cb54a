// Derives the dashboard's schemas from the federation supergraph (../schema/supergraph.graphql):
//   schema/api.graphql     the API schema clients see: join/link machinery, @tag and @inaccessible
//                          parts removed (what the gateway serves to a signed-in caller);
//   schema/public.graphql  the public contract: only what is tagged @tag(name: "public"), with the
//                          same rules as the gateway's gateway/src/contract.rs (what anonymous callers
//                          and patient organisations may query).
// Output is deterministic (sorted by graphql's printer order of the input), so the build is reproducible.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, print, Kind, buildASTSchema, visit } from 'graphql';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const supergraphPath = join(root, '..', 'schema', 'supergraph.graphql');


const MACHINERY_TYPES = new Set(['join__Graph', 'join__FieldSet', 'link__Import', 'link__Purpose']);
const isMachineryDirective = (name) =>
  name === 'link' || name.startsWith('join__') || name.startsWith('link__') || name === 'inaccessible';

const hasDirective = (node, name) => (node.directives ?? []).some((d) => d.name.value === name);
const isPublicTag = (d) =>
  d.name.value === 'tag' &&
  d.arguments?.some((a) => a.name.value === 'name' && a.value.kind === Kind.STRING && a.value.value === 'public');
const taggedPublic = (node) => (node.directives ?? []).some(isPublicTag);



// Remove the federation machinery and everything marked @inaccessible.
function apiDocument(doc, keepTags) {
  const definitions = doc.definitions
    .filter((d) => !(d.kind === Kind.DIRECTIVE_DEFINITION && (isMachineryDirective(d.name.value) || d.name.value === 'tag')))
    .filter((d) => !(d.name && MACHINERY_TYPES.has(d.name.value)))
    .filter((d) => !hasDirective(d, 'inaccessible'));
  return visit({ ...doc, definitions }, {
    SchemaDefinition: (node) => ({ ...node, directives: [] }),
    FieldDefinition: (node) => (hasDirective(node, 'inaccessible') ? null : undefined),
    InputValueDefinition: (node) => (hasDirective(node, 'inaccessible') ? null : undefined),
    EnumValueDefinition: (node) => (hasDirective(node, 'inaccessible') ? null : undefined),
    Directive: (node) => (isMachineryDirective(node.name.value) || (!keepTags && node.name.value === 'tag') ? null : undefined),
  });
}

const stripTags = (doc) => visit(doc, { Directive: (n) => (n.name.value === 'tag' ? null : undefined) });


// Public contract, following gateway/src/contract.rs.
function publicDocument(doc) {
  const tagged = apiDocument(doc, true);
  const schemaDef = tagged.definitions.find((d) => d.kind === Kind.SCHEMA_DEFINITION);
  const roots = new Set(schemaDef ? schemaDef.operationTypes.map((o) => o.type.name.value) : ['Query', 'Mutation']);
  const defs = new Map(tagged.definitions.filter((d) => d.name).map((d) => [d.name.value, d]));
  const isObjectLike = (d) => d && (d.kind === Kind.OBJECT_TYPE_DEFINITION || d.kind === Kind.INTERFACE_TYPE_DEFINITION);
  const named = (t) => (t.kind === Kind.NAMED_TYPE ? t.name.value : named(t.type));
  // 1. tagged fields (or fields of tagged types; root fields only when tagged themselves)
  for (const [name, d] of defs) {
    if (!isObjectLike(d)) continue;
    const typeTagged = !roots.has(name) && taggedPublic(d);
    defs.set(name, { ...d, fields: d.fields.filter((f) => typeTagged || taggedPublic(f)) });
  }
  // 2. drop fields whose type has no fields left, until nothing changes
  for (let changed = true; changed; ) {
    changed = false;
    for (const [name, d] of defs) {
      if (!isObjectLike(d)) continue;
      const fields = d.fields.filter((f) => {
        const target = defs.get(named(f.type));
        return !(isObjectLike(target) && target.fields.length === 0);
      });
      if (fields.length !== d.fields.length) {
        defs.set(name, { ...d, fields });
        changed = true;
      }
    }
    for (const [name, d] of defs) {
      if (d.kind === Kind.UNION_TYPE_DEFINITION) {
        const types = d.types.filter((t) => defs.get(t.name.value)?.fields?.length);
        if (types.length !== d.types.length) {
          defs.set(name, { ...d, types });
          changed = true;
        }
      }
    }
  }
  for (const [name, d] of defs) {
    if (isObjectLike(d) && d.interfaces?.length) {
      const interfaces = d.interfaces.filter((i) => defs.get(i.name.value)?.fields?.length);
      defs.set(name, { ...d, interfaces });
    }
  }
  // 3. keep what is reachable from the roots
  const reachable = new Set();
  const queue = [...roots].filter((r) => defs.get(r)?.fields?.length);
  while (queue.length) {
    const name = queue.pop();
    if (reachable.has(name) || !defs.has(name)) continue;
    reachable.add(name);
    const d = defs.get(name);
    for (const f of d.fields ?? []) {
      queue.push(named(f.type));
      for (const a of f.arguments ?? []) queue.push(named(a.type));
    }
    for (const t of d.types ?? []) queue.push(t.name.value);
    for (const i of d.interfaces ?? []) queue.push(i.name.value);
  }
  const rootsKept = [...roots].filter((r) => reachable.has(r));
  const definitions = tagged.definitions
    .map((d) => {
      if (d.kind === Kind.SCHEMA_DEFINITION) {
        return { ...d, operationTypes: d.operationTypes.filter((o) => rootsKept.includes(o.type.name.value)) };
      }
      if (d.kind === Kind.DIRECTIVE_DEFINITION) return d;
      return d.name && reachable.has(d.name.value) ? defs.get(d.name.value) : null;
    })
    .filter(Boolean);
  return stripTags({ ...tagged, definitions });
}

/** The API schema and the public contract (graphql DocumentNodes) of a supergraph. */
export function deriveSchemas(supergraph) {
  const full = parse(supergraph, { noLocation: true });
  return { api: stripTags(apiDocument(full, false)), public: publicDocument(full) };
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const source = readFileSync(supergraphPath, 'utf8');
  const { api, public: pub } = deriveSchemas(source);
  mkdirSync(join(root, 'schema'), { recursive: true });
  const header = (what) =>
    `# GENERATED by dashboard/scripts/api-schema.mjs from schema/supergraph.graphql: ${what}. Do not edit.\n\n`;

  for (const [file, doc, what] of [
    ['api.graphql', api, 'the API schema'],
    ['public.graphql', pub, 'the public contract schema (@tag(name: "public"))'],
  ]) {
    buildASTSchema(doc); // throws when invalid
    writeFileSync(join(root, 'schema', file), header(what) + print(doc) + '\n');
  }
  console.log('schema/api.graphql and schema/public.graphql written');
}
