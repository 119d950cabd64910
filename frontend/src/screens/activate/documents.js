export const CREATE_RECORD = `mutation CreateRecord($input: CreateRecordInput!) {
  createRecord(input: $input) { attemptToken sentTo }
}`;

export const VERIFY_CONTACT = `mutation VerifyContact($attemptToken: String!, $code: String!) {
  verifyContact(attemptToken: $attemptToken, code: $code) { me { id role displayName profession isRegulator } }
}`;
