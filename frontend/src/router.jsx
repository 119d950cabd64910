// A tiny History API router. Paths name screens only: no INS, no medical data in any URL.
import { useEffect, useState } from 'preact/hooks';
import { signal } from './lib/signal.js';

export const currentPath = signal(globalThis.location?.pathname ?? '/');

export function navigate(path, { replace = false } = {}) {
  if (path === currentPath.get()) return;
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  currentPath.set(path);
  globalThis.scrollTo?.(0, 0);
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
