import { useEffect, useRef, useState } from 'preact/hooks';
import { language, locale, t } from '../../i18n/index.js';
import { runQuery, useQuery } from '../../gql/hooks.js';
import { DateField, SelectField } from '../../components/Field.jsx';
import { ErrorBox, Loading } from '../../components/Status.jsx';
import { useConnectionCount } from '../../components/ListCount.jsx';
import { formatDateTime } from '../../lib/dates.js';
import {
  asShown, emergencyTag, historyFilter, inRecordOrder, reasonKey, shownEntryTitle, shownMode, shownReason,
} from '../../lib/history.js';
import { appendPage, nodes, PAGE_SIZE } from '../../lib/paging.js';
import { HISTORY } from './documents.js';
import { EmergencyReview } from './EmergencyReview.jsx';
import { Form } from '../../components/Form.jsx';
import { useSending } from '../../lib/sending.js';

const ACTIONS = [
  'RECORD_READ', 'ACCESS_DENIED', 'ENTRY_ADDED', 'ENTRIES_IMPORTED', 'DOCUMENT_DOWNLOADED', 'BREAK_GLASS_OPENED',
  'REGULATOR_ACCESS', 'SHARING_CHANGED', 'ENTRY_MASKED', 'ENTRY_UNMASKED', 'ENTRY_DELETED', 'EMERGENCY_PROFILE_UPDATED',
  'RECORD_OPENED', 'RECORD_ACTIVATED', 'RECORD_CLOSED', 'RECORD_REOPENED', 'DELETION_REQUESTED', 'DELETION_CANCELLED',
  'RECORD_EXPORTED', 'EMERGENCY_REVIEWED', 'SUPPORT_ACTION', 'SECURITY_CHANGED',
];
const MODES = ['OWNER', 'TREATING_PHYSICIAN', 'GRANTED', 'EMERGENCY_REGULATOR', 'BREAK_GLASS', 'SUPPORT', 'INSURER'];

// An event's person as read in the language of the moment: name, and profession if any.
function whoOf({ name, profession }) {
  return profession ? `${asShown(name)} (${t(`profession.${profession}`)})` : asShown(name);
}

