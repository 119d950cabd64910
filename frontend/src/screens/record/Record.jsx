import { useState } from 'preact/hooks';
import { locale, t } from '../../i18n/index.js';
import { runMutation, runQuery, useQuery } from '../../gql/hooks.js';
import { ErrorBox, Loading, Notice } from '../../components/Status.jsx';
import { RecordInactive } from '../../components/RecordInactive.jsx';
import { RecordTimeline } from '../../components/RecordTimeline.jsx';
import { formatDate } from '../../lib/dates.js';
import { appendPage } from '../../lib/paging.js';
import { DELETE_ENTRY, MASK_ALL, MASK_ENTRY, MY_RECORD, myRecordPage, UNMASK_ENTRY } from './documents.js';


export function Record() {
  const query = useQuery(MY_RECORD);
  const [extra, setExtra] = useState({});
  const [failure, setFailure] = useState(null);
  const [notice, setNotice] = useState(null);

  if (query.fetching && !query.data) return <Loading />;
  if (query.code) return <ErrorBox result={query} />;
  const base = query.data?.record;
  if (!base) {
    return <RecordInactive title={t('record.title')} status={query.data?.state?.status} />;
  }
  const record = { ...base };
  for (const [field, connection] of Object.entries(extra)) record[field] = appendPage(base[field], connection);

  const reload = async (message) => {
    setExtra({});
    setNotice(message);
    await query.refetch();
  };
  const act = async (document, variables, message) => {
    setFailure(null);
    setNotice(null); // about the previous action
    const result = await runMutation(document, variables);
    if (result.code) return setFailure(result);
    await reload(message);
  };
  const more = async (field) => {
    const current = record[field];
    setFailure(null);
    setNotice(null);
    const result = await runQuery(myRecordPage(field), { after: current.pageInfo.endCursor });
    if (result.code) return setFailure(result);
    setExtra({ ...extra, [field]: appendPage(extra[field], result.data.record[field]) });
  };

  const actionsFor = (entry) => (
    <>
      {entry.masked ? (
        <button type="button" class="secondary" onClick={() => act(UNMASK_ENTRY, { id: entry.id }, t('record.unmasked'))}>
          {t('record.unmask')}
          <span class="visually-hidden"> : {entry.title}</span>
        </button>
      ) : (
        <button type="button" class="secondary" onClick={() => act(MASK_ENTRY, { id: entry.id }, t('record.maskedDone'))}>
          {t('record.mask')}
          <span class="visually-hidden"> : {entry.title}</span>
        </button>
      )}
      {entry.source === 'PATIENT' && (
        <button
          type="button"
          class="danger"
          onClick={() => confirm(t('record.deleteConfirm')) && act(DELETE_ENTRY, { id: entry.id }, t('record.deleted'))}
        >
          {t('record.delete')}
          <span class="visually-hidden"> : {entry.title}</span>
        </button>
      )}
    </>
  );

  return (
    <section>
      <h1>{t('record.title')}</h1>
      <p class="meta">
        {record.firstName} {record.lastName} · {t('record.born', { date: formatDate(record.birthDate, locale()) })} ·{' '}
        {t(`status.${record.status}`)}
      </p>
      <details class="explain">
        <summary>{t('record.maskExplainTitle')}</summary>
        <p>{t('record.maskExplain')}</p>
        <button type="button" class="secondary" onClick={() => confirm(t('record.maskAllConfirm')) && act(MASK_ALL, {}, t('record.maskedAll'))}>
          {t('record.maskAll')}
        </button>
      </details>
      {notice && <Notice>{notice}</Notice>}
      <ErrorBox result={failure} />
      <RecordTimeline record={record} onMore={more} actionsFor={actionsFor} />
    </section>
  );
}
