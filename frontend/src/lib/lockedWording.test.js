import { describe, expect, it } from 'vitest';
import { errorDetail } from './errors.js';
import { setLanguage } from '../i18n/index.js';

// CODE_LOGIN_LOCKED is answered on the sign-in page and, to a signed-in person, on /securite
// (a passkey renamed or removed, a check that it is you): one sentence, worded by its reason
// alone, must read right in both places.
const locked = {
  code: 'RATE_LIMITED',
  error: { graphQLErrors: [{ message: 'English text', extensions: { code: 'RATE_LIMITED', reason: 'CODE_LOGIN_LOCKED' } }] },
};

describe('a locked code sign-in, said to a signed-in person as to one signing in', () => {
  it('says first that support unlocks it, then that a passkey signs in meanwhile', () => {
    setLanguage('fr');
    const fr = errorDetail(locked);
    expect(fr).toContain('La connexion par code est bloquée (trop de codes erronés)');
    expect(fr).toContain('contactez le support pour la débloquer');
    expect(fr).toContain("vous pouvez vous connecter avec une clé d'accès si vous en avez une");
    expect(fr.indexOf('support')).toBeLessThan(fr.indexOf("clé d'accès"));
    // No order to sign in given to someone who is signed in.
    expect(fr).not.toContain('Connectez-vous');
    setLanguage('en');
    const en = errorDetail(locked);
    expect(en).toContain('contact support to unlock it');
    expect(en).toContain('you can sign in with a passkey if you have one');
    expect(en).not.toMatch(/^Sign in with/m);
    expect(en.indexOf('support')).toBeLessThan(en.indexOf('passkey'));
    setLanguage('fr');
  });
});
