// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import { h, render } from 'preact';
import { act } from 'preact/test-utils';
import { setLanguage } from '../i18n/index.js';
import { RecordTimeline } from './RecordTimeline.jsx';
import { LIVE, watchedPlace } from '../test/liveRegion.js';

// The record's count is said once when "More" changes it (docs/frontend.md): the focus on it once
// its button is gone (read as the focused element, no live region), announced by its live region
// while the button is still there; the count first drawn is neither.

const entry = (n) => ({
  id: `e${n}`, title: `Vaccin ${n}`, date: `2026-0${n}-01`, createdAt: `2026-0${n}-01T10:00:00Z`,
  section: 'VACCINATIONS', source: 'PATIENT', author: null,
});
const record = (n, more) => ({
  vaccinations: { edges: Array.from({ length: n }, (_, i) => ({ node: entry(i + 1) })), pageInfo: { hasNextPage: more } },
});

const live = watchedPlace('main');
const { announced } = live;

const show = (n, more) => act(() => render(h(RecordTimeline, { record: record(n, more), onMore: () => {}, ownRecord: true }), live.place));
const count = () => [...live.place.querySelectorAll('p')].find((p) => /informations? affichées?/.test(p.textContent));
const moreButton = () => live.place.querySelector(':scope > .actions button');

const regions = () => [...live.place.querySelectorAll(LIVE)].filter((region) => region.textContent).map((r) => r.textContent);

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
    const field = [...live.place.querySelectorAll('label')].find((l) => l.textContent === label).control;
    field.value = text;
    field.dispatchEvent(new Event('input', { bubbles: true }));
  });
const emptySaid = () => live.place.querySelector('p.empty')?.textContent;

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

// A count is said once per new count: a page loaded changes nothing said when the filters hide
// it and its "More" is still there; a filter is answered by its count, even the same.
describe('the record\'s count, said once per new count', () => {
  it('is not announced again by a "More" still there whose page the filters hide', () => {
    show(1, true);
    typeDay('Au', '01/01/2020'); // before every entry: none shown
    moreButton().focus();
    announced();
    show(2, true); // a page hidden too, and more still offered
    expect(count().textContent).toBe('0 information affichée');
    expect(document.activeElement).toBe(moreButton());
    expect(announced()).toBe('');
  });

  it('after a filter that shows as many, is announced: the filter is answered', () => {
    show(2, false);
    [...live.place.querySelectorAll('label')].find((l) => l.textContent === 'Au').control.focus();
    announced();
    typeDay('Au', '31/12/2030'); // after every entry: all shown
    expect(count().textContent).toBe('2 informations affichées');
    expect(announced()).toBe('2 informations affichées');
  });
});

describe('the record\'s count, once the page\'s language is switched', () => {
  afterEach(() => setLanguage('fr'));

  it('is worded anew, not announced again', () => {
    show(1, true);
    moreButton().focus();
    show(2, true);
    expect(announced()).toBe('2 informations affichées');
    act(() => setLanguage('en'));
    show(2, true);
    const shownEn = [...live.place.querySelectorAll('p')].find((p) => /entries shown/.test(p.textContent));
    expect(shownEn.textContent).toBe('2 entries shown');
    expect(announced()).toBe('');
    show(3, true); // the next count is said, in the new language
    expect(announced()).toBe('3 entries shown');
  });
});
