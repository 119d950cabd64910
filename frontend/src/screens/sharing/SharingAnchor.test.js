// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { h, render } from 'preact';
import { act } from 'preact/test-utils';
import { setLanguage } from '../../i18n/index.js';
import { currentPath, navigate, splitHref } from '../../router.jsx';
import { Sharing, TREATING_ANCHOR } from './Sharing.jsx';

// /partage#medecin-traitant: « Mon médecin traitant » is an anchor of /partage (the card of an
// emergency access by the treating physician on /historique leads there); followed, the keyboard
// goes to its heading once the screen has drawn it, after its data has come.

vi.mock('../../gql/client.js', () => ({
  client: {
    query: () => ({
      toPromise: async () => ({
        data: {
          myRecordStatus: { status: 'ACTIVE' },
          mySharing: {
            grants: [], blocked: [], allowRegulatorAccess: true, allowBreakGlass: true, notifyNewDocuments: false,
            treatingPhysician: { id: 'p1', displayName: 'Jean Martin', profession: 'medecin', rpps: '10000000001', city: 'Lyon', allowedSections: [] },
          },
        },
      }),
    }),
  },
}));

let place;
beforeEach(() => {
  setLanguage('fr');
  document.body.innerHTML = '';
  place = document.createElement('main');
  document.body.append(place);
});
afterEach(async () => {
  await act(async () => render(null, place));
  history.replaceState(null, '', '/');
  currentPath.set('/');
});

async function shown() {
  await act(async () => render(h(Sharing), place));
  for (let i = 0; i < 5; i++) await act(async () => {});
}
const heading = () => document.getElementById(TREATING_ANCHOR);

describe('the anchor of « Mon médecin traitant » on /partage', () => {
  it('is the heading of that part, which the keyboard can be given', async () => {
    expect(TREATING_ANCHOR).toBe('medecin-traitant');
    await shown();
    expect(heading().tagName).toBe('H2');
    expect(heading().textContent).toBe('Mon médecin traitant');
    expect(heading().tabIndex).toBe(-1);
  });

  it('takes the focus once drawn, when the address names it', async () => {
    navigate(`/partage#${TREATING_ANCHOR}`);
    expect(currentPath.get()).toBe('/partage');
    expect(location.pathname + location.hash).toBe('/partage#medecin-traitant');
    await shown();
    expect(document.activeElement).toBe(heading());
  });

  it('leaves the focus alone when the address names none', async () => {
    navigate('/partage');
    await shown();
    expect(heading()).not.toBeNull();
    expect(document.activeElement).not.toBe(heading());
  });

  it('takes the focus at once when followed on /partage itself', async () => {
    navigate('/partage');
    await shown();
    navigate(`/partage#${TREATING_ANCHOR}`);
    expect(location.hash).toBe('#medecin-traitant');
    expect(document.activeElement).toBe(heading());
  });
});

describe('an address with an anchor', () => {
  it('is its path and its anchor', () => {
    expect(splitHref('/partage#medecin-traitant')).toEqual(['/partage', 'medecin-traitant']);
    expect(splitHref('/partage')).toEqual(['/partage', '']);
    expect(splitHref('#medecin-traitant')).toEqual(['', 'medecin-traitant']);
    expect(splitHref('/partage#%E0')).toEqual(['/partage', '%E0']);
  });
});
