// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { h, render } from 'preact';
import { useState } from 'preact/hooks';
import { act } from 'preact/test-utils';
import { said, setLanguage, t } from '../i18n/index.js';
import { useQuery } from '../gql/hooks.js';
import { ErrorBox, Notice } from './Status.jsx';
import { LIVE, watchedPlace } from '../test/liveRegion.js';

// A service that refuses every read (a screen that could not load).
vi.mock('../gql/client.js', () => ({
  client: {
    query: () => ({ toPromise: async () => ({ error: { graphQLErrors: [{ extensions: { code: 'RATE_LIMITED' } }] } }) }),
  },
}));

// A message said once (docs/frontend.md): one that takes the focus is read as the focused element
// and is no live region; one that leaves the focus where it is is announced by a live region that
// was on the page before its text came into it (a region that appears with its text, or a role
// added to an element that holds it, is not announced reliably).
const NOTICE = "Vous n'avez plus de médecin traitant désigné.";
const REFUSAL = 'Trop de tentatives. Réessayez plus tard.';

const live = watchedPlace('div');
let button;

// The button pressed, on the page before the place, has the focus.
beforeEach(() => {
  button = document.createElement('button');
  button.textContent = 'Partager';
  live.place.before(button);
  button.focus();
});

function show(vnode) {
  act(() => render(vnode, live.place));
}

// The button pressed is gone (removed with what it changed): the browser gives the focus to the body.
function buttonGone() {
  button.remove();
  if (document.activeElement === button) button.blur();
}

// What screen readers announce: text that came into a live region already on the page.
const announced = live.heard;

const message = (selector) => live.place.querySelector(selector);
const regions = () => [...live.place.querySelectorAll(LIVE)].filter((region) => region.textContent);

describe('a notice said where its button was (focus="lost")', () => {
  it('takes the focus once its button is gone, and is then no live region', () => {
    buttonGone();
    show(h(Notice, { focus: 'lost', reveal: true }, said('sharing.treatingCleared')));
    expect(message('.notice').textContent).toBe(NOTICE);
    expect(document.activeElement).toBe(message('.notice'));
    expect(regions()).toEqual([]);
    expect(announced()).toBe('');
  });

  it('beside its button still in use, leaves the focus there and is announced once, by its live region', () => {
    show(h(Notice, { focus: 'lost', reveal: true }, said('sharing.treatingCleared')));
    expect(document.activeElement).toBe(button);
    expect(regions().map((region) => [region.getAttribute('role'), region.textContent])).toEqual([['status', NOTICE]]);
    expect(announced()).toBe(NOTICE);
  });

  it('shown again elsewhere (moved by a filter), is neither announced again nor a live region', () => {
    const notice = said('sharing.treatingCleared');
    show(h(Notice, { focus: 'lost', reveal: true }, notice));
    show(null);
    live.forget();
    show(h('section', null, h(Notice, { focus: 'lost', reveal: true }, notice)));
    expect(message('.notice').textContent).toBe(NOTICE);
    expect(document.activeElement).toBe(button);
    expect(regions()).toEqual([]);
    expect(announced()).toBe('');
  });

  it('a new notice in the same place is announced in its turn', () => {
    show(h(Notice, { focus: 'lost', reveal: true }, said('sharing.treatingCleared')));
    live.forget();
    show(h(Notice, { focus: 'lost', reveal: true }, said('sharing.treatingCleared')));
    expect(document.activeElement).toBe(button);
    expect(announced()).toBe(NOTICE);
  });
});

describe('a refusal', () => {
  const refused = () => ({ code: 'RATE_LIMITED' });

  it("a form's own (focus), takes the focus and is no live region", () => {
    show(h(ErrorBox, { result: refused(), focus: true }));
    expect(document.activeElement).toBe(message('.error'));
    expect(message('.error').textContent).toBe(REFUSAL);
    expect(regions()).toEqual([]);
    expect(announced()).toBe('');
  });

  it('said where its button was, takes the focus once that button is gone, and is no live region', () => {
    buttonGone();
    show(h(ErrorBox, { result: refused(), focus: 'lost', reveal: true }));
    expect(document.activeElement).toBe(message('.error'));
    expect(regions()).toEqual([]);
    expect(announced()).toBe('');
  });

  it('beside its button still in use, is announced once as an alert, the focus left on the button', () => {
    show(h(ErrorBox, { result: refused(), focus: 'lost', reveal: true, about: 'Masquer « Vaccin » :' }));
    expect(document.activeElement).toBe(button);
    expect(regions().map((region) => [region.getAttribute('role'), region.textContent])).toEqual([
      ['alert', `Masquer « Vaccin » :${REFUSAL}`],
    ]);
    expect(announced()).toBe(`Masquer « Vaccin » : ${REFUSAL}`); // each paragraph
  });

  it('that never takes the focus (a screen that could not load), is announced as an alert', () => {
    buttonGone();
    show(h(ErrorBox, { result: refused() }));
    expect(document.activeElement).not.toBe(message('.error'));
    expect(announced()).toBe(REFUSAL);
  });

  it('shown again elsewhere, is neither announced again nor an alert; it takes the focus only if lost', () => {
    const failure = refused();
    show(h(ErrorBox, { result: failure, focus: 'lost', reveal: true }));
    show(null);
    live.forget();
    buttonGone();
    show(h('section', null, h(ErrorBox, { result: failure, focus: 'lost', reveal: true })));
    expect(document.activeElement).toBe(message('.error'));
    expect(regions()).toEqual([]);
    expect(announced()).toBe('');
  });
});