export function History() {
  // `actor`: { id, name, profession } when only one person's events are shown (worded when shown).
  const [filters, setFilters] = useState({ from: '', to: '', action: '', mode: '', actor: null });
  const variables = { first: PAGE_SIZE, filter: historyFilter({ ...filters, actorId: filters.actor?.id }) };
  const query = useQuery(HISTORY, variables);
  const [more, setMore] = useState(null);
  const [failure, setFailure] = useState(null);
  const set = (name) => (value) => {
    setMore(null);
    setFailure(null); // a failed "more" of the previous filters
    setFilters({ ...filters, [name]: value });
  };
  // Where the keyboard goes after choosing one person (the way back) or everyone (the list's heading).
  const backToAll = useRef(null);
  const listHeading = useRef(null);
  const moveFocus = useRef(null);
  useEffect(() => {
    const target = moveFocus.current === 'back' ? backToAll.current : moveFocus.current === 'list' ? listHeading.current : null;
    moveFocus.current = null;
    target?.focus();
  }, [filters.actor]);
  const onlyActor = (actor) => {
    moveFocus.current = actor ? 'back' : 'list';
    set('actor')(actor);
  };

  const connection = more ?? query.data?.myAccessHistory;
  // The filters of the list shown: a page asked for under others (changed while it was on its
  // way) is not added to it.
  const asked = JSON.stringify(variables);
  // The count of events, said once (components/ListCount.jsx): the keyboard goes to it only after
  // « Afficher plus » (not after a review, whose heading takes it, nor a filter, still in use).
  // Said for the filters asked, once their list is read (not the previous list's, still drawn);
  // in its place, said as it is, « Aucun événement pour ces critères » when they find none.
  const count = useConnectionCount(connection, 'history.count', more ? 'lost' : false, {
    of: asked,
    waiting: query.fetching || query.answers !== asked,
    empty: 'history.empty',
  });
  // A review is an event of its own: the list and its count are read again (from their first page).
  const reviewed = () => {
    setMore(null);
    setFailure(null);
    return query.refetch();
  };
  // One page at a time: « Afficher plus » pressed twice asks once.
  const shownFor = useRef(asked);
  shownFor.current = asked;
  const [, send] = useSending();
  const loadMore = () =>
    send(async () => {
      setFailure(null); // the previous try's refusal: this one is said afresh
      const result = await runQuery(HISTORY, { ...variables, after: connection.pageInfo.endCursor });
      if (shownFor.current !== asked) return;
      if (result.code) return setFailure(result);
      setMore(appendPage(connection, result.data.myAccessHistory));
    });

  return (
    <section>
      <h1>{t('history.title')}</h1>
      <p>{t('history.intro')}</p>
      <EmergencyReview onReviewed={reviewed} />
      <h2 ref={listHeading} tabIndex={-1}>
        {t('history.all')}
      </h2>
      <Form class="filters" role="search" aria-label={t('history.filters')} onSubmit={(e) => e.preventDefault()}>
        <DateField label={t('record.from')} value={filters.from} onInput={set('from')} />
        <DateField label={t('record.to')} value={filters.to} onInput={set('to')} />
        <SelectField label={t('history.action')} value={filters.action} onChange={set('action')} options={[['', t('history.allActions')], ...ACTIONS.map((a) => [a, t(`action.${a}`)])]} />
        <SelectField label={t('history.mode')} value={filters.mode} onChange={set('mode')} options={[['', t('history.allModes')], ...MODES.map((m) => [m, t(`mode.${m}`)])]} />
      </Form>
      {filters.actor && (
        <div class="card actor-filter" role="group" aria-label={t('history.person')}>
          <p>{t('history.onlyActor', { who: whoOf(filters.actor) })}</p>
          <button type="button" class="secondary" ref={backToAll} onClick={() => onlyActor(null)}>
            {t('history.everyone')}
          </button>
        </div>
      )}
      {query.fetching && !connection ? (
        <Loading />
      ) : query.code ? (
        <ErrorBox result={query} />
      ) : nodes(connection).length === 0 ? (
        count
      ) : (
        <>
          {count}
          <ul class="cards history">
            {nodes(connection).map((event) => (
              <HistoryEvent key={event.id} event={event} onOnly={filters.actor ? null : onlyActor} />
            ))}
          </ul>
          {connection.pageInfo.hasNextPage && (
            <button type="button" class="secondary" onClick={loadMore}>
              {t('common.more')}
            </button>
          )}
          {/* A "More" refused: said under its button, where it was pressed, at the bottom of a long
              list (the top is out of sight on a phone); it comes into view. */}
          <ErrorBox result={failure} focus="lost" reveal />
        </>
      )}
    </section>
  );
}

// onOnly: offered while everyone's events are shown, to keep only this event's person.
function HistoryEvent({ event, onOnly }) {
  const actor = { id: event.actorId, name: event.actorName, profession: event.actorProfession };
  const who = whoOf(actor);
  const mode = event.mode ? shownMode(who, t(`mode.${event.mode}`)) : null;
  const tag = emergencyTag(event);
  const title = shownEntryTitle(event);
  return (
    <li class={`card${event.emergency ? ' emergency-event' : ''}`}>
      <h3>
        {tag && <><span class="tag warn">{tag}</span>{' '}</>}
        {t(`action.${event.action}`)}
      </h3>
      <p class="meta">
        <time dateTime={event.at}>{formatDateTime(event.at, locale())}</time> · {who}
        {mode && <> · {mode}</>}
      </p>
      {event.sections.length > 0 && (
        <p>
          {inRecordOrder(event.sections).map((s) => (
            <span class="tag" key={s}>
              {t(`section.${s}`)}
            </span>
          ))}
        </p>
      )}
      {title && <p class="entry-title">{t('history.entryTitle', { title })}</p>}
      {event.reason && (
        <p>{t(reasonKey(event.action), { reason: shownReason(language.get(), event.action, event.reason) })}</p>
      )}
      {onOnly && event.actorId && (
        <button type="button" class="link-button" onClick={() => onOnly(actor)}>
          {t('history.onlyThis')}
          <span class="visually-hidden"> : {who}</span>
        </button>
      )}
    </li>
  );
}
