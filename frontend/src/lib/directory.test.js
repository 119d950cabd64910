import { describe, expect, it } from 'vitest';
import fr from '../i18n/fr.js';
import en from '../i18n/en.js';
import { translate } from '../i18n/index.js';
import { SEARCH_MIN, directorySearch } from './directory.js';

describe('directory search', () => {
  it('is read as the server reads it: spaces collapsed, at least SEARCH_MIN characters', () => {
    expect(SEARCH_MIN).toBe(2); // backend/resolvers/sharing.py SEARCH_MIN
    expect(directorySearch('  Martin   Lyon ')).toBe('Martin Lyon');
    expect(directorySearch('ab')).toBe('ab');
    expect(directorySearch('a')).toBeNull();
    expect(directorySearch(' a  ')).toBeNull();
    expect(directorySearch('   ')).toBeNull();
  });

  it('says how many characters a search needs, in both languages', () => {
    expect(translate('fr', 'sharing.searchTooShort', { min: SEARCH_MIN }))
      .toBe('Tapez au moins 2 caractères pour rechercher un professionnel.');
    expect(translate('en', 'sharing.searchTooShort', { min: SEARCH_MIN }))
      .toBe('Type at least 2 characters to find a professional.');
    expect(translate('fr', 'sharing.searchHint', { min: SEARCH_MIN })).toContain('au moins 2 caractères');
    expect(translate('en', 'sharing.searchHint', { min: SEARCH_MIN })).toContain('at least 2 characters');
  });
});

describe('blocking a professional', () => {
  it('is confirmed first, naming them, in both languages', () => {
    for (const catalogue of [fr, en]) expect(catalogue['sharing.blockConfirm']).toContain('{who}');
    expect(translate('fr', 'sharing.blockConfirm', { who: 'Dr Jean Morel' }))
      .toMatch(/^Bloquer Dr Jean Morel \?/);
    expect(translate('en', 'sharing.blockConfirm', { who: 'Dr Jean Morel' })).toMatch(/^Block Dr Jean Morel\?/);
  });
});
