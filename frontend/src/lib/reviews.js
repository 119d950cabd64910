// The patient's emergency accesses as the page shows them (/historique): pages of
// myEmergencyAccessReviews, kept with « Afficher plus », an access reviewed replaced in place.
import { appendPage, nodes } from './paging.js';

// What the patient may still do with an access in this review state: a pending one is
// acknowledged or reported; an acknowledged one may still be reported (they learnt more);
// a report stands (the server refuses to acknowledge it: CONFLICT). A report does not stop the
// practitioner from opening another emergency access: only a block does, which the card of a
// reported access says and offers (`block`; see blockingOf).
export function reviewActions(state) {
  return {
    acknowledge: state === 'PENDING',
    report: state === 'PENDING' || state === 'ACKNOWLEDGED',
    block: state === 'REPORTED',
  };
}

// What the card of a reported access offers against its practitioner, from the patient's sharing
// (`{ status, sharing }`, sharing as mySharing gives `treatingPhysician { id } blocked { id }`):
// 'blocked' (blocked already: nothing to do), 'treating' (the treating physician, who cannot be
// blocked while named), 'block' (« Bloquer ce professionnel »), or null when the sharing is not
// known or cannot change (a record not ACTIVE refuses a block): the card then says how to block
// them on /partage.
export function blockingOf(shared, practitionerId) {
  const sharing = shared?.status === 'ACTIVE' ? shared.sharing : null;
  if (!sharing || !practitionerId) return null;
  if (sharing.blocked.some((p) => p.id === practitionerId)) return 'blocked';
  if (sharing.treatingPhysician?.id === practitionerId) return 'treating';
  return 'block';
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
