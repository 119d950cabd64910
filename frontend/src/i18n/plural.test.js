import { describe, expect, it } from 'vitest';
import fr from './fr.js';
import en from './en.js';
import { translate } from './index.js';

// Every message that shows a count, with the placeholder holding it.
const COUNTED = {
  'record.count': 'n',
  'history.count': 'n',
  'sharing.foundCount': 'n',
  'sharing.searchHint': 'min',
  'sharing.searchTooShort': 'min',
  'reason.FIELD_TOO_LONG': 'max',
  'reason.FIELD_TOO_SHORT': 'min',
  'reason.PASSWORD_TOO_SHORT': 'min',
  'reason.PASSWORD_TOO_LONG': 'max',
  'reason.TOO_MANY_CONTACTS': 'max',
  'reason.TOO_MANY_PASSKEYS': 'max',
  'reason.TOO_MANY_ITEMS': 'maxItems',
  'invalid.tooShort': 'min',
  'invalid.tooLong': 'max',
};

const choices = (text) => [...text.matchAll(/\{(\w+):[^{}|]*\|[^{}|]*\}/g)].map((m) => m[1]).sort();

describe('counts', () => {
  it('take their plural form: French words 0 and 1 as singular, English only 1', () => {
    const fr0 = [0, 1, 2].map((n) => translate('fr', 'record.count', { n }));
    expect(fr0).toEqual(['0 information affichée', '1 information affichée', '2 informations affichées']);
    expect([0, 1, 2].map((n) => translate('en', 'record.count', { n })))
      .toEqual(['0 entries shown', '1 entry shown', '2 entries shown']);
    expect([0, 1, 2].map((n) => translate('fr', 'history.count', { n }))).toEqual(['0 événement', '1 événement', '2 événements']);
    expect([0, 1, 2].map((n) => translate('en', 'history.count', { n }))).toEqual(['0 events', '1 event', '2 events']);
    expect([0, 1, 2].map((n) => translate('fr', 'sharing.foundCount', { n })))
      .toEqual(['0 professionnel trouvé', '1 professionnel trouvé', '2 professionnels trouvés']);
    expect([0, 1, 2].map((n) => translate('en', 'sharing.foundCount', { n })))
      .toEqual(['0 professionals found', '1 professional found', '2 professionals found']);
  });

  it('word every counted message in the form of its count, in both languages', () => {
    for (const [key, count] of Object.entries(COUNTED)) {
      for (const catalogue of [fr, en]) expect([key, choices(catalogue[key])]).toEqual([key, [count]]);
      const params = (n) => ({ field: 'Titre', min: 12, max: 12, maxItems: 12, [count]: n });
      expect(translate('fr', key, params(1))).not.toMatch(/caractères|événements|informations|contacts|éléments|trouvés/);
      expect(translate('fr', key, params(0))).toBe(translate('fr', key, params(1)).replace(/\b1\b/, '0'));
      expect(translate('en', key, params(0))).toBe(translate('en', key, params(2)).replace(/\b2\b/, '0'));
      expect(translate('en', key, params(1))).not.toBe(translate('en', key, params(2)).replace(/\b2\b/, '1'));
    }
    expect(translate('fr', 'reason.FIELD_TOO_SHORT', { field: 'Titre', min: 1 })).toBe('« Titre » : 1 caractère au moins.');
    expect(translate('en', 'reason.TOO_MANY_CONTACTS', { max: 1 })).toBe('1 emergency contact at most.');
    expect(translate('en', 'reason.TOO_MANY_ITEMS', { maxItems: 2 })).toBe('2 items at most per import.');
  });

  it('never write a plural as "(s)"', () => {
    for (const catalogue of [fr, en]) {
      expect(Object.entries(catalogue).filter(([, text]) => /\(s\)/.test(text))).toEqual([]);
    }
  });

  it('follow the language the message is worded in: French when a language falls back to it', () => {
    expect(translate('de', 'history.count', { n: 0 })).toBe('0 événement');
  });
});
