import { describe, expect, it } from 'vitest';
import { holdsNothing } from './sections.js';

const none = { edges: [], pageInfo: { hasNextPage: false, endCursor: null } };
const one = { edges: [{ node: { id: 'e1', date: '2026-01-02' } }], pageInfo: { hasNextPage: false, endCursor: 'c' } };

describe('a record that holds nothing', () => {
  it('is one with no entry in any section its reader may see', () => {
    // A practitioner's read: the sections they may not see are absent (null).
    expect(holdsNothing({ medications: none, vaccinations: none, imaging: null })).toBe(true);
    expect(holdsNothing({ medications: none, vaccinations: one, imaging: null })).toBe(false);
  });

  it('is not one with a page still to load', () => {
    expect(holdsNothing({ medications: { edges: [], pageInfo: { hasNextPage: true, endCursor: 'c' } } })).toBe(false);
  });
});
