import { RECORD_HEAD, EMERGENCY_FIELDS, recordDocument, sectionPageDocument } from '../../gql/entries.js';

export const PATIENT_RECORD = recordDocument('patientRecord', false);
export const patientRecordPage = (field) => sectionPageDocument('patientRecord', field, false);

export const OPEN_RECORD = `mutation OpenRecordForPatient($input: OpenRecordInput!) {
  openRecordForPatient(input: $input) { ins activationCode expiresAt sentTo } }`;

// Emergency openings return the record as the decision now allows; the page then reads it in full.
export const BREAK_GLASS = `mutation OpenBreakGlass($ins: String!, $reason: String!) {
  openBreakGlass(ins: $ins, reason: $reason) { expiresAt mode record { ${RECORD_HEAD} ${EMERGENCY_FIELDS} } } }`;
export const REGULATOR = `mutation RegulatorAccess($ins: String!, $reason: String!) {
  regulatorAccess(ins: $ins, reason: $reason) { expiresAt mode record { ${RECORD_HEAD} ${EMERGENCY_FIELDS} } } }`;

