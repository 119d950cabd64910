import { h } from 'preact';

// Where an action's notice or error about one item of a list is said (docs/frontend.md: where
// the button pressed is, since on a phone the top of the screen is out of sight): in the item's
// own card while it is shown; once it is gone (an entry deleted, an access revoked, a block
// lifted), in the list where the card was.
//
// place: { id, index } — the item, and its position in the list when its button was pressed
// (no index: a notice about an item no longer shown is not said, e.g. a masked entry a filter
// now hides); ids: the items shown now, in order.
// Returns { inside: id }, { at: n } (0 ≤ n ≤ ids.length) or null (not about this list).
export function saidWhere(place, ids) {
  if (!place || place.id === undefined || place.id === null) return null;
  if (ids.includes(place.id)) return { inside: place.id };
  if (!Number.isInteger(place.index)) return null;
  return { at: Math.min(Math.max(place.index, 0), ids.length) };
}

// `items` with `item` put at position `at` (a copy; `items` as they were when `at` is not a number).
export function insertedAt(items, at, item) {
  if (!Number.isInteger(at)) return items;
  const copy = [...items];
  copy.splice(Math.min(Math.max(at, 0), copy.length), 0, item);
  return copy;
}

// The cards of a list, `card(item, index, said)` each, with an action's notice or error `node`
// said where `place` puts it (saidWhere, above): in its item's card (`said` is `node` there, null
// in the others) or, that card gone, among the cards where it was. No `node`: the cards alone.
export function cardsWithSaid(place, items, idOf, card, node) {
  const where = node ? saidWhere(place, items.map(idOf)) : null;
  const cards = items.map((item, index) => card(item, index, where?.inside === idOf(item) ? node : null));
  return where && 'at' in where ? insertedAt(cards, where.at, h('li', { key: 'said', class: 'said' }, node)) : cards;
}
