import { describe, expect, it } from 'vitest';
import { byline } from './EntryCard.jsx';
import { setLanguage } from '../i18n/index.js';

describe("an entry's byline", () => {
  it('names the insurer once when its account is named as the source is (« Assurance maladie — Assurance Maladie »)', () => {
    setLanguage('fr');
    const insurer = { displayName: 'Assurance Maladie', profession: null };
    expect(byline({ source: 'INSURER', author: insurer }, true)).toBe('Assurance maladie');
    expect(byline({ source: 'INSURER', author: { displayName: 'CPAM de Paris', profession: null } }, true))
      .toBe('Assurance maladie — CPAM de Paris');
  });

  it('keeps the source and the author otherwise, in the page language', () => {
    setLanguage('fr');
    const doctor = { displayName: 'Sophie Durand', profession: 'medecin' };
    expect(byline({ source: 'PRACTITIONER', author: doctor }, true)).toBe('Professionnel de santé — Sophie Durand (médecin)');
    setLanguage('en');
    expect(byline({ source: 'INSURER', author: { displayName: 'Health insurer', profession: null } }, true)).toBe('Health insurer');
    expect(byline({ source: 'INSURER', author: { displayName: 'Assurance Maladie', profession: null } }, true))
      .toBe('Health insurer — Assurance Maladie');
    setLanguage('fr');
  });
});
