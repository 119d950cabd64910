// What a screen reader announces, for the unit tests (not a test itself: vitest runs *.test.js).
// Each test draws into a fresh `place` on an emptied page, watched from its start; unmounted after.
import { afterEach, beforeEach } from 'vitest';
import { render } from 'preact';
import { act } from 'preact/test-utils';

// A live region: what comes into one already on the page is announced.
export const LIVE = '[role="status"], [role="alert"], [aria-live]';

// Registers the hooks; returns { place, heard, announced, forget } (`place` set before each test).
// tag: the place's element.
export function watchedPlace(tag) {
  const live = { place: null };
  let seen = [];
  let observer;
  beforeEach(() => {
    document.body.innerHTML = '';
    live.place = document.createElement(tag);
    document.body.append(live.place);
    seen = [];
    observer = new MutationObserver((records) => seen.push(...records));
    observer.observe(live.place, { childList: true, subtree: true, characterData: true });
  });
  afterEach(() => {
    observer.disconnect();
    act(() => render(null, live.place));
  });
  // Text that came into a live region already on the page, since the test began or forget().
  live.heard = () => {
    seen.push(...observer.takeRecords());
    const out = [];
    for (const record of seen) {
      const region = (record.target.nodeType === 1 ? record.target : record.target.parentElement)?.closest(LIVE);
      if (!region || !live.place.contains(region)) continue;
      if (record.type === 'characterData') out.push(record.target.data);
      for (const node of record.addedNodes) if (node.textContent) out.push(node.textContent);
    }
    return out.join(' ');
  };
  // What was heard is forgotten: heard() says only what comes next.
  live.forget = () => {
    seen = [];
    observer.takeRecords();
  };
  // heard(), then forgotten: what came since the last call.
  live.announced = () => {
    const text = live.heard();
    live.forget();
    return text;
  };
  return live;
}
