import { useRef, useState } from 'preact/hooks';
import { said, t } from '../../i18n/index.js';
import { CodeField, Field } from '../../components/Field.jsx';
import { ErrorBox, Notice } from '../../components/Status.jsx';
import { runMutation } from '../../gql/hooks.js';
import { clearDraft, loadDraft, saveDraft } from '../../lib/draft.js';
import { normalizeIns } from '../../lib/ins.js';
import { useHistoryStep } from '../../lib/steps.js';
import { signedIn } from '../../session.js';
import { CREATE_RECORD, VERIFY_CONTACT } from './documents.js';
import { Form } from '../../components/Form.jsx';

// Activation of a record opened by a practitioner (or the insurer): INS + activation code,
// contacts and password, then the code sent to the chosen contact.
export function Activate() {
  const draft = loadDraft('activate') ?? {};
  const [ins, setIns] = useState(draft.ins ?? '');
  const [activationCode, setActivationCode] = useState('');
  const [email, setEmail] = useState(draft.email ?? '');
  const [phone, setPhone] = useState(draft.phone ?? '');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [codeChannel, setCodeChannel] = useState(draft.codeChannel ?? 'EMAIL');
  const [attempt, setAttempt] = useState(null);
  const [code, setCode] = useState('');
  const [failure, setFailure] = useState(null);
  const [busy, setBusy] = useState(false);
  // The browser's Back from the code step: the keyboard goes to the form's first field.
  const [back, setBack] = useState(false);
  // The code step's attempt, kept when Back leaves it so that Forward shows it again (no new
  // code is sent); forgotten when the form is sent again.
  const held = useRef(null);
  const step = useHistoryStep('activate.code', {
    back: () => {
      setAttempt(null);
      setCode('');
      setFailure(null);
      setBack(true);
    },
    forward: () => {
      if (!held.current) return false;
      setFailure(null);
      setAttempt(held.current);
      return true;
    },
  });

  // A refusal is the form's own: its button was disabled meanwhile, the keyboard goes to it
  // (above a long form: it comes into view). The code's field takes it when it appears.
  const create = async (event) => {
    event.preventDefault();
    setFailure(null);
    saveDraft('activate', { ins, email, phone, codeChannel });
    held.current = null;
    setBusy(true);
    const input = {
      ins: normalizeIns(ins),
      activationCode: activationCode.trim(),
      email: email.trim(),
      phone: phone.trim() || null,
      password,
      codeChannel,
    };
    const result = await runMutation(CREATE_RECORD, { input });
    setBusy(false);
    if (result.code) return setFailure(result);
    setPassword('');
    setConfirm('');
    held.current = result.data.createRecord;
    setAttempt(held.current);
    step.enter();
  };

  const verify = async (event) => {
    event.preventDefault();
    setFailure(null);
    setBusy(true);
    const result = await runMutation(VERIFY_CONTACT, { attemptToken: attempt.attemptToken, code: code.trim() });
    setBusy(false);
    if (result.code) return setFailure(result);
    clearDraft('activate');
    signedIn(result.data.verifyContact.me);
  };

  if (attempt) {
    return (
      <section class="narrow" key="verify">
        <h1>{t('activate.verifyTitle')}</h1>
        <ErrorBox result={failure} focus />
        <Form onSubmit={verify}>
          <Notice>{t('activate.codeSent', { to: attempt.sentTo })}</Notice>
          <CodeField value={code} onInput={setCode} focus />
          <button type="submit" disabled={busy}>
            {t('activate.verify')}
          </button>
        </Form>
      </section>
    );
  }

  return (
    <section class="narrow" key="create">
      <h1>{t('activate.title')}</h1>
      <p>{t('activate.intro')}</p>
      <ErrorBox result={failure} focus />
      <Form onSubmit={create}>
        <fieldset>
          <legend>{t('activate.identity')}</legend>
          <Field label={t('activate.ins')} hint={t('activate.insHint')} value={ins} onInput={setIns} autocomplete="off" required focus={back} />
          <Field label={t('activate.activationCode')} hint={t('activate.activationCodeHint')} value={activationCode} onInput={setActivationCode} autocomplete="off" required />
        </fieldset>
        <fieldset>
          <legend>{t('activate.contacts')}</legend>
          <Field label={t('activate.email')} type="email" value={email} onInput={setEmail} autocomplete="email" required />
          <Field label={t('activate.phone')} hint={t('activate.phoneHint')} type="tel" value={phone} onInput={setPhone} autocomplete="tel" />
        </fieldset>
        <fieldset>
          <legend>{t('activate.channel')}</legend>
          <label class="choice">
            <input type="radio" name="channel" value="EMAIL" checked={codeChannel === 'EMAIL'} onChange={() => setCodeChannel('EMAIL')} />
            {t('activate.channelEmail')}
          </label>
          <label class="choice">
            <input type="radio" name="channel" value="SMS" checked={codeChannel === 'SMS'} onChange={() => setCodeChannel('SMS')} disabled={!phone.trim()} />
            {t('activate.channelSms')}
          </label>
        </fieldset>
        <fieldset>
          <legend>{t('activate.passwordLegend')}</legend>
          <Field label={t('activate.password')} hint={t('activate.passwordHint')} type="password" value={password} onInput={setPassword} autocomplete="new-password" minLength={12} required />
          <Field
            label={t('activate.confirm')}
            type="password"
            value={confirm}
            onInput={setConfirm}
            autocomplete="new-password"
            required
            check={(typed) => (typed === password ? null : said('activate.mismatch'))}
          />
        </fieldset>
        <button type="submit" disabled={busy}>
          {busy ? t('common.wait') : t('activate.submit')}
        </button>
      </Form>
    </section>
  );
}
