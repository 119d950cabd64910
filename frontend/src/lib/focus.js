// Where the keyboard goes when the control that had it is gone: removed with what it opened or
// closed, or disabled while its action ran (the browser then gives the focus to the page body).
// One rule on every screen: to the field that appears (a code, a name), else to the result
// message (a notice, an error), else to the section's heading. Nothing moves a focus still in use.
import { useEffect, useRef, useState } from 'preact/hooks';
import { language } from '../i18n/index.js';

export function focusLost(doc = globalThis.document) {
  const active = doc?.activeElement;
  return !active || active === doc.body || !active.isConnected;
}

// Focus `element` if the keyboard's focus was lost (see above).
export function focusIfLost(element) {
  if (element && focusLost(element.ownerDocument)) element.focus();
}

// Give the focus back to `element`, the control that opened a step now cancelled, if it is still
// on the page (the page body is nobody's control); says whether it did.
export function focusBack(element) {
  if (!element?.isConnected || element === element.ownerDocument?.body) return false;
  element.focus();
  return true;
}

// A form's first field: where the keyboard goes back to when a step of the form is cancelled.
export function firstField(form) {
  return form?.querySelector('input, select, textarea') ?? null;
}

// What an element does when it appears: takes the focus if `mode` says so (see below); if not
// and `show`, comes wholly into view by the least scroll (`block: 'nearest'`), the focus left where
// it is: a message said beside the button pressed, which a phone's screen may cut (docs/frontend.md).
// Says whether it took the focus.
export function appeared(element, mode, show = false) {
  if (!element) return false;
  if (mode === true || (mode === 'lost' && focusLost(element.ownerDocument))) {
    element.focus();
    return true;
  }
  if (show) element.scrollIntoView?.({ block: 'nearest', inline: 'nearest' });
  return false;
}

// A ref for an element that takes the focus when it appears (and when `again` changes):
// `mode` true always (a field just asked for, a form's own refusal), 'lost' only if nobody has
// it, false never.
export function useFocusOnAppear(mode, again) {
  const ref = useRef(null);
  useEffect(() => {
    appeared(ref.current, mode);
  }, [mode, again]);
  return ref;
}

// A message (a notice, an error, a count) is said once: either it takes the focus and is read as
// the focused element, or it is announced by its live region (role="status" or "alert"), never
// both (NVDA and JAWS read a focused live region twice). Whether it takes the focus ('lost') is
// only known once it is on the page, so it is first drawn with its live region empty and its text
// beside it, as it looks; then it takes the focus (the empty region goes), or its text moves into
// that region, on the page since the drawing before: a change screen readers announce (a region
// that appears with its text, or a role added to an element that holds it, is not announced
// reliably). Again for each new `message` (compared as is: a result, a said() object, a text).
// mode, show: as appeared's (above). quiet: neither announced nor scrolled to (a message shown
// again, useShownBefore); it still takes the focus if `mode` says so. first: what the first
// message (not null) does: 'say' (a message that appears) or 'keep' (a count drawn with its
// screen: drawn inside its region at once, which is neither focused nor announced). A null
// message (nothing shown) does nothing.
// A change of the page's language (the language control, which the screen reader reads as
// chosen) words the messages shown anew but says none of them again: a text in its live region
// leaves it for beside it (an empty region, as before it was said), worded in the new language;
// a text changed inside a live region would be announced as if new. The next message is said
// in its turn, into that region.
// Returns [ref, live]: `live` false (no region: the text alone), null (the region empty, the
// text beside it) or true (the text inside the region); LiveText (components/Status.jsx) draws them.
export function useSaid(mode, message, { show = false, quiet = false, first = 'say' } = {}) {
  const ref = useRef(null);
  const kept = useRef(first !== 'keep'); // the first message was seen (or needs no keeping)
  // live: as returned; lang: the language it was said in.
  const [said, setSaid] = useState({ message: undefined, live: undefined, lang: undefined });
  const lang = language.get();
  // Known before it is on the page (false: no region; true: a first count kept), or not yet (null).
  const known = mode === true || quiet ? false : kept.current ? null : true;
  // A text its caller words (t()), worded anew in the page's new language: the same message.
  const reworded = typeof message === 'string' && typeof said.message === 'string' && said.lang !== lang;
  const same = said.message === message || reworded;
  // Said in its region in another language: beside it now, worded anew (above).
  const moved = said.live === true && said.lang !== lang;
  const live = same ? (moved ? null : said.live) : known;
  useEffect(() => {
    if (message === null || message === undefined) {
      if (said.live !== undefined) setSaid({ message, live: undefined }); // the next one is new
      return;
    }
    if (same) {
      // Beside its region from now on, whatever the language.
      if (said.message !== message || moved) setSaid({ message, live: moved ? null : said.live, lang });
      return;
    }
    if (!ref.current) return;
    if (!kept.current) {
      kept.current = true;
      return setSaid({ message, live: true, lang });
    }
    const focused = appeared(ref.current, mode, show && !quiet);
    setSaid({ message, live: !focused && !quiet, lang });
  }, [mode, message, lang]);
  return [ref, live];
}

// Messages said beside the button pressed (a notice kept by said(), a refusal: objects, one per
// action) once shown. Such a message moves when its place does (an entry's card hidden by a
// filter, then shown again): shown again elsewhere, it is not said again (no role="status" or
// "alert" read out anew) nor scrolled to, away from the filter in use (it takes the focus only
// if lost, as any message).
const sayings = new WeakSet();

// Whether `message` was shown before this element appeared (`track`: a message said beside the
// button pressed; anything else is never "shown before").
export function useShownBefore(message, track) {
  const kept = track && message !== null && typeof message === 'object';
  // Decided once per message this element shows (when it first shows it).
  const seen = useRef(null);
  if (seen.current?.message !== message) seen.current = { message, before: kept && sayings.has(message) };
  useEffect(() => {
    if (kept) sayings.add(message);
  }, [kept, message]);
  return seen.current.before;
}
