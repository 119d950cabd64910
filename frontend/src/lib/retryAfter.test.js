import { afterEach, describe, expect, it } from 'vitest';
import { errorDetail, errorMessageKey, retryAfter, retryWhen } from './errors.js';
import { setLanguage, t } from '../i18n/index.js';

// A RATE_LIMITED refusal as the service sends it, with the seconds until its limit's window ends.
const limited = (extensions) => ({
  code: 'RATE_LIMITED',
  error: { graphQLErrors: [{ message: 'English text', extensions: { code: 'RATE_LIMITED', ...extensions } }] },
});
// What ErrorBox (components/Status.jsx) shows of it: its headline, then its detail.
const shown = (result) => [t(errorMessageKey(result.code, result)), errorDetail(result)];

afterEach(() => setLanguage('fr'));

describe('a refusal past a rate limit that says when its window ends', () => {
  it('says when to try again, rounded up to the minute', () => {
    setLanguage('fr');
    expect(shown(limited({ retryAfter: 690 }))).toEqual(['Trop de tentatives.', 'Réessayez dans 12 minutes.']);
    expect(errorDetail(limited({ retryAfter: 720 }))).toBe('Réessayez dans 12 minutes.');
    expect(errorDetail(limited({ retryAfter: 1 }))).toBe('Réessayez dans 1 minute.');
    expect(errorDetail(limited({ retryAfter: 60 }))).toBe('Réessayez dans 1 minute.');
    expect(errorDetail(limited({ retryAfter: 61 }))).toBe('Réessayez dans 2 minutes.');
    expect(errorDetail(limited({ retryAfter: 3540 }))).toBe('Réessayez dans 59 minutes.');
  });

  it('says it in hours from an hour on, rounded up', () => {
    setLanguage('fr');
    expect(errorDetail(limited({ retryAfter: 3541 }))).toBe('Réessayez dans 1 heure.');
    expect(errorDetail(limited({ retryAfter: 3600 }))).toBe('Réessayez dans 1 heure.');
    expect(errorDetail(limited({ retryAfter: 3601 }))).toBe('Réessayez dans 2 heures.');
    expect(errorDetail(limited({ retryAfter: 14 * 3600 + 5 }))).toBe('Réessayez dans 15 heures.');
  });

  it('in the page language', () => {
    setLanguage('en');
    expect(shown(limited({ retryAfter: 690 }))).toEqual(['Too many attempts.', 'Try again in 12 minutes.']);
    expect(errorDetail(limited({ retryAfter: 30 }))).toBe('Try again in 1 minute.');
    expect(errorDetail(limited({ retryAfter: 7200 }))).toBe('Try again in 2 hours.');
  });

  it('reads it from a result or from the error itself, as errorCode does', () => {
    const result = limited({ retryAfter: 690 });
    expect(retryAfter(result)).toBe(690);
    expect(retryAfter(result.error)).toBe(690);
    expect(retryAfter({ errors: result.error.graphQLErrors })).toBe(690);
    expect(retryWhen(null)).toBeNull();
  });
});

describe('a refusal past a rate limit without a usable retryAfter', () => {
  it('keeps « Réessayez plus tard »', () => {
    setLanguage('fr');
    for (const extensions of [{}, { retryAfter: 0 }, { retryAfter: -5 }, { retryAfter: '690' }, { retryAfter: null }, { retryAfter: Infinity }]) {
      const result = limited(extensions);
      expect(errorMessageKey(result.code, result)).toBe('error.rateLimited');
      expect(shown(result)).toEqual(['Trop de tentatives. Réessayez plus tard.', null]);
    }
    expect(errorMessageKey('RATE_LIMITED')).toBe('error.rateLimited');
  });

  it('lets a reason the catalogue words say what to do: waiting does not mend a locked sign-in by code', () => {
    setLanguage('fr');
    const result = limited({ reason: 'CODE_LOGIN_LOCKED', retryAfter: 600 });
    expect(errorMessageKey(result.code, result)).toBe('error.tooManyTries');
    expect(errorDetail(result)).toBe(t('reason.CODE_LOGIN_LOCKED'));
    expect(retryAfter(result)).toBeNull();
  });

  it('is read on RATE_LIMITED only', () => {
    const other = { code: 'BAD_USER_INPUT', error: { graphQLErrors: [{ message: 'x', extensions: { code: 'BAD_USER_INPUT', retryAfter: 60 } }] } };
    expect(retryAfter(other)).toBeNull();
    expect(errorDetail(other)).toBeNull();
  });
});
