// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { h, render } from 'preact';
import { act } from 'preact/test-utils';
import { setLanguage } from '../../i18n/index.js';
import { History } from './History.jsx';

// /historique's lines of the events that say more than their action (backend/audit/reasons.py):
// a practitioner refused because the patient's report closed their emergency access, the
// patient's review of an emergency access, which names the access, and the events that name an
// entry, with its title as it is now (`entryTitle`: null once the entry is deleted).

const OPENED = '2026-11-03T08:15:42Z';
const base = {
  at: '2026-11-03T09:00:00Z', actorProfession: null, sections: [], entryId: null, emergency: false,
};
const EVENTS = [
  {
    ...base, id: 'ev2', seq: 2, actorId: 'pro1', actorName: 'Jeanne Martin', actorProfession: 'medecin',
    actorRole: 'PRACTITIONER', action: 'ACCESS_DENIED', mode: 'BREAK_GLASS', emergency: true,
    reason: "accès d'urgence fermé par le signalement du patient",
  },
  {
    ...base, id: 'ev1', seq: 1, actorId: 'me', actorName: 'Alice Patient', actorRole: 'PATIENT',
    action: 'EMERGENCY_REVIEWED', mode: 'OWNER', entryId: 's1',
    reason: `REPORTED BREAK_GLASS ${OPENED} Jeanne Martin (médecin, RPPS 10001234567): Je ne la connais pas`,
  },
  {
    ...base, id: 'ev5', seq: 5, actorId: 'me', actorName: 'Alice Patient', actorRole: 'PATIENT',
    action: 'ENTRY_MASKED', mode: 'OWNER', sections: ['MEDICATIONS'], entryId: 'e1', entryTitle: 'Metformine 850 mg',
    reason: '',
  },
  {
    ...base, id: 'ev4', seq: 4, actorId: 'me', actorName: 'Alice Patient', actorRole: 'PATIENT',
    action: 'ENTRY_DELETED', mode: 'OWNER', sections: ['VACCINATIONS'], entryId: 'e2', entryTitle: null,
    reason: '',
  },
  {
    ...base, id: 'ev3', seq: 3, actorId: 'me', actorName: 'Alice Patient', actorRole: 'PATIENT',
    action: 'ENTRY_MASKED', mode: 'OWNER', sections: ['ALLERGIES', 'MEDICATIONS'], entryId: null, entryTitle: null,
    reason: '',
  },
];
// The documents the screen sent (its history query asks for the titles).
const asked = [];
vi.mock('../../gql/client.js', () => ({
  client: {
    query: (document) => ({
      toPromise: async () => {
        asked.push(document);
        const empty = { totalCount: 0, pageInfo: { hasNextPage: false, endCursor: null }, edges: [] };
        if (document.includes('myEmergencyAccessReviews')) return { data: { myEmergencyAccessReviews: empty } };
        const edges = EVENTS.map((node) => ({ cursor: String(node.seq), node }));
        return { data: { myAccessHistory: { ...empty, totalCount: edges.length, edges } } };
      },
    }),
  },
}));

let place;
async function shown() {
  document.body.innerHTML = '';
  place = document.createElement('main');
  document.body.append(place);
  await act(async () => render(h(History), place));
  for (let i = 0; i < 5; i++) await act(async () => {});
}
afterEach(() => {
  act(() => render(null, place));
  setLanguage('fr');
});
const lines = () => [...place.querySelectorAll('ul.history > li')];
const line = (id) => lines()[EVENTS.findIndex((e) => e.id === id)];
const texts = (li) => [...li.children].map((child) => child.textContent);
const at = (locale) => new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(OPENED));

describe('/historique: what an event says beyond its action', () => {
  it('a read refused once the report closed the emergency access: an emergency, and why', async () => {
    await shown();
    const [denied] = lines();
    expect(denied.querySelector('h3').textContent).toBe('Urgence Accès refusé');
    expect(denied.textContent).toContain("Détail : accès d'urgence fermé par le signalement du patient");
    setLanguage('en');
    await shown();
    expect(lines()[0].textContent).toContain("Details: emergency access closed by the patient's report");
  });

  it('an emergency access reviewed: which access, opened by whom and when, and the comment', async () => {
    await shown();
    const reviewed = lines()[1];
    expect(reviewed.querySelector('h3').textContent).toBe("Accès d'urgence examiné");
    expect(reviewed.textContent).toContain(
      'Détail : accès signalé comme injustifié — accès en urgence (bris de glace) ouvert par '
      + `Jeanne Martin (médecin, RPPS 10001234567) le ${at('fr-FR')} : Je ne la connais pas`);
    setLanguage('en');
    await shown();
    expect(lines()[1].textContent).toContain(
      'Details: access reported as unjustified — break-glass emergency access opened by '
      + `Jeanne Martin (doctor, RPPS 10001234567) on ${at('en-GB')}: Je ne la connais pas`);
  });

  it("an event that names an entry: the entry's title, below its sections, only while the entry is there", async () => {
    await shown();
    expect(asked.some((d) => d.includes('myAccessHistory') && /\bentryTitle\b/.test(d))).toBe(true);
    // Heading, date and person, sections, then the title: the lines before it as they were.
    const masked = texts(line('ev5'));
    expect([masked[0], masked[2], masked[3]]).toEqual(['Information masquée', 'Médicaments', 'Information : Metformine 850 mg']);
    expect(masked[1]).toMatch(/ · Alice Patient · Vous$/);
    expect(line('ev5').querySelector('p.entry-title').textContent).toBe('Information : Metformine 850 mg');
    // Deleted since, or no one entry (« tout masquer »): the line as it was, with no title.
    for (const [id, heading, sections] of [['ev4', 'Information supprimée', 'Vaccinations'], ['ev3', 'Information masquée', 'MédicamentsAllergies']]) {
      const shownLine = texts(line(id));
      expect([shownLine[0], shownLine[2]]).toEqual([heading, sections]);
      expect(line(id).querySelector('p.entry-title')).toBeNull();
      expect(line(id).textContent).not.toContain('Information :');
      expect(shownLine.length).toBe(masked.length - 1);
    }
    setLanguage('en');
    await shown();
    expect(line('ev5').querySelector('p.entry-title').textContent).toBe('Entry: Metformine 850 mg');
  });
});
