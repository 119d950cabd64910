// Who is signed in. `me` is null when signed out, undefined while the first check runs.
import { signal } from './lib/signal.js';
import { navigate, currentPath } from './router.jsx';
import { forget } from './lib/kept.js';

export const session = signal(undefined);
// True from a session found expired on a signed-in page until the next sign-in: the login
// page says why it is shown.
export const expired = signal(false);
const RETURN_KEY = 'dmp.returnTo';

// Who was signed in before the session expired: what they typed is given back to them only.
let previousAccount = null;

export function signedIn(me) {
  if (previousAccount && previousAccount !== me?.id) forget();
  previousAccount = me?.id ?? null;
  expired.set(false);
  session.set(me);
  let target = null;
  try {
    target = sessionStorage.getItem(RETURN_KEY);
    sessionStorage.removeItem(RETURN_KEY);
  } catch {
    // No storage: go home.
  }
  navigate(target || homeFor(me), { replace: true });
}

export function homeFor(me) {
  return me?.role === 'PRACTITIONER' ? '/praticien' : me?.role === 'SUPPORT' ? '/securite' : '/dossier';
}

// The server said UNAUTHENTICATED: back to login, remembering where the user was.
export function sessionExpired() {
  const here = currentPath.get();
  previousAccount = session.get()?.id ?? previousAccount;
  if (!PUBLIC_PATHS.includes(here)) {
    try {
      sessionStorage.setItem(RETURN_KEY, here);
    } catch {
      // Not remembered.
    }
  }
  session.set(null);
  if (!PUBLIC_PATHS.includes(here)) {
    expired.set(true);
    navigate('/connexion', { replace: true });
  }
}

export const PUBLIC_PATHS = ['/', '/connexion', '/activation', '/mot-de-passe-oublie'];
