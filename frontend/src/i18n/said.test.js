import { afterEach, describe, expect, it } from 'vitest';
import { said, setLanguage, word } from './index.js';

describe('a message kept in a screen', () => {
  afterEach(() => setLanguage('fr'));

  it('is worded in the language of the moment it is shown', () => {
    setLanguage('fr');
    const notice = said('record.maskedDone');
    const granted = said('sharing.granted', { who: 'Dr Martin' });
    expect(word(notice)).toBe("L'information est masquée.");
    setLanguage('en');
    expect(word(notice)).toBe('The entry is masked.');
    expect(word(granted)).toBe('Access granted to Dr Martin.');
  });

  it('leaves any other text as it is', () => {
    expect(word('Enregistré.')).toBe('Enregistré.');
    expect(word(null)).toBeNull();
  });
});
