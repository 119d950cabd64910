import { useState } from 'preact/hooks';
import { locale, t } from '../../i18n/index.js';
import { runMutation } from '../../gql/hooks.js';
import { DateField, Field } from '../../components/Field.jsx';
import { ErrorBox } from '../../components/Status.jsx';
import { useFocusOnAppear } from '../../lib/focus.js';
import { formatDateTime } from '../../lib/dates.js';
import { normalizeIns } from '../../lib/ins.js';
import { useSending } from '../../lib/sending.js';
import { OPEN_RECORD } from './documents.js';
import { Form } from '../../components/Form.jsx';

// At the point of care, after checking the patient's identity: open a record, hand over the code.
export function OpenRecord() {
  const [form, setForm] = useState({ ins: '', firstName: '', lastName: '', birthDate: '', email: '' });
  const [opened, setOpened] = useState(null);
  const [failure, setFailure] = useState(null);
  // Sent once: a second click would open the record again and void the code just handed over.
  const [busy, send] = useSending();
  const set = (name) => (value) => setForm({ ...form, [name]: value });
  // The code to hand over takes the keyboard, and so comes into view above the form (out of sight
  // on a phone, where the button is at the bottom), whether the form was sent by its button
  // (disabled meanwhile) or by Enter in a field (emptied since); a refusal, the form's own, takes
  // it too. Read as the focused element, it is no live region (lib/focus.js, useSaid).
  const done = useFocusOnAppear(true, opened);

  const submit = async (event) => {
    event.preventDefault();
    const input = { ...form, ins: normalizeIns(form.ins), email: form.email.trim() || null };
    const result = await send(() => {
      setFailure(null);
      setOpened(null); // an earlier patient's code must not stay beside this one's answer
      return runMutation(OPEN_RECORD, { input });
    });
    if (!result) return; // sent already
    if (result.code) return setFailure(result);
    setOpened(result.data.openRecordForPatient);
    setForm({ ins: '', firstName: '', lastName: '', birthDate: '', email: '' });
  };

  return (
    <>
      <p>{t('open.intro')}</p>
      <ErrorBox result={failure} focus />
      {opened && (
        <div class="notice" ref={done} tabIndex={-1}>
          <p>{t('open.done')}</p>
          <p>
            {t('open.code')} <strong class="code">{opened.activationCode}</strong>
          </p>
          <p>{t('open.expires', { date: formatDateTime(opened.expiresAt, locale()) })}</p>
          {opened.sentTo && <p>{t('open.sentTo', { to: opened.sentTo })}</p>}
        </div>
      )}
      <Form onSubmit={submit}>
        <Field label={t('activate.ins')} value={form.ins} onInput={set('ins')} autocomplete="off" required />
        <Field label={t('open.firstName')} value={form.firstName} onInput={set('firstName')} autocomplete="off" required />
        <Field label={t('open.lastName')} value={form.lastName} onInput={set('lastName')} autocomplete="off" required />
        <DateField label={t('open.birthDate')} value={form.birthDate} onInput={set('birthDate')} required />
        <Field label={t('open.email')} hint={t('open.emailHint')} type="email" value={form.email} onInput={set('email')} autocomplete="off" />
        <button type="submit" disabled={busy}>{busy ? t('common.wait') : t('open.submit')}</button>
      </Form>
    </>
  );
}
