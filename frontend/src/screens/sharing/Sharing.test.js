// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { h, render } from 'preact';
import { act } from 'preact/test-utils';
import { setLanguage } from '../../i18n/index.js';
import { Sharing } from './Sharing.jsx';
import { watchedPlace } from '../../test/liveRegion.js';

// /partage: what a search of the directory found (how many, or none) is said once per search
// (docs/frontend.md), the keyboard left on « Rechercher »: into a live region already on the page,
// also when it finds as many as the search before, and not again when the page's language changes.

// The directory: « Martin » and « Durand » find one professional each, « Zzyzx » none.
const nurse = (id, name) => ({
  id, displayName: name, profession: 'infirmier', rpps: '10000000001', city: 'Lyon', allowedSections: ['VACCINATIONS'],
});
const directory = { Martin: [nurse('p1', 'Paul Martin')], Durand: [nurse('p2', 'Lise Durand')], Zzyzx: [] };
vi.mock('../../gql/client.js', () => ({
  client: {
    query: (document, variables = {}) => ({
      toPromise: async () => {
        if (document.includes('practitionerDirectory')) return { data: { practitionerDirectory: directory[variables.search] } };
        return {
          data: {
            myRecordStatus: { status: 'ACTIVE' },
            mySharing: {
              grants: [], treatingPhysician: null, blocked: [], allowRegulatorAccess: true, allowBreakGlass: true,
              notifyNewDocuments: false,
            },
          },
        };
      },
    }),
  },
}));

const live = watchedPlace('main');
const { announced } = live;
afterEach(() => setLanguage('fr'));

async function settled(work = () => {}) {
  await act(async () => work());
  for (let i = 0; i < 5; i++) await act(async () => {});
}
const shown = () => settled(() => render(h(Sharing), live.place));

// A search typed and sent with « Rechercher », which keeps the focus.
async function find(text) {
  const field = [...live.place.querySelectorAll('label')].find((l) => l.textContent === 'Rechercher un professionnel').control;
  await settled(() => {
    field.value = text;
    field.dispatchEvent(new Event('input', { bubbles: true }));
  });
  const button = [...live.place.querySelectorAll('button')].find((b) => b.textContent === 'Rechercher');
  button.focus();
  announced();
  await settled(() => button.click());
  expect(document.activeElement).toBe(button);
}

describe('/partage: what a search found', () => {
  it('is announced', async () => {
    await shown();
    await find('Martin');
    expect(announced()).toBe('1 professionnel trouvé');
  });

  it('is announced for each search, even one that finds as many as the one before', async () => {
    await shown();
    await find('Martin');
    await find('Durand');
    expect(live.place.querySelector('ul.cards h3').textContent).toContain('Lise Durand');
    expect(announced()).toBe('1 professionnel trouvé');
  });

  it('when nothing, is announced so', async () => {
    await shown();
    await find('Zzyzx');
    expect(announced()).toBe('Aucun professionnel ne correspond.');
  });

  it('is not announced again when the page\'s language is switched, but worded anew', async () => {
    await shown();
    await find('Zzyzx');
    expect(announced()).toBe('Aucun professionnel ne correspond.');
    await settled(() => setLanguage('en'));
    await settled(() => render(h(Sharing), live.place));
    const none = [...live.place.querySelectorAll('p.empty')].filter((p) => p.textContent === 'No professional matches.');
    expect(none).toHaveLength(1);
    expect(announced()).toBe('');
  });
});

// A search too short to be asked is refused beside the form, the keyboard left on « Rechercher »:
// said once per search, into its live region; worded anew, not said again, when the language changes.
describe('/partage: a search too short', () => {
  const TOO_SHORT = 'Tapez au moins 2 caractères pour rechercher un professionnel.';
  const warning = () => live.place.querySelector('form p.error');

  it('is announced', async () => {
    await shown();
    await find(' P ');
    expect(warning().textContent).toBe(TOO_SHORT);
    expect(announced()).toBe(TOO_SHORT);
  });

  it('is announced again for another search too short', async () => {
    await shown();
    await find(' P ');
    await find('Q');
    expect(announced()).toBe(TOO_SHORT);
  });

  it('is not announced again when the page\'s language is switched, but worded anew, in either direction', async () => {
    await shown();
    await find(' P ');
    expect(announced()).toBe(TOO_SHORT);
    await settled(() => setLanguage('en'));
    await settled(() => render(h(Sharing), live.place));
    expect(warning().textContent).toBe('Type at least 2 characters to find a professional.');
    expect(announced()).toBe('');
    await settled(() => setLanguage('fr'));
    await settled(() => render(h(Sharing), live.place));
    expect(warning().textContent).toBe(TOO_SHORT);
    expect(announced()).toBe('');
    // The next one is said in its turn.
    await find('Q');
    expect(announced()).toBe(TOO_SHORT);
  });
});

// Refusing the regulator's access alone does not stop a regulator's break-glass (DESIGN §3,
// rules 9 and 10): the page says so beside the choice, read with it by screen readers.
describe('/partage: the emergency choices', () => {
  it('say that refusing the regulator does not refuse break-glass', async () => {
    await shown();
    const label = [...live.place.querySelectorAll('label')].find((l) => l.textContent === "Autoriser l'accès du médecin régulateur du SAMU");
    const note = live.place.querySelector(`#${label.control.getAttribute('aria-describedby')}`);
    expect(note.textContent).toContain('bris de glace');
    expect(note.textContent).toContain("n'empêche pas");
  });
});
