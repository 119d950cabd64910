import { useRef, useState } from 'preact/hooks';
import { t } from '../../i18n/index.js';
import { CodeField, Field } from '../../components/Field.jsx';
import { ErrorBox, Notice } from '../../components/Status.jsx';
import { runMutation } from '../../gql/hooks.js';
import { loadDraft, saveDraft } from '../../lib/draft.js';
import { passkeysSupported } from '../../lib/passkeys.js';
import { useFocusOnAppear } from '../../lib/focus.js';
import { useHistoryStep } from '../../lib/steps.js';
import { Link } from '../../router.jsx';
import { expired, signedIn } from '../../session.js';
import { COMPLETE_LOGIN, START_LOGIN } from './documents.js';
import { PasskeyButton } from './PasskeyButton.jsx';
import { Form } from '../../components/Form.jsx';

export function Login() {
  const [identifier, setIdentifier] = useState(loadDraft('login')?.identifier ?? '');
  const [password, setPassword] = useState('');
  const [attempt, setAttempt] = useState(null);
  const [code, setCode] = useState('');
  const [failure, setFailure] = useState(null);
  const [busy, setBusy] = useState(false);
  // « Recommencer » or the browser's Back: the keyboard goes to the identifier, the first step's first field.
  const [restarted, setRestarted] = useState(false);
  // The attempt of the code step, kept when Back leaves it so that Forward shows it again as it was
  // (the same attempt: no new code is sent); forgotten by « Recommencer » and by a new attempt.
  const held = useRef(null);

  // Back to the first step: the code step's error and code are not about the next attempt.
  const toFirstStep = () => {
    setFailure(null);
    setCode('');
    setAttempt(null);
    setRestarted(true);
  };
  const step = useHistoryStep('login.code', {
    back: toFirstStep,
    forward: () => {
      if (!held.current) return false;
      setFailure(null);
      setAttempt(held.current);
      return true;
    },
  });

  // The identifier stays in this tab's draft so an expired session pre-fills it; logout forgets it.
  const finish = (me) => signedIn(me);
  const fail = (result) => setFailure(result);

  const start = async (event) => {
    event.preventDefault();
    setBusy(true);
    setFailure(null);
    saveDraft('login', { identifier });
    held.current = null; // a new attempt: the one Back left is not offered by Forward any more
    const result = await runMutation(START_LOGIN, { identifier: identifier.trim(), password });
    setBusy(false);
    if (result.code) return fail(result);
    setPassword('');
    held.current = result.data.startLogin;
    setAttempt(held.current);
    step.enter();
  };

  const complete = async (event) => {
    event.preventDefault();
    setBusy(true);
    setFailure(null);
    const result = await runMutation(COMPLETE_LOGIN, { attemptToken: attempt.attemptToken, code: code.trim() });
    setBusy(false);
    if (result.code) return fail(result);
    finish(result.data.completeLogin.me);
  };

  // « Recommencer »: this attempt is over; the history goes back to the first step's entry.
  const restart = () => {
    held.current = null;
    toFirstStep();
    step.leave();
  };

  const failureBox = failure?.passkeyCancelled ? (
    <PasskeyUnused again={failure} />
  ) : (
    // The form's own refusal: its button was disabled meanwhile, the keyboard goes to it.
    <ErrorBox result={failure} focus />
  );

  if (attempt) {
    const byCode = attempt.factors.includes('CODE');
    const byPasskey = attempt.factors.includes('PASSKEY') && passkeysSupported();
    return (
      <section class="narrow" key="second-factor">
        <h1>{t('login.secondFactor')}</h1>
        {failureBox}
        {byCode && (
          <Form onSubmit={complete}>
            {/* True whether or not a code went out: a wrong password gets the same step (a decoy), so
                the page never tells whether the account exists or the password was right. */}
            {attempt.codeSentTo && <Notice>{t('login.codeSentIfPassword', { to: attempt.codeSentTo })}</Notice>}
            {/* « Continuer » is gone with the first step: the keyboard goes to the code asked for. */}
            <CodeField value={code} onInput={setCode} focus />
            <button type="submit" disabled={busy}>
              {t('login.confirm')}
            </button>
          </Form>
        )}
        {byPasskey && (
          <p>
            <PasskeyButton attemptToken={attempt.attemptToken} label={t('login.usePasskey')} onDone={finish} onError={fail} />
          </p>
        )}
        <p>
          <button type="button" class="link-button" onClick={restart}>
            {t('login.restart')}
          </button>
        </p>
      </section>
    );
  }

  return (
    <section class="narrow" key="password">
      <h1>{t('login.title')}</h1>
      {expired.get() && !failure && <Notice>{t('error.unauthenticated')}</Notice>}
      {failureBox}
      <Form onSubmit={start}>
        <Field
          label={t('login.identifier')}
          hint={t('login.identifierHint')}
          value={identifier}
          onInput={setIdentifier}
          autocomplete="username webauthn"
          required
          focus={restarted}
        />
        <Field
          label={t('login.password')}
          type="password"
          value={password}
          onInput={setPassword}
          autocomplete="current-password"
          required
        />
        <button type="submit" disabled={busy}>
          {busy ? t('common.wait') : t('login.submit')}
        </button>
      </Form>
      {passkeysSupported() && (
        <div class="alt">
          <p>{t('login.orPasskey')}</p>
          <PasskeyButton label={t('login.passwordless')} onDone={finish} onError={fail} />
        </div>
      )}
      <ul class="links">
        <li>
          <Link href="/mot-de-passe-oublie">{t('login.forgot')}</Link>
        </li>
        <li>
          <Link href="/activation">{t('login.activate')}</Link>
        </li>
      </ul>
    </section>
  );
}

// The passkey was not used (cancelled, or none on this device): its button was disabled while
// the browser asked, so the keyboard goes to what is said, at each try (`again`): read as the
// focused element, it is no live region (lib/focus.js, useSaid).
function PasskeyUnused({ again }) {
  const box = useFocusOnAppear(true, again);
  return (
    <div class="error" ref={box} tabIndex={-1}>
      <p>{t('login.passkeyCancelled')}</p>
    </div>
  );
}
