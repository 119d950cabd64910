// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { h, render } from 'preact';
import { act } from 'preact/test-utils';
import { setLanguage } from '../i18n/index.js';
import { EmergencyBanner } from './EmergencyBanner.jsx';
import { watchedPlace } from '../test/liveRegion.js';

// /praticien's emergency banner (docs/frontend.md): said once, into its role="alert" already on
// the page, the keyboard given to the record's heading; a change of the page's language words it
// anew without saying it again; an access of its own (another end) is said in its turn.

const live = watchedPlace('article');
const { announced } = live;
// The countdown does not tick here (its timer is no live region, but the helper hears any aria-live).
beforeEach(() => vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] }));
afterEach(() => {
  vi.useRealTimers();
  setLanguage('fr');
});

const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();
const banner = (expiresAt) => h(EmergencyBanner, { mode: 'BREAK_GLASS', expiresAt });
const show = (vnode) => act(() => render(vnode, live.place));
const shown = () => live.place.querySelector('.banner');

describe('/praticien: the emergency banner', () => {
  it('is announced when it appears, in its live region, the focus left where it is', () => {
    const heading = document.createElement('h2');
    heading.tabIndex = -1;
    document.body.append(heading);
    heading.focus();
    show(banner(inAnHour()));
    const said = announced();
    expect(said).toContain('Bris de glace (urgence)');
    expect(said).toContain("Accès d'urgence en lecture seule.");
    expect(shown().querySelector('[role="alert"]').textContent).toBe(shown().textContent);
    expect(document.activeElement).toBe(heading);
  });

  it('is not announced again when the page\'s language is switched, but worded anew, in either direction', () => {
    const end = inAnHour();
    show(banner(end));
    expect(announced()).toContain('Bris de glace (urgence)');
    act(() => setLanguage('en'));
    show(banner(end));
    expect(shown().textContent).toContain('Break-glass (emergency)');
    expect(shown().textContent).toContain('Read-only emergency access.');
    expect(shown().querySelector('[role="timer"]')).not.toBeNull();
    expect(announced()).toBe('');
    act(() => setLanguage('fr'));
    show(banner(end));
    expect(shown().textContent).toContain('Bris de glace (urgence)');
    expect(announced()).toBe('');
  });

  it('after a change of language, announces an access of its own (another end) in its turn', () => {
    show(banner(inAnHour()));
    act(() => setLanguage('en'));
    show(banner(inAnHour()));
    announced();
    show(banner(new Date(Date.now() + 7200_000).toISOString()));
    expect(announced()).toContain('Break-glass (emergency)');
  });
});
