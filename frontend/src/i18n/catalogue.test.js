import { describe, expect, it } from 'vitest';
import fr from './fr.js';
import en from './en.js';
import { translate } from './index.js';

describe('message catalogues', () => {
  it('have exactly the same keys in French and English', () => {
    const frKeys = Object.keys(fr).sort();
    const enKeys = Object.keys(en).sort();
    expect(frKeys.filter((k) => !(k in en))).toEqual([]);
    expect(enKeys.filter((k) => !(k in fr))).toEqual([]);
  });

  it('use the same placeholders in both languages', () => {
    const placeholders = (text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const key of Object.keys(fr)) {
      expect([key, placeholders(en[key] ?? '')]).toEqual([key, placeholders(fr[key])]);
    }
  });

  it('choose plural forms by the same counts in both languages', () => {
    const choices = (text) => [...text.matchAll(/\{(\w+):[^{}|]*\|[^{}|]*\}/g)].map((m) => m[1]).sort();
    for (const key of Object.keys(fr)) {
      expect([key, choices(en[key] ?? '')]).toEqual([key, choices(fr[key])]);
      // A choice counts what the message also shows.
      for (const name of choices(fr[key])) expect([key, fr[key].includes(`{${name}}`)]).toEqual([key, true]);
    }
  });

  it('has no empty message', () => {
    for (const catalogue of [fr, en]) {
      for (const [key, text] of Object.entries(catalogue)) expect([key, text.trim().length > 0]).toEqual([key, true]);
    }
  });

  it('fills placeholders and falls back to French, then to the key', () => {
    expect(translate('fr', 'login.codeSent', { to: 'a***@x.fr' })).toBe('Un code à 6 chiffres a été envoyé à a***@x.fr.');
    expect(translate('de', 'nav.record')).toBe(fr['nav.record']);
    expect(translate('en', 'no.such.key')).toBe('no.such.key');
  });

  it('word the sign-in code step so it stays true when no code was sent (a wrong password)', () => {
    expect(translate('fr', 'login.codeSentIfPassword', { to: 'a***@x.fr' }))
      .toBe('Si le mot de passe est le bon, un code à 6 chiffres a été envoyé à a***@x.fr.');
    expect(translate('en', 'login.codeSentIfPassword', { to: 'a***@x.fr' }))
      .toBe('If the password is correct, a 6-digit code has been sent to a***@x.fr.');
  });
});
