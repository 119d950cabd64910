import { useState } from 'preact/hooks';
import { t } from '../i18n/index.js';
import { runMutation } from '../gql/hooks.js';
import { CodeField } from './Field.jsx';
import { ErrorBox, Notice } from './Status.jsx';
import { REQUEST_FRESH, CONFIRM_FRESH } from '../gql/shared.js';
import { useFocusOnAppear } from '../lib/focus.js';
import { Form } from './Form.jsx';
import { useSending } from '../lib/sending.js';

// Sensitive changes need a second factor from the last minutes: ask for a code, then retry.
// The step is asked for where the screen keeps it (often far above the button pressed): its
// heading takes the keyboard, and so comes into view, when it appears; then the code's field.
export function FreshFactor({ onConfirmed, onCancel }) {
  const heading = useFocusOnAppear(true);
  const [sentTo, setSentTo] = useState(null);
  const [code, setCode] = useState('');
  const [failure, setFailure] = useState(null);

  // Pressed twice, « Recevoir un code » would send two codes, the first then refused; « Valider »
  // would spend a try on a code already used: one request at a time.
  const [busy, send] = useSending();
  const request = () =>
    send(async () => {
      setFailure(null);
      const result = await runMutation(REQUEST_FRESH);
      if (result.code) return setFailure(result);
      setSentTo(result.data.requestFreshFactor.sentTo);
    });
  const confirm = (event) => {
    event.preventDefault();
    return send(async () => {
      setFailure(null);
      const result = await runMutation(CONFIRM_FRESH, { code: code.trim() });
      if (result.code) return setFailure(result);
      onConfirmed();
    });
  };

  return (
    <div class="card" role="group" aria-label={t('fresh.title')}>
      <h3 ref={heading} tabIndex={-1}>
        {t('fresh.title')}
      </h3>
      <p>{t('fresh.explain')}</p>
      {/* The step's own refusal (a wrong code): its button was disabled meanwhile, the keyboard goes to it. */}
      <ErrorBox result={failure} focus />
      {sentTo ? (
        <Form onSubmit={confirm}>
          <Notice>{t('login.codeSent', { to: sentTo })}</Notice>
          <CodeField value={code} onInput={setCode} focus />
          {/* The code may not come: the step can still be left, at either of its steps. */}
          <div class="actions">
            <button type="submit" disabled={busy}>
              {t('login.confirm')}
            </button>
            <button type="button" class="secondary" onClick={onCancel}>
              {t('common.cancel')}
            </button>
          </div>
        </Form>
      ) : (
        <div class="actions">
          <button type="button" onClick={request} disabled={busy}>
            {t('fresh.send')}
          </button>
          <button type="button" class="secondary" onClick={onCancel}>
            {t('common.cancel')}
          </button>
        </div>
      )}
    </div>
  );
}
