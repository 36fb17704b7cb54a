// Composes the hub's subgraph SDLs with @apollo/composition and compares the result, meaning
// for meaning, with our checked-in schema/supergraph.graphql (composed by graphql-composition
// and adapted to Apollo's format). Run by scripts/check-composition.sh; exits 1 on a difference.
import { composeServices } from '@apollo/composition';
import { parse, print } from 'graphql';
import fs from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
const subgraphs = [
  ['region', 'http://127.0.0.1:4001/graphql'],
  ['national-table', 'http://127.0.0.1:4002/graphql'],
  ['contracting', 'http://127.0.0.1:4003/graphql'],
];
const result = composeServices(
  subgraphs.map(([name, url]) => ({ name, url, typeDefs: parse(fs.readFileSync(path.join(dir, `${name}.graphql`), 'utf8')) })),
);
if (result.errors) {
  console.error('@apollo/composition refused the SDLs:\n' + result.errors.map((e) => e.message).join('\n'));
  process.exit(1);
}
const ours = fs.readFileSync(path.join(dir, 'supergraph.graphql'), 'utf8');

const squash = (s) => (s ?? '').replace(/\s+/g, ' ').trim();
const args = (d) => Object.fromEntries((d.arguments ?? []).map((a) => [a.name.value, a.value.kind === 'StringValue' ? squash(a.value.value) : print(a.value)]));
const typeGraphs = (def) => (def.directives ?? []).filter((d) => d.name.value === 'join__type').map((d) => args(d).graph);

function describe(sdl) {
  const doc = parse(sdl);
  const out = new Map();
  for (const def of doc.definitions) {
    const name = def.name?.value;
    if (!name || name.startsWith('join__') || name.startsWith('link__') || def.kind === 'DirectiveDefinition') continue;
    const entry = [];
    entry.push(`kind ${def.kind}`);
    for (const d of def.directives ?? []) {
      if (d.name.value === 'join__type') {
        const a = args(d);
        entry.push(`join__type ${a.graph} key=${a.key ?? ''} extension=${a.extension ?? 'false'} resolvable=${a.resolvable ?? 'true'} interfaceObject=${a.isInterfaceObject ?? 'false'}`);
      } else if (['join__implements', 'join__unionMember'].includes(d.name.value)) {
        entry.push(`${d.name.value} ${JSON.stringify(args(d))}`);
      } else if (!d.name.value.startsWith('join__')) {
        entry.push(`@${print(d)}`);
      }
    }
    for (const i of def.interfaces ?? []) entry.push(`implements ${i.name.value}`);
    for (const t of def.types ?? []) entry.push(`member ${t.name.value}`);
    for (const v of def.values ?? []) {
      const graphs = (v.directives ?? []).filter((d) => d.name.value === 'join__enumValue').map((d) => args(d).graph);
      entry.push(`value ${v.name.value} ${graphs.sort().join(',')}`);
    }
    const graphsOfType = typeGraphs(def);
    for (const f of def.fields ?? []) {
      const fieldType = print(f.type);
      entry.push(`field ${f.name.value}: ${fieldType}`);
      for (const a of f.arguments ?? []) entry.push(`  arg ${f.name.value}(${a.name.value}: ${print(a.type)}${a.defaultValue ? ' = ' + print(a.defaultValue) : ''})`);
      const joins = (f.directives ?? []).filter((d) => d.name.value === 'join__field').map(args);
      // No @join__field means: in every subgraph that has the type, plainly.
      const expanded = joins.length ? joins : graphsOfType.map((graph) => ({ graph }));
      for (const j of expanded) {
        const type = j.type && j.type !== fieldType ? j.type : '';
        entry.push(`  join__field ${j.graph ?? ''} requires=${j.requires ?? ''} provides=${j.provides ?? ''} external=${j.external ?? 'false'} override=${j.override ?? ''} type=${type}`);
      }
      for (const d of f.directives ?? []) if (!d.name.value.startsWith('join__')) entry.push(`  @${print(d)}`);
    }
    out.set(name, entry.sort());
  }
  return out;
}

const a = describe(result.supergraphSdl);
const b = describe(ours);
const problems = [];
for (const name of new Set([...a.keys(), ...b.keys()])) {
  const x = a.get(name), y = b.get(name);
  if (!x) { problems.push(`${name}: only in ours`); continue; }
  if (!y) { problems.push(`${name}: missing from ours`); continue; }
  for (const line of x) if (!y.includes(line)) problems.push(`${name}: Apollo has "${line}", ours does not`);
  for (const line of y) if (!x.includes(line)) problems.push(`${name}: ours has "${line}", Apollo does not`);
}
if (problems.length) {
  console.error(`schema/supergraph.graphql differs from @apollo/composition's supergraph (${problems.length}):\n` + problems.join('\n'));
  process.exit(1);
}
console.log(`schema/supergraph.graphql means the same as @apollo/composition's supergraph (${a.size} types compared).`);
