// The urql client: same origin, session cookie, and the X-DMP-Client header the server asks of uploads.
import { Client, fetchExchange } from '@urql/core';

export function createClient(url = '/graphql') {
  return new Client({
    url,
    exchanges: [fetchExchange],
    requestPolicy: 'network-only',
    preferGetMethod: false,
    fetchOptions: () => ({
      credentials: 'same-origin',
      headers: { 'X-DMP-Client': 'web' },
    }),
  });
}

export const client = createClient();
