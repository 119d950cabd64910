export const HISTORY = `query AccessHistory($first: Int!, $after: String, $filter: AccessHistoryFilter) {
  myAccessHistory(first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id seq at actorId actorName actorProfession actorRole action mode sections entryId entryTitle reason emergency } }
  }
}`;

const REVIEW = 'id kind practitionerId practitionerName profession openedAt expiresAt reason reviewState';
// Newest first, 20 a page (a literal: the server prices `first: $var` at 100).
export const EMERGENCY_REVIEWS = `query EmergencyAccessReviews($after: String) {
  myEmergencyAccessReviews(first: 20, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { ${REVIEW} } }
  }
}`;
export const ACKNOWLEDGE = `mutation Acknowledge($id: ID!) { acknowledgeEmergencyAccess(id: $id) { ${REVIEW} } }`;
export const REPORT = `mutation Report($id: ID!, $comment: String) { reportEmergencyAccess(id: $id, comment: $comment) { ${REVIEW} } }`;
// Whom the cards of reported accesses may block: read once for the screen (a block needs an ACTIVE record).
export const REVIEW_SHARING = `query ReviewSharing { myRecordStatus { status } mySharing { treatingPhysician { id } blocked { id } } }`;
