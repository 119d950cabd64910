import { useEffect, useRef, useState } from 'preact/hooks';
import { locale, said, t } from '../../i18n/index.js';
import { runMutation, useQuery } from '../../gql/hooks.js';
import { ErrorBox, Loading, Notice } from '../../components/Status.jsx';
import { FreshFactor } from '../../components/FreshFactor.jsx';
import { ask } from '../../components/ConfirmDialog.jsx';
import { formatDateTime } from '../../lib/dates.js';
import { focusIfLost } from '../../lib/focus.js';
import { useStatusRefresh } from '../../lib/statusRefresh.js';
import { shownStatus } from '../../lib/comingBack.js';
import { useSending } from '../../lib/sending.js';
import { STATUS, EXPORT, CLOSE, REOPEN, REQUEST_DELETION, CANCEL_DELETION } from './documents.js';


// Hand the export to the browser as a file (a blob: URL, allowed by the CSP).
function download({ fileName, contentType, content }) {
  const url = URL.createObjectURL(new Blob([content], { type: contentType }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// What the page asks before closing the record, and before asking for its deletion.
const CLOSING = { message: said('lifecycle.closeConfirm'), confirmLabel: said('lifecycle.closeSubmit'), danger: true };
const DELETING = { message: said('lifecycle.deleteConfirm'), confirmLabel: said('lifecycle.deleteSubmit'), danger: true };

export function Lifecycle() {
  const query = useQuery(STATUS);
  const [failure, setFailure] = useState(null);
  const [notice, setNotice] = useState(null);
  const [needFresh, setNeedFresh] = useState(false);
  useStatusRefresh(shownStatus(query.data), query.refetch); // changed in another tab: show it
  // The check that it is you, cancelled: the keyboard goes back to « Demander la suppression »,
  // which comes back in its place.
  const deleteButton = useRef(null);
  const [cancelled, setCancelled] = useState(0);
  useEffect(() => {
    if (cancelled) focusIfLost(deleteButton.current);
  }, [cancelled]);

  // One action at a time: a button pressed twice (an export, « Rouvrir ») sends once.
  const [, send] = useSending();
  // `question`: asked first (see ask()); cancelled, nothing is sent.
  const act = (document, variables, message, question, onForbidden) =>
    send(async () => {
      if (question && !(await ask(question))) return undefined;
      setFailure(null);
      setNotice(null);
      const result = await runMutation(document, variables);
      if (result.code === 'FORBIDDEN' && onForbidden) return onForbidden();
      if (result.code) return setFailure(result);
      await query.refetch(); // first: its button may go (close → reopen), the notice then takes the focus
      setNotice(message);
      return result;
    });
  // Deletion wants a second factor from the last minutes: ask for a code, then ask again.
  const requestDeletion = (question) =>
    act(REQUEST_DELETION, {}, said('lifecycle.deletionRequested'), question, () => setNeedFresh(true));
  const exportAs = async (format) => {
    const result = await act(EXPORT, { format }, said('lifecycle.exported'));
    if (result) download(result.data.exportMyRecord);
  };

  if (query.fetching && !query.data) return <Loading />;
  if (query.code) return <ErrorBox result={query} />;
  const life = query.data?.myRecordStatus;
  const when = (iso) => formatDateTime(iso, locale());

  return (
    <section>
      <h1>{t('lifecycle.title')}</h1>
      {notice && <Notice focus="lost">{notice}</Notice>}
      <ErrorBox result={failure} focus="lost" />
      {life && (
        <p>
          {t('lifecycle.status')} <strong>{t(`status.${life.status}`)}</strong>
        </p>
      )}
      <h2>{t('lifecycle.export')}</h2>
      <p>{t('lifecycle.exportIntro')}</p>
      <div class="actions">
        <button type="button" class="secondary" onClick={() => exportAs('JSON')}>
          {t('lifecycle.exportJson')}
        </button>
        <button type="button" class="secondary" onClick={() => exportAs('FHIR')}>
          {t('lifecycle.exportFhir')}
        </button>
      </div>
      {life?.status === 'ACTIVE' && (
        <>
          <h2>{t('lifecycle.close')}</h2>
          <p>{t('lifecycle.closeIntro')}</p>
          <button type="button" class="danger" onClick={() => act(CLOSE, {}, said('lifecycle.closed'), CLOSING)}>
            {t('lifecycle.closeSubmit')}
          </button>
        </>
      )}
      {life?.status === 'CLOSED' && (
        <>
          <h2>{t('lifecycle.reopen')}</h2>
          <p>{t('lifecycle.reopenIntro', { date: when(life.reopenUntil) })}</p>
          <button type="button" onClick={() => act(REOPEN, {}, said('lifecycle.reopened'))}>
            {t('lifecycle.reopenSubmit')}
          </button>
        </>
      )}
      {life && life.status !== 'DELETED' && (
        <>
          <h2>{t('lifecycle.delete')}</h2>
          <p>{t('lifecycle.deleteIntro')}</p>
          {needFresh ? (
            <FreshFactor
              onCancel={() => {
                setNeedFresh(false);
                setCancelled(cancelled + 1);
              }}
              onConfirmed={async () => {
                setNeedFresh(false);
                await requestDeletion();
              }}
            />
          ) : (
            <button type="button" class="danger" ref={deleteButton} onClick={() => requestDeletion(DELETING)}>
              {t('lifecycle.deleteSubmit')}
            </button>
          )}
        </>
      )}
      {life?.status === 'DELETED' && (
        <>
          <h2>{t('lifecycle.delete')}</h2>
          <p>{t('lifecycle.deletionPending', { requested: when(life.deletionRequestedAt), until: when(life.cancelDeletionUntil) })}</p>
          <button type="button" onClick={() => act(CANCEL_DELETION, {}, said('lifecycle.deletionCancelled'))}>
            {t('lifecycle.cancelDeletion')}
          </button>
        </>
      )}
    </section>
  );
}
