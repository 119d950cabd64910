import { afterEach, describe, expect, it } from 'vitest';
import { said, setLanguage, word } from './index.js';

describe('a message kept in a screen', () => {
  afterEach(() => setLanguage('fr'));

  it('is worded in the language of the moment it is shown', () => {
    setLanguage('fr');
    const notice = said('record.maskedDone', { title: 'Vaccin antigrippal' });
    const granted = said('sharing.granted', { who: 'Dr Martin' });
    expect(word(notice)).toBe("L'information « Vaccin antigrippal » est masquée.");
    setLanguage('en');
    expect(word(notice)).toBe('“Vaccin antigrippal” is masked.');
    expect(word(granted)).toBe('Access granted to Dr Martin.');
  });

  it("names the entry that /dossier's mask, unmask and delete are about, in both languages", () => {
    // Said where a card hidden by a filter was, beside another entry: the title says which one.
    const title = 'Vaccin antigrippal';
    const cases = [
      ['record.maskedDone', "L'information « Vaccin antigrippal » est masquée.", '“Vaccin antigrippal” is masked.'],
      ['record.unmasked', "L'information « Vaccin antigrippal » n'est plus masquée.", '“Vaccin antigrippal” is no longer masked.'],
      ['record.deleted', "L'information « Vaccin antigrippal » a été supprimée.", '“Vaccin antigrippal” was deleted.'],
    ];
    for (const [key, french, english] of cases) {
      const notice = said(key, { title });
      setLanguage('fr');
      expect(word(notice)).toBe(french);
      setLanguage('en');
      expect(word(notice)).toBe(english);
    }
  });

  it("names the entry a refusal of /dossier's mask, unmask or delete is about, in both languages", () => {
    // Said before the error's own text (« Trop de tentatives… »), where a card hidden by a filter
    // was: beside another entry's card, it says which entry was refused.
    const title = 'Vaccin antigrippal';
    const cases = [
      ['record.maskAbout', 'Masquer « Vaccin antigrippal » :', 'Mask “Vaccin antigrippal”:'],
      ['record.unmaskAbout', 'Ne plus masquer « Vaccin antigrippal » :', 'Unmask “Vaccin antigrippal”:'],
      ['record.deleteAbout', 'Supprimer « Vaccin antigrippal » :', 'Delete “Vaccin antigrippal”:'],
    ];
    for (const [key, french, english] of cases) {
      const about = said(key, { title });
      setLanguage('fr');
      expect(word(about)).toBe(french);
      setLanguage('en');
      expect(word(about)).toBe(english);
    }
  });

  it('asks before deleting an entry naming it, in both languages', () => {
    const question = said('record.deleteConfirm', { title: 'Ma note' });
    setLanguage('fr');
    expect(word(question)).toBe("Supprimer définitivement l'information « Ma note » que vous avez ajoutée ?");
    setLanguage('en');
    expect(word(question)).toBe('Delete “Ma note”, which you added, for good?');
  });

  it('puts a title in a notice as it is, whatever it holds', () => {
    // A title is the patient's own text: braces or « $& » in it are not read as placeholders.
    setLanguage('fr');
    expect(word(said('record.deleted', { title: 'Note {title} $& $1' }))).toBe(
      "L'information « Note {title} $& $1 » a été supprimée.",
    );
  });

  it('leaves any other text as it is', () => {
    expect(word('Enregistré.')).toBe('Enregistré.');
    expect(word(null)).toBeNull();
  });
});
