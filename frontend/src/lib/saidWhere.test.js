import { describe, expect, it } from 'vitest';
import { insertedAt, saidWhere } from './saidWhere.js';

describe('a notice about one item of a list', () => {
  it('is said in the item’s card while it is shown', () => {
    expect(saidWhere({ id: 'b', index: 1 }, ['a', 'b', 'c'])).toEqual({ inside: 'b' });
    // Moved since its button was pressed (a page loaded, another change): still in its own card.
    expect(saidWhere({ id: 'b', index: 0 }, ['c', 'a', 'b'])).toEqual({ inside: 'b' });
    expect(saidWhere({ id: 'b' }, ['a', 'b'])).toEqual({ inside: 'b' });
  });

  it('is said where the card was once the item is gone', () => {
    expect(saidWhere({ id: 'b', index: 1 }, ['a', 'c'])).toEqual({ at: 1 });
    expect(saidWhere({ id: 'a', index: 0 }, ['b', 'c'])).toEqual({ at: 0 });
    // The last card gone: after the others; the list emptied: at its start.
    expect(saidWhere({ id: 'c', index: 2 }, ['a', 'b'])).toEqual({ at: 2 });
    expect(saidWhere({ id: 'c', index: 5 }, ['a'])).toEqual({ at: 1 });
    expect(saidWhere({ id: 'a', index: 0 }, [])).toEqual({ at: 0 });
  });

  it('is not said in a list that no longer shows an item it had no place for', () => {
    expect(saidWhere({ id: 'b' }, ['a', 'c'])).toBeNull();
    expect(saidWhere(null, ['a'])).toBeNull();
    expect(saidWhere({ index: 0 }, ['a'])).toBeNull();
  });

  it('is put among the cards at that place, the cards unchanged', () => {
    const cards = ['a', 'c'];
    expect(insertedAt(cards, 1, 'said')).toEqual(['a', 'said', 'c']);
    expect(insertedAt(cards, 0, 'said')).toEqual(['said', 'a', 'c']);
    expect(insertedAt(cards, 9, 'said')).toEqual(['a', 'c', 'said']);
    expect(insertedAt(cards, undefined, 'said')).toBe(cards);
    expect(cards).toEqual(['a', 'c']);
  });
});
