import { afterEach, describe, expect, it } from 'vitest';
import { setLanguage, t } from '../i18n/index.js';
import { emergencyTag, inRecordOrder, shownEntryTitle, shownMode } from './history.js';

describe('a history line', () => {
  it("lists an event's sections in the record's order, as the record and sharing pages do", () => {
    // The API gives them by their codes' alphabetical order: « Hospitalisations Biologie Médicaments ».
    expect(inRecordOrder(['HOSPITAL_STAYS', 'LAB_RESULTS', 'MEDICATIONS'])).toEqual(['MEDICATIONS', 'LAB_RESULTS', 'HOSPITAL_STAYS']);
    expect(inRecordOrder(['ALLERGIES', 'EMERGENCY', 'DOCUMENTS', 'MEDICATIONS'])).toEqual(['MEDICATIONS', 'ALLERGIES', 'DOCUMENTS', 'EMERGENCY']);
    expect(inRecordOrder([])).toEqual([]);
  });

  it("does not say the mode again when it reads as the person's name (« Assurance Maladie · Assurance maladie »)", () => {
    expect(shownMode('Assurance Maladie', 'Assurance maladie')).toBeNull();
    expect(shownMode('CPAM de Paris', 'Assurance maladie')).toBe('Assurance maladie');
    expect(shownMode('Sophie Lefèvre', 'Vous')).toBe('Vous');
    expect(shownMode('Health insurer', 'Health insurer')).toBeNull();
  });

  afterEach(() => setLanguage('fr'));

  it("says « Urgence » once: not as a tag before an action whose name says it (« Urgence Accès d'urgence… »)", () => {
    const heading = (event) => [emergencyTag(event), t(`action.${event.action}`)].filter(Boolean).join(' ');
    const opened = { action: 'BREAK_GLASS_OPENED', emergency: true };
    const regulator = { action: 'REGULATOR_ACCESS', emergency: true };
    const read = { action: 'RECORD_READ', emergency: true }; // a read in break-glass mode
    setLanguage('fr');
    expect(heading(opened)).toBe("Accès d'urgence (bris de glace)");
    expect(heading(regulator)).toBe("Accès d'urgence (régulation SAMU)");
    expect(heading(read)).toBe('Urgence Consultation du dossier');
    expect(heading({ action: 'RECORD_READ', emergency: false })).toBe('Consultation du dossier');
    setLanguage('en');
    expect(heading(opened)).toBe('Emergency access (break-glass)');
    expect(heading(regulator)).toBe('Emergency access (SAMU regulator)');
    expect(heading(read)).toBe('Emergency Record read');
  });

  it("shows the title of the entry an event names when the API gives one, as it shows elsewhere", () => {
    expect(shownEntryTitle({ entryId: 'e1', entryTitle: 'Metformine 850 mg' })).toBe('Metformine 850 mg');
    // A direction override would show it reversed: left out, as in the reasons.
    expect(shownEntryTitle({ entryId: 'e1', entryTitle: 'Metformine\u202e 850 mg' })).toBe('Metformine 850 mg');
    // Deleted since, an event that names no entry, an older page without the field: no title.
    expect(shownEntryTitle({ entryId: 'e2', entryTitle: null })).toBeNull();
    expect(shownEntryTitle({ entryId: null, entryTitle: null })).toBeNull();
    expect(shownEntryTitle({ entryId: 'e3' })).toBeNull();
    expect(shownEntryTitle({ entryId: 'e4', entryTitle: '\u200b ' })).toBeNull();
  });
});
