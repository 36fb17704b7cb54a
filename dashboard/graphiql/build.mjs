// Copies the UMD builds of graphiql, react and react-dom (versions pinned in package.json and
// package-lock.json) and our own start script into dist/, which is committed and embedded in the
// gateway binary (served under /graphiql/). Source-map comments are dropped: the maps are not
// shipped, and a browser would ask the hub for them. The licences go along.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const here = dirname(new URL(import.meta.url).pathname);
const dist = join(here, 'dist');
const root = (name) => dirname(require.resolve(`${name}/package.json`));
const version = (name) => JSON.parse(readFileSync(join(root(name), 'package.json'), 'utf8')).version;

const files = [
  ['graphiql', 'graphiql.min.js', 'graphiql.min.js'],
  ['graphiql', 'graphiql.min.css', 'graphiql.min.css'],
  ['react', 'umd/react.production.min.js', 'react.production.min.js'],
  ['react-dom', 'umd/react-dom.production.min.js', 'react-dom.production.min.js'],
];

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
for (const [name, from, to] of files) {
  const text = readFileSync(join(root(name), from), 'utf8').replace(/\n?\/[*/]# sourceMappingURL=\S+?(?: \*\/)?\s*$/, '\n');
  writeFileSync(join(dist, to), text);
}
copyFileSync(join(here, 'src', 'init.js'), join(dist, 'init.js'));

const licences = ['graphiql', 'react', 'react-dom']
  .map((name) => `${name} ${version(name)}\n\n${readFileSync(join(root(name), 'LICENSE'), 'utf8').trim()}\n`)
  .join('\n----------------------------------------------------------------------\n\n');
writeFileSync(join(dist, 'LICENSES.txt'), licences);
writeFileSync(
  join(dist, 'VERSIONS.json'),
  JSON.stringify(Object.fromEntries(['graphiql', 'react', 'react-dom'].map((n) => [n, version(n)])), null, 2) + '\n',
);
console.log(`dist/: graphiql ${version('graphiql')}, react ${version('react')}, react-dom ${version('react-dom')}`);
