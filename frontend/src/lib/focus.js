// Where the keyboard goes when the control that had it is gone: removed with what it opened or
// closed, or disabled while its action ran (the browser then gives the focus to the page body).
// One rule on every screen: to the field that appears (a code, a name), else to the result
// message (a notice, an error), else to the section's heading. Nothing moves a focus still in use.
import { useEffect, useRef } from 'preact/hooks';

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
export function appeared(element, mode, show = false) {
  if (!element) return;
  if (mode === true || (mode === 'lost' && focusLost(element.ownerDocument))) element.focus();
  else if (show) element.scrollIntoView?.({ block: 'nearest', inline: 'nearest' });
}

// A ref for an element that takes the focus when it appears (and when `again` changes):
// `mode` true always (a field just asked for, a form's own refusal), 'lost' only if nobody has
// it, false never; `show`: one that does not take it comes into view (appeared, above).
export function useFocusOnAppear(mode, again, show = false) {
  const ref = useRef(null);
  useEffect(() => {
    appeared(ref.current, mode, show);
  }, [mode, again]);
  return ref;
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
