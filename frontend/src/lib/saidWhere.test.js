import { describe, expect, it } from 'vitest';
import { cardsWithSaid, insertedAt, saidWhere } from './saidWhere.js';

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

describe('the cards of a list with a notice about one of them', () => {
  const card = (id, index, said) => [id, index, said];
  const ids = (x) => x;
  it('puts it in its item’s card while it is shown, nowhere else', () => {
    expect(cardsWithSaid({ id: 'b', index: 0 }, ['a', 'b'], ids, card, 'done')).toEqual([
      ['a', 0, null],
      ['b', 1, 'done'],
    ]);
  });

  it('puts it among the cards where the card was once it is gone', () => {
    const [first, said, last] = cardsWithSaid({ id: 'b', index: 1 }, ['a', 'c'], ids, card, 'done');
    expect([first, last]).toEqual([
      ['a', 0, null],
      ['c', 1, null],
    ]);
    expect(said.type).toBe('li');
    expect(said.key).toBe('said');
    expect(said.props.class).toBe('said');
    expect(said.props.children).toBe('done');
  });

  it('leaves the cards alone with nothing to say or no place for it', () => {
    expect(cardsWithSaid({ id: 'b', index: 1 }, ['a', 'c'], ids, card, false)).toEqual([
      ['a', 0, null],
      ['c', 1, null],
    ]);
    expect(cardsWithSaid({ id: 'b' }, ['a'], ids, card, 'done')).toEqual([['a', 0, null]]);
    expect(cardsWithSaid(null, ['a'], ids, card, 'done')).toEqual([['a', 0, null]]);
  });
});
