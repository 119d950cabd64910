import { useEffect, useRef, useState } from 'preact/hooks';
import { language, setLanguage, t, LANGUAGES } from './i18n/index.js';
import { Link, navigate, usePath } from './router.jsx';
import { expired, homeFor, PUBLIC_PATHS, session } from './session.js';
import { runMutation, runQuery } from './gql/hooks.js';
import { LOGOUT, ME } from './gql/session.js';
import { Loading } from './components/Status.jsx';
import { ConfirmHost, dismiss } from './components/ConfirmDialog.jsx';
import { clearDraft } from './lib/draft.js';
import { forget } from './lib/kept.js';
import { errorMessageKey } from './lib/errors.js';
import { useFocusOnAppear } from './lib/focus.js';
import { useSending } from './lib/sending.js';
import { routes } from './routes.js';

function useSignal(sig) {
  const [value, setValue] = useState(sig.get());
  useEffect(() => sig.subscribe(setValue), [sig]);
  return value;
}

function navFor(me) {
  if (me?.role === 'PATIENT') {
    return [
      ['/dossier', 'nav.record'],
      ['/partage', 'nav.sharing'],
      ['/historique', 'nav.history'],
      ['/documents', 'nav.documents'],
      ['/urgence', 'nav.emergency'],
      ['/securite', 'nav.security'],
      ['/mon-compte', 'nav.lifecycle'],
    ];
  }
  if (me?.role === 'PRACTITIONER') {
    return [
      ['/praticien', 'nav.practitioner'],
      ['/securite', 'nav.security'],
    ];
  }
  if (me) return [['/securite', 'nav.security']];
  return [
    ['/connexion', 'nav.login'],
    ['/activation', 'nav.activate'],
  ];
}

export function App() {
  const me = useSignal(session);
  const lang = useSignal(language);
  const path = usePath();

  useEffect(() => {
    runQuery(ME).then(({ data }) => session.set(data?.me ?? null));
  }, []);

  useEffect(() => {
    if (me === undefined) return;
    if (!me && !PUBLIC_PATHS.includes(path)) navigate('/connexion', { replace: true });
    else if (me && (path === '/' || path === '/connexion')) navigate(homeFor(me), { replace: true });
    // A screen of another role (typed or bookmarked) is not shown: back to one's own home.
    // A screen under one of the menu's (/securite/coordonnees) is for whoever has that one.
    else if (me && routes[path] && !PUBLIC_PATHS.includes(path) && !navFor(me).some(([p]) => path === p || path.startsWith(`${p}/`))) {
      navigate(homeFor(me), { replace: true });
    }
    else if (!me && path === '/') navigate('/connexion', { replace: true });
  }, [me, path]);

  // A question the page was asking belongs to the screen left (the browser's Back): cancelled.
  useEffect(() => dismiss(), [path]);

  // After a change of screen, move focus to the content so keyboard and screen-reader users start there.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById('main')?.focus();
  }, [path]);

  useEffect(() => {
    const screen = routes[path];
    document.title = screen ? `${t(screen.title)} — ${t('app.name')}` : t('app.name');
  }, [path, lang]);

  // A sign-out the server did not answer (no network, a server error) leaves the session alive:
  // whoever uses the browser next would be signed in. Said, and the person stays on the screen.
  const [logoutFailure, setLogoutFailure] = useState(null);
  const logoutFailed = useFocusOnAppear(!!logoutFailure, logoutFailure);
  const [signingOut, sendLogout] = useSending();
  const logout = () =>
    sendLogout(async () => {
      setLogoutFailure(null);
      const result = await runMutation(LOGOUT);
      if (result.code && result.code !== 'UNAUTHENTICATED') return setLogoutFailure(result);
      clearDraft('login');
      forget();
      expired.set(false);
      session.set(null);
      navigate('/connexion');
    });
  useEffect(() => setLogoutFailure(null), [path, me]);

  const screen = routes[path];
  // Signed out, a signed-in screen is not drawn (the browser's Back after « Se déconnecter »):
  // it would ask the server for the record; the effect above goes to /connexion instead.
  const Screen = me || PUBLIC_PATHS.includes(path) ? screen?.component : Loading;
  return (
    // Not keyed by language: a change of language re-renders every screen in place, keeping
    // what was typed, loaded and said (notices are worded when shown, see said()).
    <div class="shell">
      <a class="skip" href="#main">
        {t('app.skip')}
      </a>
      <header class="top">
        <p class="brand">
          <Link href={me ? homeFor(me) : '/connexion'}>{t('app.name')}</Link>
        </p>
        <div class="top-tools">
          <label class="lang">
            <span class="visually-hidden">{t('app.language')}</span>
            <select value={lang} onChange={(e) => setLanguage(e.currentTarget.value)}>
              {LANGUAGES.map((l) => (
                <option key={l} value={l}>
                  {t(`lang.${l}`)}
                </option>
              ))}
            </select>
          </label>
          {me && (
            <button type="button" class="link-button" onClick={logout} disabled={signingOut}>
              {t('nav.logout')}
            </button>
          )}
        </div>
        {logoutFailure && (
          // Focused when it appears: read as such, not as a live region too (lib/focus.js, useSaid).
          <div class="error" ref={logoutFailed} tabIndex={-1}>
            <p>{t('nav.logoutFailed')}</p>
            <p>{t(errorMessageKey(logoutFailure.code))}</p>
          </div>
        )}
        {me !== undefined && (
          <nav aria-label={t('nav.label')}>
            <ul>
              {navFor(me).map(([href, key]) => (
                <li key={href}>
                  <Link href={href} section>
                    {t(key)}
                  </Link>
                </li>
              ))}
              {me?.role === 'SUPPORT' && (
                <li>
                  {/* A full page load: the explorer is its own page at /graphql. */}
                  <a href="/graphql">{t('nav.explorer')}</a>
                </li>
              )}
            </ul>
          </nav>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {me === undefined ? <Loading /> : Screen ? <Screen me={me} /> : <NotFound />}
      </main>
      <footer class="bottom">
        <p>{t('app.footer')}</p>
      </footer>
      <ConfirmHost />
    </div>
  );
}

function NotFound() {
  return (
    <section>
      <h1>{t('notFound.title')}</h1>
      <p>
        <Link href="/">{t('notFound.back')}</Link>
      </p>
    </section>
  );
}
