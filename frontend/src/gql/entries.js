// The fields of an entry as the page shows them: the Entry interface plus each section's details.
export const ENTRY_FIELDS = `
  id section title code date source createdAt supersedes superseded
  author { displayName profession }
  ... on MedicationEntry { cip13 atc dose prescriber quantity }
  ... on MedicalDeviceEntry { lppCode quantity }
  ... on ProcedureEntry { ccamCode performer }
  ... on ImagingEntry { ccamCode modality bodySite report }
  ... on LabResultEntry { analyte loinc value unit referenceRange abnormal }
  ... on HospitalStayEntry { facility admissionDate dischargeDate }
  ... on MedicalHistoryEntry { condition icd10 notes }
  ... on AllergyEntry { substance reaction severity }
  ... on VaccinationEntry { vaccine lot doseNumber }
  ... on DocumentEntry { documentType description fileName contentType size downloadUrl }
`;

const CONNECTION = (withMasked) => `totalCount pageInfo { hasNextPage endCursor }
  edges { cursor node { ${ENTRY_FIELDS} ${withMasked ? 'masked' : ''} } }`;

export const RECORD_HEAD = 'ins firstName lastName birthDate status accessMode accessibleSections sectionAccess { section mode }';
export const EMERGENCY_FIELDS = 'emergencyProfile { bloodGroup advanceDirectives emergencyContacts { name phone relation } }';

// The whole record as one document: every section's first page, corrections included.
export function recordDocument(root, fields, withMasked) {
  const sections = fields
    .map((f) => `${f}(first: $first, includeSuperseded: true) { ${CONNECTION(withMasked)} }`)
    .join('\n');
  const [args, call] = root === 'myRecord' ? ['', 'myRecord'] : ['$ins: String!, ', 'patientRecord(ins: $ins)'];
  return `query Record(${args}$first: Int!) { record: ${call} { ${RECORD_HEAD} ${sections} ${EMERGENCY_FIELDS} } }`;
}

// The next page of one section.
export function sectionPageDocument(root, field, withMasked) {
  const [args, call] = root === 'myRecord' ? ['', 'myRecord'] : ['$ins: String!, ', 'patientRecord(ins: $ins)'];
  return `query SectionPage(${args}$first: Int!, $after: String) { record: ${call} {
    ${field}(first: $first, after: $after, includeSuperseded: true) { ${CONNECTION(withMasked)} } } }`;
}
