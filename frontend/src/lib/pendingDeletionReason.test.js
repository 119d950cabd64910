import { describe, expect, it } from 'vitest';
import { errorDetail, errorMessageKey } from './errors.js';
import { setLanguage, t } from '../i18n/index.js';

// A refusal as the service sends it: FORBIDDEN, with or without a reason.
const forbidden = (reason) => ({
  code: 'FORBIDDEN',
  error: { graphQLErrors: [{ message: 'English text', extensions: { code: 'FORBIDDEN', ...(reason ? { reason } : {}) } }] },
});

describe("the owner's write on a record waiting for its deletion", () => {
  it('says to cancel the deletion request, not that access is missing', () => {
    setLanguage('fr');
    const result = forbidden('RECORD_PENDING_DELETION');
    expect(errorMessageKey(result.code, result)).toBe('error.notNow');
    expect(errorDetail(result)).toBe(t('reason.RECORD_PENDING_DELETION'));
    expect(errorDetail(result)).toContain('annulez la demande');
    setLanguage('en');
    expect(errorDetail(result)).toContain('cancel the request');
    setLanguage('fr');
  });

  it('leaves any other refusal of access as it was', () => {
    for (const result of [forbidden(null), forbidden('SOMETHING_NEW')]) {
      expect(errorMessageKey(result.code, result)).toBe('error.forbidden');
      expect(errorDetail(result)).toBeNull();
    }
  });
});
