import { useState } from 'preact/hooks';
import { said, t } from '../../i18n/index.js';
import { runMutation, useQuery } from '../../gql/hooks.js';
import { DateField, Field, FileField, SelectField, TextArea } from '../../components/Field.jsx';
import { AddEntryForm } from '../../components/AddEntryForm.jsx';
import { RecordInactive } from '../../components/RecordInactive.jsx';
import { ErrorBox, Loading, Notice } from '../../components/Status.jsx';
import { useKept } from '../../lib/kept.js';
import { PATIENT_WRITABLE } from '../../lib/sections.js';
import { UPLOAD } from './documents.js';
import { RECORD_STATUS } from '../../gql/shared.js';
import { useStatusRefresh } from '../../lib/statusRefresh.js';
import { shownStatus } from '../../lib/comingBack.js';
import { localToday } from '../../lib/dates.js';
import { useFocusOnAppear } from '../../lib/focus.js';
import { Form } from '../../components/Form.jsx';

// Sent as a GraphQL multipart request; the client adds the X-DMP-Client header the server requires.

const MAX_BYTES = 20 * 1024 * 1024;

export function Upload() {
  const query = useQuery(RECORD_STATUS);
  const [file, setFile] = useState(null);
  const [title, setTitle] = useKept('upload.title', '');
  const [section, setSection] = useKept('upload.section', 'DOCUMENTS');
  const [documentType, setDocumentType] = useKept('upload.documentType', '');
  const [description, setDescription] = useKept('upload.description', '');
  const [date, setDate] = useState('');
  const [failure, setFailure] = useState(null);
  const [notice, setNotice] = useState(null);
  // A file over 20 MB, refused here before anything is sent: the form's own refusal, it takes the
  // keyboard (and so comes into view above the form), again at each try (`tooBig` counts them);
  // read as the focused element, it is no live region (lib/focus.js, useSaid).
  const [tooBig, setTooBig] = useState(0);
  const tooBigBox = useFocusOnAppear(tooBig > 0, tooBig);
  const [busy, setBusy] = useState(false);
  // Bumped by each upload: the entry form below starts afresh, without its earlier notice.
  const [round, setRound] = useState(0);
  useStatusRefresh(shownStatus(query.data), query.refetch); // closed in another tab: say so

  const submit = async (event) => {
    event.preventDefault();
    const form = event.currentTarget; // null once the upload has answered: kept to empty it
    setFailure(null);
    setNotice(null);
    setRound(round + 1);
    if (!file) return;
    if (file.size > MAX_BYTES) return setTooBig(tooBig + 1);
    setTooBig(0);
    setBusy(true);
    const result = await runMutation(UPLOAD, {
      file, title: title.trim(), section, documentType: documentType.trim() || null,
      description: description.trim() || null, date: date || null,
    });
    setBusy(false);
    if (result.code === 'FORBIDDEN') query.refetch(); // closed meanwhile (another tab): say so
    if (result.code) return setFailure(result);
    setNotice(said('upload.done', { title: result.data.uploadDocument.entry.title }));
    setTitle('');
    setDescription('');
    setDocumentType('');
    setDate('');
    form.reset();
    setFile(null);
  };

  // The entry form below starts another action: the upload's notice goes.
  const entryStarted = () => {
    setFailure(null);
    setNotice(null);
    setTooBig(0);
  };

  if (query.fetching && !query.data) return <Loading />;
  if (query.code) return <ErrorBox result={query} />;
  const status = query.data?.myRecordStatus?.status;
  if (status !== 'ACTIVE') {
    return <RecordInactive title={t('upload.title')} status={status} />;
  }

  return (
    <section>
      <h1>{t('upload.title')}</h1>
      <p>{t('upload.intro')}</p>
      {notice && <Notice focus="lost">{notice}</Notice>}
      <ErrorBox result={failure} focus="lost" />
      {tooBig > 0 && (
        <p class="error" ref={tooBigBox} tabIndex={-1}>
          {t('upload.tooBig')}
        </p>
      )}
      <Form onSubmit={submit}>
        <FileField label={t('upload.file')} hint={t('upload.fileHint')} accept="application/pdf,image/jpeg,image/png" required onFile={setFile} />
        <Field label={t('upload.docTitle')} value={title} onInput={setTitle} required maxLength={200} />
        <SelectField label={t('record.filterSection')} value={section} onChange={setSection} options={['DOCUMENTS', 'LAB_RESULTS'].map((s) => [s, t(`section.${s}`)])} />
        <Field label={t('detail.documentType')} hint={t('upload.typeHint')} value={documentType} onInput={setDocumentType} maxLength={100} />
        <TextArea label={t('detail.description')} value={description} onInput={setDescription} maxLength={2000} />
        <DateField label={t('addEntry.date')} value={date} onInput={setDate} max={localToday()} />
        <button type="submit" disabled={busy}>
          {busy ? t('common.wait') : t('upload.submit')}
        </button>
      </Form>
      <h2>{t('addEntry.patientTitle')}</h2>
      <p>{t('addEntry.patientIntro')}</p>
      <AddEntryForm key={round} sections={PATIENT_WRITABLE} onSend={entryStarted} onRefused={query.refetch} />
    </section>
  );
}
