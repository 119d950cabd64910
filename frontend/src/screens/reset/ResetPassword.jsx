import { useRef, useState } from 'preact/hooks';
import { t } from '../../i18n/index.js';
import { CodeField, Field } from '../../components/Field.jsx';
import { ErrorBox, Notice } from '../../components/Status.jsx';
import { runMutation } from '../../gql/hooks.js';
import { Link } from '../../router.jsx';
import { useHistoryStep } from '../../lib/steps.js';
import { REQUEST_RESET, RESET_PASSWORD } from './documents.js';
import { Form } from '../../components/Form.jsx';

export function ResetPassword() {
  const [identifier, setIdentifier] = useState('');
  const [attemptToken, setAttemptToken] = useState(null);
  const [code, setCode] = useState('');
  const [newPassword, setNewPassword] = useState('');
  const [failure, setFailure] = useState(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);
  // The browser's Back from the code step: the keyboard goes to the identifier.
  const [back, setBack] = useState(false);
  // The code step's attempt, kept when Back leaves it so that Forward shows it again (no new
  // code is sent); forgotten by a new request and once the password is changed.
  const held = useRef(null);
  // Back to the first step: the code step's error and code are not about the next request.
  const toFirstStep = () => {
    setAttemptToken(null);
    setCode('');
    setNewPassword('');
    setFailure(null);
    setDone(false);
    setBack(true);
  };
  const step = useHistoryStep('reset.code', {
    back: toFirstStep,
    forward: () => {
      if (!held.current) return false;
      setFailure(null);
      setAttemptToken(held.current);
      return true;
    },
  });

  const request = async (event) => {
    event.preventDefault();
    setBusy(true);
    setFailure(null);
    held.current = null;
    const result = await runMutation(REQUEST_RESET, { identifier: identifier.trim() });
    setBusy(false);
    if (result.code) return setFailure(result);
    held.current = result.data.requestPasswordReset.attemptToken;
    setAttemptToken(held.current);
    step.enter();
  };

  // « Recommencer » (an identifier mistyped: no code will come): this request is over, the history
  // goes back to the first step's entry, as Back does, and Forward does not show it again.
  const restart = () => {
    held.current = null;
    toFirstStep();
    step.leave();
  };

  const reset = async (event) => {
    event.preventDefault();
    setBusy(true);
    setFailure(null);
    const result = await runMutation(RESET_PASSWORD, { attemptToken, code: code.trim(), newPassword });
    setBusy(false);
    if (result.code) return setFailure(result);
    setNewPassword('');
    held.current = null;
    setDone(true);
  };

  return (
    <section class="narrow">
      <h1>{t('reset.title')}</h1>
      {/* The buttons are disabled while the server answers: what follows takes the keyboard. */}
      <ErrorBox result={failure} focus />
      {done ? (
        <>
          <Notice focus="lost">{t('reset.done')}</Notice>
          <p>
            <Link href="/connexion">{t('reset.toLogin')}</Link>
          </p>
        </>
      ) : attemptToken ? (
        <Form onSubmit={reset} key="reset">
          {/* The same words whether or not the account exists. */}
          <Notice>{t('reset.codeSentIfKnown')}</Notice>
          <CodeField value={code} onInput={setCode} focus />
          <Field label={t('reset.newPassword')} hint={t('activate.passwordHint')} type="password" value={newPassword} onInput={setNewPassword} autocomplete="new-password" minLength={12} required />
          <button type="submit" disabled={busy}>
            {t('reset.submit')}
          </button>
          <p>
            <button type="button" class="link-button" onClick={restart}>
              {t('login.restart')}
            </button>
          </p>
        </Form>
      ) : (
        <Form onSubmit={request} key="request">
          <p>{t('reset.intro')}</p>
          <Field label={t('login.identifier')} hint={t('login.identifierHint')} value={identifier} onInput={setIdentifier} autocomplete="username" required focus={back} />
          <button type="submit" disabled={busy}>
            {t('reset.request')}
          </button>
        </Form>
      )}
    </section>
  );
}
