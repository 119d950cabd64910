import { useState } from 'preact/hooks';
import { locale, said, t } from '../../i18n/index.js';
import { runMutation, runQuery, useQuery } from '../../gql/hooks.js';
import { actionOutcome, Empty, ErrorBox, Loading } from '../../components/Status.jsx';
import { RecordInactive } from '../../components/RecordInactive.jsx';
import { RecordTimeline } from '../../components/RecordTimeline.jsx';
import { ask } from '../../components/ConfirmDialog.jsx';
import { formatDate } from '../../lib/dates.js';
import { withAllMasked, withMasked, withoutEntry, withPage } from '../../lib/shownRecord.js';
import { holdsNothing } from '../../lib/sections.js';
import { useStatusRefresh } from '../../lib/statusRefresh.js';
import { shownStatus } from '../../lib/comingBack.js';
import { useSending } from '../../lib/sending.js';
import { DELETE_ENTRY, MASK_ALL, MASK_ENTRY, MY_RECORD, myRecordPage, UNMASK_ENTRY } from './documents.js';


export function Record() {
  const query = useQuery(MY_RECORD);
  // The record as shown (pages added with "More", the patient's changes), tied to the read it grew from.
  const [shown, setShown] = useState(null);
  const [failure, setFailure] = useState(null);
  const [notice, setNotice] = useState(null);
  // Where the last action's notice or error is said, where its button was (on a phone the top is
  // out of sight): null, at the top (« Tout masquer »); an entry's { id, index }, in its card, or
  // where the card was once it is no longer shown (deleted); 'more', beside the "More" buttons.
  const [place, setPlace] = useState(null);
  // What the last action is about, said first in its refusal: an entry's (« Masquer « {title} » : »),
  // since a refusal said where a card hidden by a filter was stands beside another entry's card;
  // null for « Tout masquer » and « Plus de résultats ».
  const [about, setAbout] = useState(null);
  // Its deletion asked in another tab: the record is no longer readable, say so.
  useStatusRefresh(shownStatus(query.data, 'state'), query.refetch);
  // One change or page at a time: a button pressed twice (a double click) sends once.
  const [, send] = useSending();

  if (query.fetching && !query.data) return <Loading />;
  if (query.code) return <ErrorBox result={query} />;
  const base = query.data?.record;
  if (!base) {
    return <RecordInactive title={t('record.title')} status={query.data?.state?.status} />;
  }
  const record = shown?.from === base ? shown.record : base;
  // Nothing in the record yet, as it is now (its last entry deleted here too): said so, with where
  // its information comes from (not the timeline's « Aucune information pour ces critères »,
  // under filters nobody set).
  const nothingYet = holdsNothing(record);
  const show = (change) =>
    setShown((previous) => ({ from: base, record: change(previous?.from === base ? previous.record : base) }));

  // Another action starts: the notice or error of the previous one goes; its own is to be said
  // at `where`, about `subject` (place and about, above).
  const starting = (where, subject = null) => {
    setFailure(null);
    setNotice(null);
    setPlace(where);
    setAbout(subject);
  };

  // The answer of a change is applied to what is shown: the pages loaded with "More" stay.
  // Refused (FORBIDDEN): the deletion may have been asked meanwhile (another tab), and the
  // record is then no longer changed nor read: read it again, and its status says why.
  const act = (document, variables, message, change, where = null, subject = null) =>
    send(async () => {
      starting(where, subject);
      const result = await runMutation(document, variables);
      if (result.code === 'FORBIDDEN') query.refetch();
      if (result.code) return setFailure(result);
      show((current) => change(current, result.data));
      setNotice(message);
    });
  const more = (field) =>
    send(async () => {
      const current = record[field];
      starting('more');
      const result = await runQuery(myRecordPage(field), { after: current.pageInfo.endCursor });
      const page = result.data?.record?.[field];
      // No longer readable (deletion asked meanwhile): read it again, its status says why.
      if (result.code === 'FORBIDDEN' || (!result.code && !page)) query.refetch();
      if (result.code) return setFailure(result);
      if (page) show((latest) => withPage(latest, field, page));
    });
  // Said in the entry's card (hidden since by a filter: where the card was, beside another
  // entry's card): the notice names the entry by its title, and so does a refusal.
  const setMasked = (entry, index, masked) =>
    act(
      masked ? MASK_ENTRY : UNMASK_ENTRY,
      { id: entry.id },
      said(masked ? 'record.maskedDone' : 'record.unmasked', { title: entry.title }),
      (current, data) => {
        const answer = masked ? data.maskEntry : data.unmaskEntry;
        return withMasked(current, answer.id, answer.masked);
      },
      { id: entry.id, index },
      said(masked ? 'record.maskAbout' : 'record.unmaskAbout', { title: entry.title }),
    );

  // The last action's notice or error, if there is one; said `beside` the button pressed, it comes
  // into view when it does not take the focus.
  const outcome = (beside) => actionOutcome(notice, failure, beside, about);

  const actionsFor = (entry, index) => (
    <>
      {entry.masked ? (
        <button type="button" class="secondary" onClick={() => setMasked(entry, index, false)}>
          {t('record.unmask')}
          <span class="visually-hidden"> : {entry.title}</span>
        </button>
      ) : (
        <button type="button" class="secondary" onClick={() => setMasked(entry, index, true)}>
          {t('record.mask')}
          <span class="visually-hidden"> : {entry.title}</span>
        </button>
      )}
      {entry.source === 'PATIENT' && (
        <button
          type="button"
          class="danger"
          onClick={async () =>
            (await ask({
              message: said('record.deleteConfirm', { title: entry.title }),
              confirmLabel: said('record.delete'),
              danger: true,
            })) &&
            // Deleted, its card is gone: said where it was, naming it (next to another entry's card);
            // refused, its card stays, but a filter may hide it: the refusal names it too.
            act(
              DELETE_ENTRY,
              { id: entry.id },
              said('record.deleted', { title: entry.title }),
              (current) => withoutEntry(current, entry.id),
              { id: entry.id, index },
              said('record.deleteAbout', { title: entry.title }),
            )
          }
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
        <button
          type="button"
          class="secondary"
          onClick={async () =>
            // Undone one by one with « Ne plus masquer »: not a destructive action.
            (await ask({ message: said('record.maskAllConfirm'), confirmLabel: said('record.maskAll') })) &&
            act(MASK_ALL, {}, said('record.maskedAll'), withAllMasked)
          }
        >
          {t('record.maskAll')}
        </button>
      </details>
      {place === null && outcome(false)}
      {nothingYet ? (
        <>
          <Empty>{t(record.status === 'ACTIVE' ? 'record.nothingYet' : 'record.nothingYetInactive')}</Empty>
          {/* The last entry deleted: its notice, said where it was, now under what the record says. */}
          {place !== null && outcome(true)}
        </>
      ) : (
        <RecordTimeline
          record={record}
          onMore={more}
          actionsFor={actionsFor}
          said={place && (notice || failure) ? { at: place, node: outcome(true) } : null}
          ownRecord
        />
      )}
    </section>
  );
}