// The page's language switched (its control, which the screen reader reads as chosen): the
// messages shown are worded anew, none is said again; the next one is said in its turn.
describe('a change of language', () => {
  afterEach(() => setLanguage('fr'));
  const switched = (lang, vnode) => act(() => {
    setLanguage(lang);
    render(vnode, live.place);
  });

  it('words a notice already announced anew, and does not announce it again, in either direction', () => {
    const notice = said('sharing.treatingCleared');
    show(h(Notice, { focus: 'lost', reveal: true }, notice));
    expect(announced()).toBe(NOTICE);
    live.forget();
    switched('en', h(Notice, { focus: 'lost', reveal: true }, notice));
    expect(message('.notice').textContent).toBe('You no longer have a treating physician.');
    expect(announced()).toBe('');
    switched('fr', h(Notice, { focus: 'lost', reveal: true }, notice));
    expect(message('.notice').textContent).toBe(NOTICE);
    expect(announced()).toBe('');
    expect(document.activeElement).toBe(button);
  });

  it('does not announce a refusal again; the next one is announced, in the new language', () => {
    const failure = { code: 'RATE_LIMITED' };
    show(h(ErrorBox, { result: failure, focus: 'lost', reveal: true }));
    live.forget();
    switched('en', h(ErrorBox, { result: failure, focus: 'lost', reveal: true }));
    expect(message('.error').textContent).not.toBe(REFUSAL);
    expect(announced()).toBe('');
    show(h(ErrorBox, { result: { code: 'RATE_LIMITED' }, focus: 'lost', reveal: true }));
    expect(announced()).toBe(message('.error').textContent);
    expect(announced()).not.toBe(REFUSAL);
  });

  it('does not announce again a notice its screen words itself (t()), worded anew', () => {
    const sent = () => h(Notice, {}, t('login.codeSent', { to: 'm***@example.test' }));
    show(sent());
    expect(announced()).toBe('Un code à 6 chiffres a été envoyé à m***@example.test.');
    live.forget();
    act(() => setLanguage('en'));
    show(sent()); // worded by the screen drawn again
    expect(message('.notice').textContent).toBe('A 6-digit code was sent to m***@example.test.');
    expect(announced()).toBe('');
    act(() => setLanguage('fr'));
    show(sent());
    expect(announced()).toBe('');
    expect(document.activeElement).toBe(button);
  });

  it('leaves a message read as focused as it was: no live region comes', () => {
    buttonGone();
    const notice = said('sharing.treatingCleared');
    show(h(Notice, { focus: 'lost', reveal: true }, notice));
    switched('en', h(Notice, { focus: 'lost', reveal: true }, notice));
    expect(document.activeElement).toBe(message('.notice'));
    expect(live.place.querySelector(LIVE)).toBeNull();
    expect(announced()).toBe('');
  });
});

describe('a screen that could not load', () => {
  it('is announced once, not again each time the screen is drawn again (a field typed in)', async () => {
    let redraw;
    function Screen() {
      const query = useQuery('query Screen { me { id } }');
      const [typed, setTyped] = useState('');
      redraw = setTyped;
      return h('section', null, h('p', null, typed), query.code ? h(ErrorBox, { result: query }) : null);
    }
    await act(async () => render(h(Screen), live.place));
    await act(async () => {});
    expect(message('.error').textContent).toBe(REFUSAL);
    expect(announced()).toBe(REFUSAL);
    live.forget();
    act(() => redraw('a'));
    act(() => redraw('ab'));
    expect(message('.error').textContent).toBe(REFUSAL);
    expect(announced()).toBe('');
  });
});

describe('the page', () => {
  it('has no element that both takes the focus and is a live region (read twice)', async () => {
    const { readFileSync, readdirSync } = await import('node:fs');
    const { join } = await import('node:path');
    const root = join(import.meta.dirname, '..');
    const files = readdirSync(root, { recursive: true }).filter((name) => name.endsWith('.jsx'));
    const both = [];
    for (const name of files) {
      const source = readFileSync(join(root, name), 'utf8');
      for (const [tag] of source.matchAll(/<[a-z]+\b(?:=>|[^>])*>/g)) {
        if (/\btabIndex=/.test(tag) && /\brole=(?:"(?:status|alert)"|\{)|\baria-live=/.test(tag)) both.push(`${name}: ${tag}`);
      }
    }
    expect(files.length).toBeGreaterThan(10);
    expect(both).toEqual([]);
  });
});
