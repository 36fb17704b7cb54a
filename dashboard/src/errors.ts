import type { CombinedError } from '@urql/core';

/** How a part of the answer came back: present, hidden by the gateway, or not available. */
export type PartState = 'ok' | 'forbidden' | 'unavailable';

const pathStartsWith = (path: readonly (string | number)[] | undefined, prefix: readonly (string | number)[]) =>
  !!path && prefix.every((p, i) => p === '*' || path[i] === p);

/** The state of the part of the answer under `prefix` ('*' matches any list index). */
export function partState(error: CombinedError | undefined, prefix: readonly (string | number)[]): PartState {
  if (!error) return 'ok';
  if (error.networkError) return 'unavailable';
  const errors = error.graphQLErrors.filter((e) => pathStartsWith(e.path, prefix) || !e.path);
  if (errors.length === 0) return 'ok';
  if (errors.every((e) => e.extensions?.code === 'FORBIDDEN' || e.extensions?.code === 'UNAUTHENTICATED')) return 'forbidden';
  return 'unavailable';
}

/** Whether the hub does not know the operation's fields yet (an older schema). */
export function isSchemaMismatch(error: CombinedError | undefined): boolean {
  return !!error?.graphQLErrors.some(
    (e) => e.extensions?.code === 'GRAPHQL_VALIDATION_FAILED' || /Cannot query field/.test(e.message),
  );
}

export function errorCode(error: CombinedError | undefined): string | undefined {
  return error?.graphQLErrors.find((e) => e.extensions?.code)?.extensions?.code as string | undefined;
}

/**
 * For operations only signed-in callers send (checked against the full API schema at build time): a
 * validation failure at run time means the caller's own schema (the public contract, e.g. for a patient
 * organisation) lacks the field, so it is "no access", not "not available".
 */
export function signedInPartState(error: CombinedError | undefined, prefix: readonly (string | number)[]): PartState {
  if (isSchemaMismatch(error) && !error?.networkError) return 'forbidden';
  return partState(error, prefix);
}
