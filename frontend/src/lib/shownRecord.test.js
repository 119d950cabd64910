import { describe, expect, it } from 'vitest';
import { withAllMasked, withMasked, withoutEntry, withPage } from './shownRecord.js';

const conn = (nodes, { hasNextPage = false, endCursor = null, totalCount = nodes.length } = {}) => ({
  edges: nodes.map((node) => ({ cursor: `c-${node.id}`, node })),
  pageInfo: { hasNextPage, endCursor },
  totalCount,
});
const entry = (id, more = {}) => ({ id, masked: false, supersedes: null, superseded: false, ...more });
const ids = (connection) => connection.edges.map((edge) => edge.node.id);
const masked = (record) =>
  Object.fromEntries(
    ['medications', 'allergies'].flatMap((field) => (record[field]?.edges ?? []).map((e) => [e.node.id, e.node.masked])),
  );

// Twelve medicines: ten on the first page, two more loaded with "More".
const first = {
  firstName: 'Léa',
  medications: conn(Array.from({ length: 10 }, (_, i) => entry(`m${i}`)), { hasNextPage: true, endCursor: 'c-m9', totalCount: 12 }),
  allergies: conn([entry('a-old', { superseded: true }), entry('a-new', { supersedes: 'a-old' }), entry('a-other')]),
  labResults: null,
};
const loaded = withPage(first, 'medications', conn([entry('m10'), entry('m11')], { totalCount: 12 }));

describe('the record as shown', () => {
  it('adds a page loaded with More after the first one', () => {
    expect(ids(loaded.medications)).toHaveLength(12);
    expect(ids(loaded.medications).slice(-2)).toEqual(['m10', 'm11']);
    expect(loaded.medications.pageInfo.hasNextPage).toBe(false);
    expect(loaded.allergies).toBe(first.allergies);
  });

  it('masks an entry in place: the pages loaded with More stay', () => {
    const after = withMasked(loaded, 'm11', true);
    expect(ids(after.medications)).toEqual(ids(loaded.medications));
    expect(after.medications.pageInfo).toEqual(loaded.medications.pageInfo);
    expect(masked(after).m11).toBe(true);
    expect(Object.values(masked(after)).filter(Boolean)).toHaveLength(1);
    expect(loaded.medications.edges[11].node.masked).toBe(false); // not changed in place
    expect(masked(withMasked(after, 'm11', false)).m11).toBe(false);
  });

  it('masks every version of an entry shown, as the server does', () => {
    const after = withMasked(loaded, 'a-old', true);
    expect(masked(after)['a-old']).toBe(true);
    expect(masked(after)['a-new']).toBe(true);
    expect(masked(after)['a-other']).toBe(false);
    expect(masked(withMasked(after, 'a-new', false))['a-old']).toBe(false);
  });

  it('masks everything shown at once', () => {
    const after = withAllMasked(loaded);
    expect(Object.values(masked(after)).every(Boolean)).toBe(true);
    expect(ids(after.medications)).toHaveLength(12);
    expect(after.labResults).toBeNull();
  });

  it('drops a deleted entry only, and its earlier version is current again', () => {
    const after = withoutEntry(loaded, 'a-new');
    expect(ids(after.allergies)).toEqual(['a-old', 'a-other']);
    expect(after.allergies.totalCount).toBe(2);
    expect(after.allergies.edges[0].node.superseded).toBe(false);
    expect(ids(after.medications)).toHaveLength(12);
    const page2 = withoutEntry(loaded, 'm10');
    expect(ids(page2.medications)).toHaveLength(11);
    expect(page2.medications.totalCount).toBe(11);
  });
});
