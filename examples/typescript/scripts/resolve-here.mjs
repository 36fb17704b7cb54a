// A module resolve hook (node:module `register`): package imports ('graphql') resolve from this
// package's node_modules, whichever file imports them. Relative and absolute ones are untouched.
const here = import.meta.url;

export async function resolve(specifier, context, nextResolve) {
  const isPackage = !/^(\.|\/|[a-z]+:)/i.test(specifier);
  return nextResolve(specifier, isPackage ? { ...context, parentURL: here } : context);
}
