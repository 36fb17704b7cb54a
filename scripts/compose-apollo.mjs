// Composes subgraph SDLs with @apollo/composition and compares the result, meaning for meaning,
// with a supergraph our composer wrote (graphql-composition adapted to Apollo's format).
// Usage: node compose-apollo.mjs <dir>/supergraph.graphql ...
// The subgraphs are the other `*.graphql` files beside each supergraph, named after the file; their
// URLs are taken from our `@join__graph(name:, url:)`. Compared, order-insensitively: the schema's
// root types and `@link`s, which federation directive definitions exist, the join__Graph values,
// and for every type, field, argument, input field and enum value its kind, type, default value,
// description and directives (join__type, join__field, join__implements, join__unionMember,
// join__enumValue with all their arguments; @inaccessible, @tag, ...). Exits 1 on a difference.
// Run by scripts/check-composition.sh, which installs @apollo/composition (and its `graphql`).
import { composeServices } from '@apollo/composition';
import { Kind, parse, print } from 'graphql';
import fs from 'node:fs';
import path from 'node:path';

const squash = (s) => (s ?? '').replace(/\s+/g, ' ').trim();
const value = (v) => (v.kind === Kind.STRING ? JSON.stringify(squash(v.value)) : print(v));
const args = (d) => Object.fromEntries((d.arguments ?? []).map((a) => [a.name.value, value(a.value)]));
const describeDirective = (d) => {
  const a = Object.entries(args(d)).sort(([x], [y]) => x.localeCompare(y));
  return `@${d.name.value}(${a.map(([k, v]) => `${k}: ${v}`).join(', ')})`;
};
const description = (node) => (node.description ? `description ${JSON.stringify(squash(node.description.value))}` : 'no description');

// Apollo leaves out arguments that equal the directive's default; spell them out on both sides.
const JOIN_TYPE_DEFAULTS = { extension: 'false', resolvable: 'true', isInterfaceObject: 'false' };

/** Every fact about `sdl` worth comparing, as a map from a location to a sorted list of lines. */
function describe(sdl) {
  const doc = parse(sdl);
  const out = new Map();
  const add = (where, line) => {
    if (!out.has(where)) out.set(where, []);
    out.get(where).push(line);
  };
  for (const def of doc.definitions) {
    if (def.kind === Kind.SCHEMA_DEFINITION || def.kind === Kind.SCHEMA_EXTENSION) {
      for (const op of def.operationTypes ?? []) add('schema', `${op.operation}: ${op.type.name.value}`);
      for (const d of def.directives ?? []) {
        const a = args(d);
        add('schema', `@${d.name.value} url=${a.url ?? ''} for=${a.for ?? ''} import=${a.import ?? ''}`);
      }
      continue;
    }
    const name = def.name.value;
    if (def.kind === Kind.DIRECTIVE_DEFINITION) {
      // join__* and link definitions are fixed by their specs; the rest (@inaccessible, @tag,
      // composed directives) must be there exactly when Apollo has them.
      if (!name.startsWith('join__') && name !== 'link') {
        add(`directive @${name}`, `${def.repeatable ? 'repeatable ' : ''}on ${def.locations.map((l) => l.value).sort().join(' | ')}`);
      }
      continue;
    }
    if (name.startsWith('link__') || name === 'join__FieldSet') continue;
    if (name === 'join__Graph') {
      for (const v of def.values) add(name, `${v.name.value} ${v.directives.map(describeDirective).join(' ')}`);
      continue;
    }
    add(name, `kind ${def.kind}`);
    add(name, description(def));
    const typeGraphs = [];
    for (const d of def.directives ?? []) {
      if (d.name.value === 'join__type') {
        const a = { ...JOIN_TYPE_DEFAULTS, ...args(d) };
        typeGraphs.push(a.graph);
        add(name, `@join__type graph=${a.graph} key=${a.key ?? ''} extension=${a.extension} resolvable=${a.resolvable} isInterfaceObject=${a.isInterfaceObject}`);
      } else {
        add(name, describeDirective(d));
      }
    }
    for (const i of def.interfaces ?? []) add(name, `implements ${i.name.value}`);
    for (const t of def.types ?? []) add(name, `member ${t.name.value}`);
    for (const v of def.values ?? []) {
      const where = `${name}.${v.name.value}`;
      add(where, 'enum value');
      add(where, description(v));
      for (const d of v.directives ?? []) add(where, describeDirective(d));
    }
    for (const f of def.fields ?? []) {
      const where = `${name}.${f.name.value}`;
      const fieldType = print(f.type);
      add(where, `type ${fieldType}${f.defaultValue ? ' = ' + print(f.defaultValue) : ''}`);
      add(where, description(f));
      for (const a of f.arguments ?? []) {
        add(where, `arg ${a.name.value}: ${print(a.type)}${a.defaultValue ? ' = ' + print(a.defaultValue) : ''} ${description(a)}`);
        for (const d of a.directives ?? []) add(where, `arg ${a.name.value} ${describeDirective(d)}`);
      }
      const joins = (f.directives ?? []).filter((d) => d.name.value === 'join__field').map(args);
      // No @join__field at all means: in every subgraph that has the type, plainly.
      const expanded = joins.length ? joins : typeGraphs.map((graph) => ({ graph }));
      for (const j of expanded) {
        // `type:` only matters where it differs from the supergraph's type.
        const type = j.type && j.type !== JSON.stringify(fieldType) ? j.type : '';
        add(
          where,
          `@join__field graph=${j.graph ?? ''} requires=${j.requires ?? ''} provides=${j.provides ?? ''} external=${j.external ?? 'false'} override=${j.override ?? ''} usedOverridden=${j.usedOverridden ?? 'false'} type=${type}`,
        );
      }
      for (const d of f.directives ?? []) if (d.name.value !== 'join__field') add(where, describeDirective(d));
    }
  }
  for (const lines of out.values()) lines.sort();
  return out;
}

