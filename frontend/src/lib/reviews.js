// The patient's emergency accesses as the page shows them (/historique): pages of
// myEmergencyAccessReviews, kept with « Afficher plus », an access reviewed replaced in place.
import { appendPage, nodes } from './paging.js';

// What the patient may still do with an access in this review state: a pending one is
// acknowledged or reported; an acknowledged one may still be reported (they learnt more);
// a report stands (the server refuses to acknowledge it: CONFLICT). A report does not stop the
// practitioner from opening another emergency access: only a block does (on /partage), which the
// card of a reported access says (`block`).
export function reviewActions(state) {
  return {
    acknowledge: state === 'PENDING',
    report: state === 'PENDING' || state === 'ACKNOWLEDGED',
    block: state === 'REPORTED',
  };
}

// `connection` with the access `node` (as a review's answer gives it) in place of the one of the
// same id, where it is; anything else unchanged.
export function replaceNode(connection, node) {
  if (!connection || !node) return connection;
  return {
    ...connection,
    edges: connection.edges.map((edge) => (edge.node.id === node.id ? { ...edge, node } : edge)),
  };
}

// Read again, from the first page, at least as many accesses as `shown` (those the person has
// in front of them, « Afficher plus » included): `fetchPage(after)` answers one page
// (a connection) or { code } for a failure, which is answered as is.
export async function readAgain(fetchPage, shown) {
  let connection = null;
  let after = null;
  for (;;) {
    const page = await fetchPage(after);
    if (page?.code) return page;
    connection = appendPage(connection, page);
    if (nodes(connection).length >= shown || !page.pageInfo.hasNextPage || !page.pageInfo.endCursor) return connection;
    after = page.pageInfo.endCursor;
  }
}
