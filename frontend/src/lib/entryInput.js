// The AddEntryInput for a section: common fields plus the section's own details (empty ones left out).
export const DETAIL_INPUTS = {
  MEDICATIONS: ['medication', ['cip13', 'atc', 'dose', 'prescriber']],
  MEDICAL_DEVICES: ['medicalDevice', ['lppCode']],
  PROCEDURES: ['procedure', ['ccamCode', 'performer']],
  IMAGING: ['imaging', ['ccamCode', 'modality', 'bodySite', 'report']],
  LAB_RESULTS: ['labResult', ['analyte', 'value', 'unit', 'referenceRange']],
  HOSPITAL_STAYS: ['hospitalStay', ['facility']],
  MEDICAL_HISTORY: ['medicalHistory', ['condition', 'icd10', 'notes']],
  ALLERGIES: ['allergy', ['substance', 'reaction', 'severity']],
  VACCINATIONS: ['vaccination', ['vaccine', 'lot']],
  DOCUMENTS: ['document', ['documentType', 'description']],
};

// The coding systems an entry's `code` takes, per section (backend/domain/codes.py SECTION_CODES,
// tests/test_codes.py keeps them alike); a section absent takes free text (64 characters at most).
export const CODE_SYSTEMS = {
  MEDICATIONS: ['cip13', 'atc'],
  MEDICAL_DEVICES: ['lpp'],
  PROCEDURES: ['ccam'],
  IMAGING: ['ccam'],
  LAB_RESULTS: ['loinc'],
  HOSPITAL_STAYS: ['icd10'],
  MEDICAL_HISTORY: ['icd10'],
};

// The catalogue key of the « Code » field's hint for a section: what to type there.
export function codeHintKey(section) {
  return `addEntry.codeHint.${CODE_SYSTEMS[section]?.join('_') ?? 'free'}`;
}

export function entryInput({ ins = null, section, title, date, code = '', details = {} }) {
  const input = { section, title: title.trim(), date };
  if (ins) input.ins = ins;
  if (code.trim()) input.code = code.trim();
  const [key, fields] = DETAIL_INPUTS[section] ?? [null, []];
  const kept = Object.fromEntries(fields.filter((f) => (details[f] ?? '').trim()).map((f) => [f, details[f].trim()]));
  if (key && Object.keys(kept).length) input[key] = kept;
  return input;
}

// Sections a viewer may write in: those read as TREATING_PHYSICIAN or GRANTED (emergency modes are read-only).
export function writableSections(sectionAccess) {
  return (sectionAccess ?? [])
    .filter((a) => (a.mode === 'TREATING_PHYSICIAN' || a.mode === 'GRANTED') && a.section !== 'EMERGENCY')
    .map((a) => a.section);
}
