import { describe, expect, it } from 'vitest';
import { errorDetail, errorMessageKey } from './errors.js';
import { setLanguage, t } from '../i18n/index.js';

// A sign-in refusal as the service sends it: RATE_LIMITED, with or without a reason.
const limited = (reason) => ({
  code: 'RATE_LIMITED',
  error: { graphQLErrors: [{ message: 'English text', extensions: { code: 'RATE_LIMITED', ...(reason ? { reason } : {}) } }] },
});

describe('sign-in refusals that waiting does not mend', () => {
  it('say what to do instead of « try again later »', () => {
    setLanguage('fr');
    for (const reason of ['CODE_TRIES_USED_UP', 'CODE_LOGIN_LOCKED', 'RESET_TRIES_USED_UP']) {
      const result = limited(reason);
      expect(errorMessageKey(result.code, result)).toBe('error.tooManyTries');
      expect(t(errorMessageKey(result.code, result))).not.toContain('plus tard');
      expect(errorDetail(result)).toBe(t(`reason.${reason}`));
    }
    expect(errorDetail(limited('CODE_LOGIN_LOCKED'))).toContain('support');
    expect(errorDetail(limited('CODE_LOGIN_LOCKED'))).toContain("clé d'accès");
    expect(errorDetail(limited('CODE_TRIES_USED_UP'))).toContain('recommencez');
    setLanguage('en');
    expect(errorDetail(limited('RESET_TRIES_USED_UP'))).toContain('tomorrow');
    setLanguage('fr');
  });

  it('keep « try again later » for a limit that waiting mends, or a reason the page does not know', () => {
    for (const result of [limited(null), limited('SOMETHING_NEW')]) {
      expect(errorMessageKey(result.code, result)).toBe('error.rateLimited');
      expect(errorDetail(result)).toBeNull();
    }
    expect(errorMessageKey('RATE_LIMITED')).toBe('error.rateLimited');
  });
});
