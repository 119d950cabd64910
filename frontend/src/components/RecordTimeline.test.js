// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { h, render } from 'preact';
import { act } from 'preact/test-utils';
import { RecordTimeline } from './RecordTimeline.jsx';

// The record's count is said once when "More" changes it (docs/frontend.md): the focus on it once
// its button is gone (read as the focused element, no live region), announced by its live region
// while the button is still there; the count first drawn is neither.
const LIVE = '[role="status"], [role="alert"], [aria-live]';

const entry = (n) => ({
  id: `e${n}`, title: `Vaccin ${n}`, date: `2026-0${n}-01`, createdAt: `2026-0${n}-01T10:00:00Z`,
  section: 'VACCINATIONS', source: 'PATIENT', author: null,
});
const record = (n, more) => ({
  vaccinations: { edges: Array.from({ length: n }, (_, i) => ({ node: entry(i + 1) })), pageInfo: { hasNextPage: more } },
});

let place;
let seen;
let observer;

beforeEach(() => {
  document.body.innerHTML = '';
  place = document.createElement('main');
  document.body.append(place);
  seen = [];
  observer = new MutationObserver((records) => seen.push(...records));
  observer.observe(place, { childList: true, subtree: true, characterData: true });
});

afterEach(() => {
  observer.disconnect();
  act(() => render(null, place));
});

const show = (n, more) => act(() => render(h(RecordTimeline, { record: record(n, more), onMore: () => {}, ownRecord: true }), place));
const count = () => [...place.querySelectorAll('p')].find((p) => /informations? affichées?/.test(p.textContent));
const moreButton = () => place.querySelector(':scope > .actions button');

// Text that came into a live region already on the page, since the last call.
function announced() {
  seen.push(...observer.takeRecords());
  const out = [];
  for (const record of seen) {
    const region = (record.target.nodeType === 1 ? record.target : record.target.parentElement)?.closest(LIVE);
    if (!region || !place.contains(region)) continue;
    if (record.type === 'characterData') out.push(record.target.data);
    for (const node of record.addedNodes) if (node.textContent) out.push(node.textContent);
  }
  seen = [];
  return out.join(' ');
}
const regions = () => [...place.querySelectorAll(LIVE)].filter((region) => region.textContent).map((r) => r.textContent);

describe("the record's count", () => {
  it('first drawn, is neither focused nor announced', () => {
    show(1, true);
    expect(count().textContent).toBe('1 information affichée');
    expect(regions()).toEqual(['1 information affichée']); // a status, drawn with the screen
    expect(document.activeElement).not.toBe(count());
    expect(announced()).toBe('');
  });

  it('changed by a "More" still there, is announced once, the focus left on the button', () => {
    show(1, true);
    moreButton().focus();
    announced();
    show(2, true);
    expect(document.activeElement).toBe(moreButton());
    expect(regions()).toEqual(['2 informations affichées']);
    expect(announced()).toBe('2 informations affichées');
  });

  it('changed by the last "More" (its button gone), takes the focus and is no live region', () => {
    show(1, true);
    moreButton().focus();
    announced();
    show(2, false);
    expect(moreButton()).toBeNull();
    expect(document.activeElement).toBe(count());
    expect(regions()).toEqual([]);
    expect(announced()).toBe('');
  });
});

// A filter set by typing a day in one of its date fields, as the person does.
const typeDay = (label, text) =>
  act(() => {
    const field = [...place.querySelectorAll('label')].find((l) => l.textContent === label).control;
    field.value = text;
    field.dispatchEvent(new Event('input', { bubbles: true }));
  });
const emptySaid = () => place.querySelector('p.empty')?.textContent;

describe('a "More" whose page the filters hide', () => {
  it('once its button is gone, gives the keyboard to the count, though the count did not change', () => {
    show(1, true);
    typeDay('Au', '01/01/2020'); // before every entry: none shown
    expect(count().textContent).toBe('0 information affichée');
    moreButton().focus();
    show(2, false); // the last page, hidden too: the button goes
    expect(moreButton()).toBeNull();
    expect(count().textContent).toBe('0 information affichée');
    expect(document.activeElement).toBe(count());
  });

  it('still there, says that nothing was found among what is loaded so far, not that nothing matches', () => {
    show(1, true);
    typeDay('Au', '01/01/2020');
    expect(emptySaid()).toBe(
      "Aucune information pour ces critères parmi celles chargées jusqu'ici : « Plus de résultats » cherche parmi les plus anciennes.",
    );
    show(2, false);
    expect(emptySaid()).toBe('Aucune information pour ces critères.');
  });
});
