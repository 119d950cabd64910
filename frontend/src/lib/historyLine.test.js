import { describe, expect, it } from 'vitest';
import { inRecordOrder, shownMode } from './history.js';

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
});
