// GraphQL errors carry extensions.code; the page reacts to the code, never to the message text.
export const CODES = ['UNAUTHENTICATED', 'FORBIDDEN', 'BAD_USER_INPUT', 'NOT_FOUND', 'RATE_LIMITED', 'CONFLICT', 'INTERNAL'];

// The first error code of an urql result (or CombinedError), 'NETWORK' when the request failed.
export function errorCode(resultOrError) {
  const error = resultOrError?.error ?? resultOrError;
  if (!error) return null;
  if (error.networkError) return 'NETWORK';
  const list = error.graphQLErrors ?? error.errors ?? [];
  for (const e of list) {
    const code = e?.extensions?.code;
    if (code) return CODES.includes(code) ? code : 'INTERNAL';
  }
  return list.length ? 'INTERNAL' : null;
}

export function isUnauthenticated(resultOrError) {
  return errorCode(resultOrError) === 'UNAUTHENTICATED';
}

// The catalogue key that explains an error code to a person.
export function errorMessageKey(code) {
  switch (code) {
    case null:
    case undefined:
      return null;
    case 'UNAUTHENTICATED':
      return 'error.unauthenticated';
    case 'FORBIDDEN':
      return 'error.forbidden';
    case 'BAD_USER_INPUT':
      return 'error.badInput';
    case 'NOT_FOUND':
      return 'error.notFound';
    case 'RATE_LIMITED':
      return 'error.rateLimited';
    case 'CONFLICT':
      return 'error.conflict';
    case 'NETWORK':
      return 'error.network';
    default:
      return 'error.internal';
  }
}

// The server's own message for BAD_USER_INPUT is written for the person (e.g. "invalid INS").
export function errorDetail(resultOrError) {
  const error = resultOrError?.error ?? resultOrError;
  const first = (error?.graphQLErrors ?? [])[0];
  return first?.extensions?.code === 'BAD_USER_INPUT' ? first.message : null;
}
