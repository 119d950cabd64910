import { recordDocument, sectionPageDocument } from '../../gql/entries.js';

export const MY_RECORD = recordDocument('myRecord', true);
export const myRecordPage = (field) => sectionPageDocument('myRecord', field, true);

export const MASK_ENTRY = `mutation MaskEntry($id: ID!) { maskEntry(id: $id) { id masked } }`;
export const UNMASK_ENTRY = `mutation UnmaskEntry($id: ID!) { unmaskEntry(id: $id) { id masked } }`;
export const MASK_ALL = `mutation MaskAllEntries { maskAllEntries }`;
export const DELETE_ENTRY = `mutation DeleteEntry($id: ID!) { deleteEntry(id: $id) }`;
