// A tiny History API router. Paths name screens only: no INS, no medical data in any URL.
// A path may end with an anchor (`/partage#medecin-traitant`): a part of its screen, named by a
// word as the paths are, where the keyboard goes once the screen has drawn it (useAnchor).
import { useEffect, useRef, useState } from 'preact/hooks';
import { signal } from './lib/signal.js';

export const currentPath = signal(globalThis.location?.pathname ?? '/');

// `href` split into its path and its anchor's id ('' when it has none).
export function splitHref(href) {
  const at = href.indexOf('#');
  return at < 0 ? [href, ''] : [href.slice(0, at), decoded(href.slice(at + 1))];
}

function decoded(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // a malformed address (`#%E0`, typed): names no anchor of ours
  }
}

export function navigate(href, { replace = false } = {}) {
  const [path, anchor] = splitHref(href);
  const samePath = path === currentPath.get();
  if (samePath && !anchor) return;
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  if (samePath) return goToAnchor(globalThis.document?.getElementById(anchor)); // drawn already
  currentPath.set(path);
  globalThis.scrollTo?.(0, 0);
}

// The keyboard (and the view) to an anchor's element: focused, so that a screen reader reads
// it and Tab goes on from there, its top at the top of the view.
function goToAnchor(element) {
  if (!element) return;
  element.focus({ preventScroll: true });
  element.scrollIntoView?.({ block: 'start' });
}

// A ref for the element named `id` on its screen (an anchor: give it the id and tabIndex -1):
// when the address names it (`#id`, followed from a link, typed or bookmarked), it takes the
// focus the first time the screen draws it, which may be after the screen's data has come.
export function useAnchor(id) {
  const ref = useRef(null);
  const done = useRef(false);
  useEffect(() => {
    if (done.current || !ref.current) return;
    done.current = true;
    if (splitHref(globalThis.location?.hash ?? '')[1] === id) goToAnchor(ref.current);
  });
  return ref;
}

if (globalThis.addEventListener) {
  globalThis.addEventListener('popstate', () => currentPath.set(location.pathname));
}

export function usePath() {
  const [path, setPath] = useState(currentPath.get());
  useEffect(() => currentPath.subscribe(setPath), []);
  return path;
}

// A link's aria-current at `path`: "page" on its own page; for a link that names a section
// (the menu's), "true" on a page under it too (/securite/coordonnees for /securite), since the
// link is then the current item of the menu without being the page itself.
export function currentFor(path, href, section = false) {
  if (path === href) return 'page';
  if (section && path.startsWith(`${href}/`)) return 'true';
  return undefined;
}

export function Link({ href, section = false, children, ...rest }) {
  const onClick = (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    navigate(href);
  };
  const current = currentFor(usePath(), href, section);
  return (
    <a href={href} onClick={onClick} aria-current={current} {...rest}>
      {children}
    </a>
  );
}