/** The differences between Apollo's supergraph and ours for the subgraphs beside `supergraphPath`. */
function compare(supergraphPath) {
  const dir = path.dirname(supergraphPath);
  const ours = fs.readFileSync(supergraphPath, 'utf8');
  const urls = new Map();
  for (const def of parse(ours).definitions) {
    if (def.name?.value !== 'join__Graph') continue;
    for (const v of def.values) {
      const a = args(v.directives.find((d) => d.name.value === 'join__graph'));
      urls.set(JSON.parse(a.name), JSON.parse(a.url));
    }
  }
  const names = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.graphql') && f !== path.basename(supergraphPath))
    .map((f) => f.slice(0, -'.graphql'.length))
    .sort();
  const problems = [];
  for (const name of names) if (!urls.has(name)) problems.push(`subgraph ${name}: missing from ours`);
  for (const name of urls.keys()) if (!names.includes(name)) problems.push(`subgraph ${name}: in ours, but no ${name}.graphql beside it`);
  const result = composeServices(
    names.map((name) => ({
      name,
      url: urls.get(name) ?? `http://${name}`,
      typeDefs: parse(fs.readFileSync(path.join(dir, `${name}.graphql`), 'utf8')),
    })),
  );
  if (result.errors) {
    return [`@apollo/composition refused the SDLs:\n${result.errors.map((e) => e.message).join('\n')}`];
  }
  const apollo = describe(result.supergraphSdl);
  const mine = describe(ours);
  for (const where of [...new Set([...apollo.keys(), ...mine.keys()])].sort()) {
    const x = apollo.get(where);
    const y = mine.get(where);
    if (!x) problems.push(`${where}: only in ours`);
    else if (!y) problems.push(`${where}: missing from ours`);
    else {
      for (const line of x) if (!y.includes(line)) problems.push(`${where}: Apollo has "${line}", ours does not`);
      for (const line of y) if (!x.includes(line)) problems.push(`${where}: ours has "${line}", Apollo does not`);
    }
  }
  return problems.length ? problems : { compared: apollo.size };
}

let failed = false;
for (const supergraphPath of process.argv.slice(2)) {
  const outcome = compare(supergraphPath);
  if (Array.isArray(outcome)) {
    failed = true;
    console.error(`${supergraphPath} differs from @apollo/composition's supergraph (${outcome.length}):\n  ${outcome.join('\n  ')}`);
  } else {
    console.log(`${supergraphPath}: same as @apollo/composition's (${outcome.compared} schema elements compared)`);
  }
}
process.exit(failed ? 1 : 0);
