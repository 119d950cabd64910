// @vitest-environment happy-dom
import { describe, expect, it, vi } from 'vitest';
import { h, render } from 'preact';
import { act } from 'preact/test-utils';
import { History } from './History.jsx';
import { LIVE, watchedPlace } from '../../test/liveRegion.js';

// /historique's counts (its events', its emergency accesses'), said once (docs/frontend.md): drawn
// with the screen, a status neither focused nor announced; changed by a filter or an « Afficher
// plus » still there, announced by its live region, the focus left where it is; once the last page
// takes « Afficher plus » away, given the focus and read as focused, with no live region in it.

// The service: `events` history events and `accesses` emergency accesses, 20 a page (newest
// first); the filter « Dossier exporté » finds `exported` events.
const served = { events: 25, accesses: 22, exported: 2 };
const event = (n) => ({
  id: `ev${n}`, seq: n, at: '2026-11-02T10:00:00Z', actorId: 'p1', actorName: 'Marie Durand', actorProfession: null,
  actorRole: 'PATIENT', action: 'RECORD_READ', mode: 'OWNER', sections: [], entryId: null, reason: null, emergency: false,
});
const access = (n) => ({
  id: `ac${n}`, kind: 'BREAK_GLASS', practitionerName: 'Jean Martin', profession: 'medecin',
  openedAt: '2026-11-01T10:00:00Z', expiresAt: '2026-11-01T22:00:00Z', reason: `passage n°${n}`, reviewState: 'PENDING',
});
function connection(total, make, after) {
  const start = after ? Number(after) : 0;
  const end = Math.min(total, start + 20);
  const edges = [];
  for (let n = start; n < end; n++) edges.push({ cursor: String(n + 1), node: make(n) });
  return { totalCount: total, pageInfo: { hasNextPage: end < total, endCursor: String(end) }, edges };
}
vi.mock('../../gql/client.js', () => ({
  client: {
    query: (document, variables = {}) => ({
      toPromise: async () => {
        if (document.includes('myEmergencyAccessReviews')) {
          return { data: { myEmergencyAccessReviews: connection(served.accesses, access, variables.after) } };
        }
        const total = variables.filter?.actions ? served.exported : served.events;
        return { data: { myAccessHistory: connection(total, event, variables.after) } };
      },
    }),
  },
}));

const live = watchedPlace('main');
const { announced } = live;

async function settled(work = () => {}) {
  await act(async () => work());
  for (let i = 0; i < 5; i++) await act(async () => {});
}
const shown = () => settled(() => render(h(History), live.place));

const review = () => live.place.querySelector('section.emergency-review');
const paragraph = (within, text) => [...within.querySelectorAll('p')].find((p) => p.textContent === text);
const eventsCount = () => paragraph(live.place, '25 événements');
const accessesCount = () => paragraph(review(), "22 accès d'urgence");
const eventsMore = () => [...live.place.querySelectorAll(':scope > section > button')].find((b) => b.textContent === 'Afficher plus');
const accessesMore = () => review().querySelector(':scope > button');
const events = () => live.place.querySelectorAll('ul.history > li').length;
const accesses = () => review().querySelectorAll('ul.emergency-reviews > li').length;

// A button pressed that loads a page: the focus on it, as the keyboard leaves it.
async function press(button) {
  button.focus();
  announced();
  await settled(() => button.click());
}

describe('/historique: the count of events', () => {
  it('first drawn, is a status, neither focused nor announced', async () => {
    await shown();
    expect(events()).toBe(20);
    expect(eventsCount().querySelector('[role="status"]').textContent).toBe('25 événements');
    expect(document.activeElement).not.toBe(eventsCount());
    expect(announced()).toBe('');
  });

  it('changed by a filter, is announced, the focus left on the filter', async () => {
    await shown();
    const select = [...live.place.querySelectorAll('label')].find((l) => l.textContent === "Type d'événement").control;
    select.focus();
    announced();
    await settled(() => {
      select.value = 'RECORD_EXPORTED';
      select.dispatchEvent(new Event('change', { bubbles: true }));
      select.dispatchEvent(new Event('input', { bubbles: true }));
    });
    expect(events()).toBe(2);
    expect(document.activeElement).toBe(select);
    expect(announced()).toBe('2 événements');
  });

  it('once the last page takes « Afficher plus » away, takes the focus and has no live region in it', async () => {
    await shown();
    await press(eventsMore());
    expect(events()).toBe(25);
    expect(eventsMore()).toBeUndefined();
    expect(document.activeElement).toBe(eventsCount());
    expect(eventsCount().querySelector(LIVE)).toBeNull();
    expect(announced()).toBe('');
  });
});

describe("/historique: the count of emergency accesses", () => {
  it('first drawn, is a status, neither focused nor announced', async () => {
    await shown();
    expect(accesses()).toBe(20);
    expect(accessesCount().querySelector('[role="status"]').textContent).toBe("22 accès d'urgence");
    expect(document.activeElement).not.toBe(accessesCount());
    expect(announced()).toBe('');
  });

  it('once the last page takes « Afficher plus » away, takes the focus and has no live region in it', async () => {
    await shown();
    await press(accessesMore());
    expect(accesses()).toBe(22);
    expect(accessesMore()).toBeNull();
    expect(document.activeElement).toBe(accessesCount());
    expect(accessesCount().querySelector(LIVE)).toBeNull();
    expect(announced()).toBe('');
  });
});
