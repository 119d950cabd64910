import { useState } from 'preact/hooks';
import { said, t } from '../i18n/index.js';
import { runMutation } from '../gql/hooks.js';
import { codeHintKey, DETAIL_INPUTS, entryInput } from '../lib/entryInput.js';
import { useKept } from '../lib/kept.js';
import { useSending } from '../lib/sending.js';
import { DateField, Field, SelectField } from './Field.jsx';
import { ErrorBox, Notice } from './Status.jsx';
import { ADD_ENTRY } from '../gql/shared.js';
import { localToday } from '../lib/dates.js';
import { Form } from './Form.jsx';

// onSend: another action starts (the screen clears its own notices); onRefused: FORBIDDEN, the
// record may have been closed or the access withdrawn meanwhile (the screen reads it again).
export function AddEntryForm({ ins = null, sections, onAdded, onSend, onRefused }) {
  const [section, setSection] = useKept('addEntry.section', sections[0] ?? '');
  const [title, setTitle] = useKept('addEntry.title', '');
  const [date, setDate] = useKept('addEntry.date', localToday());
  const [code, setCode] = useKept('addEntry.code', '');
  const [details, setDetails] = useKept('addEntry.details', {});
  const [failure, setFailure] = useState(null);
  const [notice, setNotice] = useState(null);
  const [busy, send] = useSending(); // a double click adds the entry once
  if (!sections.length) return null;
  const current = sections.includes(section) ? section : sections[0];
  const fields = DETAIL_INPUTS[current]?.[1] ?? [];

  const submit = async (event) => {
    event.preventDefault();
    const input = entryInput({ ins, section: current, title, date, code, details });
    const result = await send(() => {
      setFailure(null);
      setNotice(null);
      onSend?.();
      return runMutation(ADD_ENTRY, { input });
    });
    if (!result) return; // sent already
    if (result.code === 'FORBIDDEN') onRefused?.();
    if (result.code) return setFailure(result);
    setTitle('');
    setCode('');
    setDetails({});
    setNotice(said('addEntry.added', { title: result.data.addEntry.entry.title }));
    onAdded?.();
  };

  return (
    <Form onSubmit={submit} aria-label={t('addEntry.title')}>
      {notice && <Notice focus="lost">{notice}</Notice>}
      <ErrorBox result={failure} focus="lost" />
      <SelectField label={t('record.filterSection')} value={current} onChange={setSection} options={sections.map((s) => [s, t(`section.${s}`)])} />
      <Field label={t('addEntry.entryTitle')} value={title} onInput={setTitle} required maxLength={200} />
      <DateField label={t('addEntry.date')} value={date} onInput={setDate} max={localToday()} required />
      <Field label={t('detail.code')} hint={t(codeHintKey(current))} value={code} onInput={setCode} />
      {fields.map((f) => (
        <Field key={`${current}-${f}`} label={t(`detail.${f}`)} value={details[f] ?? ''} onInput={(v) => setDetails({ ...details, [f]: v })} />
      ))}
      <button type="submit" disabled={busy}>{busy ? t('common.wait') : t('addEntry.submit')}</button>
    </Form>
  );
}
