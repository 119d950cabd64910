// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { h, render } from 'preact';
import { act } from 'preact/test-utils';
import { Record } from './Record.jsx';

// /dossier: a record with nothing in it says so (record.nothingYet), not the filters' « Aucune
// information pour ces critères » under filters nobody set (docs/frontend.md); so does a record
// whose last entry the patient just deleted, without being read again.
const NOTHING_YET = 'Votre dossier ne contient encore aucune information.';
const NONE_FOR_FILTERS = 'Aucune information pour ces critères.';

const served = { entries: 1 };
const entry = (n) => ({
  id: `e${n}`, section: 'VACCINATIONS', title: `Vaccin ${n}`, code: null, date: `2026-0${n}-01`,
  createdAt: `2026-0${n}-01T10:00:00Z`, source: 'PATIENT', supersedes: null, superseded: false, author: null,
  masked: false, vaccine: 'Grippe', lot: null, doseNumber: null,
});
const empty = { totalCount: 0, pageInfo: { hasNextPage: false, endCursor: null }, edges: [] };
const record = () => ({
  ins: '123', firstName: 'Marie', lastName: 'Durand', birthDate: '1980-01-01', status: 'ACTIVE',
  accessMode: 'OWNER', accessibleSections: [], sectionAccess: [], emergencyProfile: null,
  medications: empty,
  vaccinations: {
    totalCount: served.entries,
    pageInfo: { hasNextPage: false, endCursor: null },
    edges: Array.from({ length: served.entries }, (_, i) => ({ cursor: String(i + 1), node: entry(i + 1) })),
  },
});
vi.mock('../../gql/client.js', () => ({
  client: {
    query: () => ({ toPromise: async () => ({ data: { record: record(), state: { status: 'ACTIVE' } } }) }),
    mutation: () => ({ toPromise: async () => ({ data: { deleteEntry: true } }) }),
  },
}));
// « Supprimer » asks first: the patient confirms.
vi.mock('../../components/ConfirmDialog.jsx', () => ({ ask: async () => true }));

let place;

beforeEach(() => {
  document.body.innerHTML = '';
  place = document.createElement('main');
  document.body.append(place);
});

afterEach(() => {
  act(() => render(null, place));
});

async function settled(work = () => {}) {
  await act(async () => work());
  for (let i = 0; i < 5; i++) await act(async () => {});
}
const text = () => place.textContent;
const button = (name) => [...place.querySelectorAll('button')].find((b) => b.textContent.startsWith(name));

describe('/dossier with nothing in it', () => {
  it('as read, says so, with no filters', async () => {
    served.entries = 0;
    await settled(() => render(h(Record), place));
    expect(text()).toContain(NOTHING_YET);
    expect(text()).not.toContain(NONE_FOR_FILTERS);
    expect(place.querySelector('[role="search"]')).toBeNull();
  });

  it('once its last entry is deleted, says so too, with the deletion said where the entry was, focused', async () => {
    served.entries = 1;
    await settled(() => render(h(Record), place));
    expect(text()).toContain('Vaccin 1');
    served.entries = 0; // as the service now holds it (the page does not read it again)
    const remove = button('Supprimer');
    remove.focus();
    await settled(() => remove.click());
    expect(text()).not.toContain(NONE_FOR_FILTERS);
    expect(text()).toContain(NOTHING_YET);
    expect(place.querySelector('[role="search"]')).toBeNull();
    const notice = place.querySelector('.notice');
    expect(notice.textContent).toBe("L'information « Vaccin 1 » a été supprimée.");
    expect(document.activeElement).toBe(notice);
  });
});
