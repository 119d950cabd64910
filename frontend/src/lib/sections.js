// The record's sections, in the order the page lists them, with their PatientRecord field.
export const SECTIONS = [
  ['MEDICATIONS', 'medications'],
  ['MEDICAL_DEVICES', 'medicalDevices'],
  ['PROCEDURES', 'procedures'],
  ['IMAGING', 'imaging'],
  ['LAB_RESULTS', 'labResults'],
  ['HOSPITAL_STAYS', 'hospitalStays'],
  ['MEDICAL_HISTORY', 'medicalHistory'],
  ['ALLERGIES', 'allergies'],
  ['VACCINATIONS', 'vaccinations'],
  ['DOCUMENTS', 'documents'],
];

export const ALL_SECTIONS = [...SECTIONS.map(([s]) => s), 'EMERGENCY'];
export const fieldOf = Object.fromEntries(SECTIONS);
// Sections a patient may write in themselves (DESIGN §3).
export const PATIENT_WRITABLE = ['DOCUMENTS', 'LAB_RESULTS', 'VACCINATIONS'];

// Nothing in the record as read, in any section its reader may see (a section they may not
// see is absent): said so, not the timeline's « Aucune information pour ces critères » under
// filters nobody set. A section with a page still to load is not empty.
export function holdsNothing(record) {
  return SECTIONS.every(([, field]) => !record?.[field] || (record[field].edges.length === 0 && !record[field].pageInfo.hasNextPage));
}

// One timeline from per-section connections: newest care date first, then newest created.
export function timeline(record, { section = '', from = '', to = '' } = {}) {
  const entries = [];
  for (const [name, field] of SECTIONS) {
    if (section && section !== name) continue;
    for (const edge of record?.[field]?.edges ?? []) {
      const day = edge.node.date;
      if (from && day < from) continue;
      if (to && day > to) continue;
      entries.push(edge.node);
    }
  }
  return entries.sort((a, b) => (b.date === a.date ? (b.createdAt > a.createdAt ? 1 : -1) : b.date > a.date ? 1 : -1));
}
