const PRACTITIONER = 'id displayName profession rpps city allowedSections';
export const SHARING_FIELDS = `grants { practitioner { ${PRACTITIONER} } sections since }
  treatingPhysician { ${PRACTITIONER} } blocked { ${PRACTITIONER} } allowRegulatorAccess allowBreakGlass
  notifyNewDocuments`;

// Sharing changes need an ACTIVE record: its status comes with the choices.
export const MY_SHARING = `query MySharing { myRecordStatus { status } mySharing { ${SHARING_FIELDS} } }`;
export const DIRECTORY = `query Directory($search: String!) { practitionerDirectory(search: $search) { ${PRACTITIONER} } }`;
const payload = `{ sharing { ${SHARING_FIELDS} } }`;
export const GRANT = `mutation GrantAccess($practitionerId: ID!, $sections: [Section!]!) {
  grantAccess(practitionerId: $practitionerId, sections: $sections) ${payload} }`;
export const REVOKE = `mutation RevokeAccess($practitionerId: ID!) { revokeAccess(practitionerId: $practitionerId) ${payload} }`;
export const BLOCK = `mutation BlockPractitioner($practitionerId: ID!) { blockPractitioner(practitionerId: $practitionerId) ${payload} }`;
export const UNBLOCK = `mutation UnblockPractitioner($practitionerId: ID!) { unblockPractitioner(practitionerId: $practitionerId) ${payload} }`;
export const SET_TREATING = `mutation SetTreatingPhysician($practitionerId: ID) {
  setTreatingPhysician(practitionerId: $practitionerId) ${payload} }`;
export const SET_EMERGENCY = `mutation SetEmergencyPreferences($allowRegulatorAccess: Boolean!, $allowBreakGlass: Boolean!) {
  setEmergencyPreferences(allowRegulatorAccess: $allowRegulatorAccess, allowBreakGlass: $allowBreakGlass) ${payload} }`;
export const SET_NOTICES = `mutation SetNotificationPreferences($notifyNewDocuments: Boolean!) {
  setNotificationPreferences(notifyNewDocuments: $notifyNewDocuments) ${payload} }`;
