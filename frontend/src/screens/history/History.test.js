// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { h, render } from 'preact';
import { act } from 'preact/test-utils';
import { setLanguage } from '../../i18n/index.js';
import { History } from './History.jsx';
import { LIVE, watchedPlace } from '../../test/liveRegion.js';

// /historique's counts (its events', its emergency accesses'), said once (docs/frontend.md): drawn
// with the screen, a status neither focused nor announced; changed by a filter or an « Afficher
// plus » still there, announced by its live region, the focus left where it is; once the last page
// takes « Afficher plus » away, given the focus and read as focused, with no live region in it.

// The service: `events` history events and `accesses` emergency accesses, 20 a page (newest
// first); the filter « Dossier exporté » finds `exported` events.
const served = { events: 25, accesses: 22, exported: 2 };
const usually = { ...served };
afterEach(() => Object.assign(served, usually));
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
    // « C'était justifié »: the access acknowledged, an event of its own in the history.
    mutation: (document, variables) => ({
      toPromise: async () => {
        served.events += 1;
        const n = Number(variables.id.slice(2));
        return { data: { acknowledgeEmergencyAccess: { ...access(n), reviewState: 'ACKNOWLEDGED' } } };
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

// A filter chosen in one of the selects, as the person does; the focus on it.
async function choose(label, value) {
  const select = [...live.place.querySelectorAll('label')].find((l) => l.textContent === label).control;
  select.focus();
  announced();
  await settled(() => {
    select.value = value;
    select.dispatchEvent(new Event('change', { bubbles: true }));
    select.dispatchEvent(new Event('input', { bubbles: true }));
  });
  return select;
}
const countOf = (within, text) => paragraph(within, text);

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

// Each total is said once, when it is new: not again when « Afficher plus » adds a page (the total
// is that of all there is); a filter's is said, not the total of the list it replaces.
describe('/historique: the count of events, said once per total', () => {
  it('is not announced again by « Afficher plus » still there after its page', async () => {
    served.events = 45;
    await shown();
    await press(eventsMore());
    expect(events()).toBe(40);
    expect(document.activeElement).toBe(eventsMore());
    expect(countOf(live.place, '45 événements')).toBeDefined();
    expect(announced()).toBe('');
  });

  it('changed by a filter once the last page is loaded, is announced with the new total only', async () => {
    await shown();
    await press(eventsMore());
    expect(document.activeElement).toBe(eventsCount());
    const select = await choose("Type d'événement", 'RECORD_EXPORTED');
    expect(events()).toBe(2);
    expect(document.activeElement).toBe(select);
    expect(announced()).toBe('2 événements');
  });

  it('changed by a filter after a page still followed by others, is announced with the new total only', async () => {
    served.events = 45;
    await shown();
    await press(eventsMore());
    await choose("Type d'événement", 'RECORD_EXPORTED');
    expect(events()).toBe(2);
    expect(announced()).toBe('2 événements');
  });

  it('read again after a review, once all its pages were loaded, is announced with the new total only', async () => {
    await shown();
    await press(eventsMore());
    const acknowledge = review().querySelector('li button');
    expect(acknowledge.textContent).toBe("C'était justifié");
    await press(acknowledge);
    expect(document.activeElement.id).toBe('review-title-ac0'); // the access reviewed
    expect(events()).toBe(20); // read again, from its first page
    expect(announced()).toBe('26 événements');
  });

  it('after a filter that finds as many, is announced: the total of the list the filter asked for', async () => {
    await shown();
    await choose("Type d'accès", 'OWNER'); // every event of the service is the patient's own
    expect(events()).toBe(20);
    expect(announced()).toBe('25 événements');
  });
});

// « Aucun événement pour ces critères » stands in the count's place and is said as it is: into a
// live region already on the page, once.
describe('/historique: a filter that finds nothing', () => {
  afterEach(() => setLanguage('fr'));
  const NOTHING = 'Aucun événement pour ces critères.';

  it('is announced, the focus left on the filter', async () => {
    served.exported = 0;
    await shown();
    const select = await choose("Type d'événement", 'RECORD_EXPORTED');
    expect(events()).toBe(0);
    expect(document.activeElement).toBe(select);
    expect(announced()).toBe(NOTHING);
  });

  it('is not announced again when the page\'s language is switched, but worded anew', async () => {
    served.exported = 0;
    await shown();
    await choose("Type d'événement", 'RECORD_EXPORTED');
    announced();
    await settled(() => setLanguage('en'));
    await settled(() => render(h(History), live.place));
    expect(paragraph(live.place, 'No event matches these filters.')).toBeDefined();
    expect(announced()).toBe('');
  });
});

describe("/historique: the count of emergency accesses", () => {
  it('is not announced again by « Afficher plus » still there after its page', async () => {
    served.accesses = 45;
    await shown();
    await press(accessesMore());
    expect(accesses()).toBe(40);
    expect(document.activeElement).toBe(accessesMore());
    expect(announced()).toBe('');
  });

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
