import { Client, fetchExchange, cacheExchange, mapExchange } from '@urql/core';

/**
 * The GraphQL client. Requests are POST application/json (the gateway's CSRF prevention admits them
 * without a token); signed in, the access token goes along as `Authorization: Bearer`.
 * `onUnauthenticated` runs when the gateway answers UNAUTHENTICATED (an expired session).
 */
export function createClient(url: string, token: string | undefined, onUnauthenticated: () => void): Client {
  return new Client({
    url,
    preferGetMethod: false,
    requestPolicy: 'cache-and-network',
    // `application/json` (not graphql-response+json): a field the caller may not query is then a
    // 200 answer with errors the view explains, not an HTTP 400 the browser reports as a failure.
    fetchOptions: () => ({
      headers: (token ? { accept: 'application/json', authorization: `Bearer ${token}` } : { accept: 'application/json' }) as Record<string, string>,
    }),
    exchanges: [
      cacheExchange,
      mapExchange({
        onError(error) {
          const unauthenticated =
            error.response?.status === 401 ||
            error.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED');
          if (unauthenticated && token) onUnauthenticated();
        },
      }),
      fetchExchange,
    ],
  });
}
