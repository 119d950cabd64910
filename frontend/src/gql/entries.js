// The fields of an entry as the page shows them: the Entry interface plus each section's details.
// The server prices a query by its page sizes (schema/limits.py), so each section field asks only
// for its own concrete type and page sizes are literals.
const BASE = 'id section title code date source createdAt supersedes superseded author { displayName profession }';

const DETAILS = {
  medications: '... on MedicationEntry { cip13 atc dose prescriber quantity }',
  medicalDevices: '... on MedicalDeviceEntry { lppCode quantity }',
  procedures: '... on ProcedureEntry { ccamCode performer }',
  imaging: '... on ImagingEntry { ccamCode modality bodySite report }',
  labResults: '... on LabResultEntry { analyte loinc value unit referenceRange abnormal }',
  hospitalStays: '... on HospitalStayEntry { facility admissionDate dischargeDate }',
  medicalHistory: '... on MedicalHistoryEntry { condition icd10 notes }',
  allergies: '... on AllergyEntry { substance reaction severity }',
  vaccinations: '... on VaccinationEntry { vaccine lot doseNumber }',
  documents: '... on DocumentEntry { documentType description fileName downloadUrl }',
};

export const FIRST_PAGE = 10;
export const NEXT_PAGE = 50;

function connection(field, withMasked) {
  return `totalCount pageInfo { hasNextPage endCursor }
  edges { cursor node { ${BASE} ${withMasked ? 'masked' : ''} ${DETAILS[field]} } }`;
}

export const RECORD_HEAD = 'ins firstName lastName birthDate status accessMode accessibleSections sectionAccess { section mode }';
export const EMERGENCY_FIELDS = 'emergencyProfile { bloodGroup advanceDirectives emergencyContacts { name phone relation } }';

function root(kind) {
  return kind === 'myRecord' ? ['', 'myRecord'] : ['$ins: String!', 'patientRecord(ins: $ins)'];
}

// The whole record as one request (so a practitioner's read is one event): each section's first page.
export function recordDocument(kind, withMasked) {
  const sections = Object.keys(DETAILS)
    .map((f) => `${f}(first: ${FIRST_PAGE}, includeSuperseded: true) { ${connection(f, withMasked)} }`)
    .join('\n');
  const [args, call] = root(kind);
  // A practitioner reading in an emergency mode is shown when it ends.
  const until = kind === 'patientRecord' ? ' emergencyExpiresAt' : '';
  // The patient's record is null when it is not readable (pending, deletion asked): its status says why.
  const state = kind === 'myRecord' ? ' state: myRecordStatus { status }' : '';
  return `query Record${args ? `(${args})` : ''} { record: ${call} { ${RECORD_HEAD}${until} ${sections} ${EMERGENCY_FIELDS} }${state} }`;
}

// The next page of one section.
export function sectionPageDocument(kind, field, withMasked) {
  const [args, call] = root(kind);
  return `query SectionPage(${args ? `${args}, ` : ''}$after: String) { record: ${call} {
    ${field}(first: ${NEXT_PAGE}, after: $after, includeSuperseded: true) { ${connection(field, withMasked)} } } }`;
}
