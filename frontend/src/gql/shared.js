// Documents used by shared components.
export const ADD_ENTRY = `mutation AddEntry($input: AddEntryInput!) { addEntry(input: $input) { entry { id title section } } }`;
export const REQUEST_FRESH = `mutation RequestFreshFactor { requestFreshFactor { sentTo } }`;
export const CONFIRM_FRESH = `mutation ConfirmFreshFactor($code: String!) { confirmFreshFactor(code: $code) }`;


// Writes need an ACTIVE record; its status is readable in every status (read again when the
// person comes back to the tab: lib/statusRefresh.js).
export const RECORD_STATUS = `query RecordStatus { myRecordStatus { status } }`;
