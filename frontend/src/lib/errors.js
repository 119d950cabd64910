import { has, t } from '../i18n/index.js';

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

// The catalogue key that explains an error code to a person. A RATE_LIMITED refusal that
// carries a reason the catalogue words (a code's tries used up, code sign-in locked) is one
// that waiting does not mend: not « try again later », its reason's sentence says what to do.
export function errorMessageKey(code, resultOrError) {
  switch (code) {
    case null:
    case undefined:
      return null;
    case 'UNAUTHENTICATED':
      return 'error.unauthenticated';
    case 'FORBIDDEN':
      // A refusal with a reason (the owner's write on a record waiting for its deletion) is
      // not a matter of access: the reason says what to do.
      return worded(resultOrError) ? 'error.notNow' : 'error.forbidden';
    case 'BAD_USER_INPUT':
      return 'error.badInput';
    case 'NOT_FOUND':
      return 'error.notFound';
    case 'RATE_LIMITED':
      // The sentence after it says what to do (a reason's), or when to try again (retryAfter).
      return worded(resultOrError) || retryAfter(resultOrError) ? 'error.tooManyTries' : 'error.rateLimited';
    case 'CONFLICT':
      return 'error.conflict';
    case 'NETWORK':
      return 'error.network';
    default:
      return 'error.internal';
  }
}

// The codes whose errors may carry a reason (backend/domain/reasons.py).
const WITH_REASONS = ['BAD_USER_INPUT', 'RATE_LIMITED', 'FORBIDDEN'];

// The first error's extensions, when they carry a reason the catalogue words.
function worded(resultOrError) {
  const error = resultOrError?.error ?? resultOrError;
  const extensions = (error?.graphQLErrors ?? [])[0]?.extensions;
  if (!WITH_REASONS.includes(extensions?.code)) return null;
  return extensions.reason && has(`reason.${extensions.reason}`) ? extensions : null;
}

// What was wrong with the input, for BAD_USER_INPUT (and, for RATE_LIMITED, what to do
// instead of waiting): the sentence the catalogue has for the error's `extensions.reason`,
// filled with the values that travel beside it. The server's own message is English written
// for developers (a request the page should not have sent, a body over the server's bound):
// never shown; error.badInput says it.
// A RATE_LIMITED refusal without such a reason that says when its limit's window ends
// (`extensions.retryAfter`, in seconds) says when to try again instead.
export function errorDetail(resultOrError) {
  const extensions = worded(resultOrError);
  if (!extensions) return retryWhen(retryAfter(resultOrError));
  const { reason, field, sections, profession, ...rest } = extensions;
  return t(`reason.${reason}`, {
    ...rest,
    field: fieldLabel(field),
    profession: profession && known(`profession.${profession}`, profession),
    sections: Array.isArray(sections) ? sections.map((s) => known(`section.${s}`, s)).join(', ') : sections,
  });
}

// The seconds a RATE_LIMITED refusal says to wait (`extensions.retryAfter`, the time until the
// limit's window ends), when it says a number the page can word; null otherwise. A refusal with
// a reason the catalogue words is not one: its reason's sentence says what to do (waiting does
// not mend a locked sign-in by code).
export function retryAfter(resultOrError) {
  const error = resultOrError?.error ?? resultOrError;
  const extensions = (error?.graphQLErrors ?? error?.errors ?? [])[0]?.extensions;
  if (extensions?.code !== 'RATE_LIMITED' || worded(resultOrError)) return null;
  const seconds = extensions.retryAfter;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 ? seconds : null;
}

// « Réessayez dans 12 minutes. »: the wait rounded up, in minutes below an hour, in hours from
// an hour on (never a shorter wait than the server's: tried again sooner, it is refused again).
export function retryWhen(seconds) {
  if (!seconds) return null;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return t('error.retryInMinutes', { n: minutes });
  return t('error.retryInHours', { n: Math.ceil(seconds / 3600) });
}

// The catalogue's text for `key`, or `raw` as the server sent it when the page has none.
function known(key, raw) {
  return has(key) ? t(key) : raw;
}

// An input's name as the API spells it (`title`, `details.cip13`), as the page names it.
export function fieldLabel(field) {
  if (!field) return '';
  const detail = field.startsWith('details.') ? field.slice('details.'.length) : field;
  return known(`field.${field}`, known(`detail.${detail}`, field));
}

// The id of a request that met a fault on the service's side (its X-Request-Id header), for the
// person to give to support, who finds the request's log line by it; null for any other error.
export function requestReference(resultOrError) {
  const code = errorCode(resultOrError);
  const response = (resultOrError?.error ?? resultOrError)?.response;
  if (code !== 'INTERNAL' && !(code === 'NETWORK' && response?.status >= 500)) return null;
  const id = response?.headers?.get?.('x-request-id');
  return typeof id === 'string' && /^[0-9a-f]{8,64}$/i.test(id) ? id : null;
}
