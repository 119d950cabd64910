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
