import { useRef, useState } from 'preact/hooks';
import { locale, said, t } from '../../i18n/index.js';
import { runMutation, runQuery, useQuery } from '../../gql/hooks.js';
import { Field } from '../../components/Field.jsx';
import { ask } from '../../components/ConfirmDialog.jsx';
import { RecordInactive } from '../../components/RecordInactive.jsx';
import { actionOutcome, Empty, ErrorBox, LiveText, Loading } from '../../components/Status.jsx';
import { formatDate } from '../../lib/dates.js';
import { focusBack, useSaid } from '../../lib/focus.js';
import { SEARCH_MIN, directorySearch } from '../../lib/directory.js';
import { SectionPicker } from './SectionPicker.jsx';
import { useStatusRefresh } from '../../lib/statusRefresh.js';
import { shownStatus } from '../../lib/comingBack.js';
import { BLOCK, DIRECTORY, GRANT, MY_SHARING, REVOKE, SET_EMERGENCY, SET_NOTICES, SET_TREATING, UNBLOCK } from './documents.js';
import { Form } from '../../components/Form.jsx';
import { useSending } from '../../lib/sending.js';
import { cardsWithSaid, saidWhere } from '../../lib/saidWhere.js';
import { useAnchor } from '../../router.jsx';

// The anchor of « Mon médecin traitant » (/partage#medecin-traitant): /historique's card of an
// emergency access by the treating physician, who cannot be blocked while named, leads there.
export const TREATING_ANCHOR = 'medecin-traitant';

function describe(p) {
  return `${p.displayName} — ${t(`profession.${p.profession}`)}, ${p.city}`;
}

export function Sharing() {
  const query = useQuery(MY_SHARING);
  const [sharing, setSharing] = useState(null);
  const [search, setSearch] = useState('');
  const [found, setFound] = useState(null);
  // The last search was too short to be asked: null, or that search's own (an object: each
  // search too short is said, as what a search found is, below).
  const [tooShort, setTooShort] = useState(null);
  const [editing, setEditing] = useState(null);
  const [failure, setFailure] = useState(null);
  const [notice, setNotice] = useState(null);
  // Where the last action's notice or error is said, where the button pressed is (on a phone the
  // top is out of sight): null, at the top; 'treating', under the treating physician; 'search',
  // under the search; 'emergency' or 'notices', beside that form, at the bottom of the screen;
  // a professional's { list, id, index } ('grant', 'found' or 'blocked'), in their card in that
  // list, or where the card was once gone (an access revoked, a block lifted; lib/saidWhere.js).
  const [place, setPlace] = useState(null);
  // The button that opened the choice of sections: the keyboard goes back to it on « Annuler ».
  const opener = useRef(null);
  // The last search made: an earlier one answered late does not replace its results.
  const searches = useRef(0);
  // Each action started: one answered once another has started (a search made while a revocation
  // was under way) is applied, but its notice or error is not said, where the other one's is.
  const started = useRef(0);
  useStatusRefresh(shownStatus(query.data), query.refetch); // closed in another tab: say so
  // What a search found (how many, or none), said once per search, the keyboard left on the
  // search (lib/focus.js, useSaid): each search's answer is a list of its own (`found`), said even
  // when it finds as many as the one before, and not again when the page's language changes.
  const [foundRef, foundLive] = useSaid(false, found);
  // A search too short is said beside the form the same way (its role="alert"), once per search.
  const [tooShortRef, tooShortLive] = useSaid(false, tooShort);
  // One change at a time: a button pressed twice (a double click) sends once.
  const [, send] = useSending();
  // Followed from a link to /partage#medecin-traitant: the keyboard to its heading once drawn.
  const treatingHeading = useAnchor(TREATING_ANCHOR);

  if (query.fetching && !query.data) return <Loading />;
  if (query.code) return <ErrorBox result={query} />;
  const status = query.data?.myRecordStatus?.status;
  const current = sharing ?? query.data?.mySharing;
  if (status !== 'ACTIVE' || !current) {
    return <RecordInactive title={t('sharing.title')} status={status} />;
  }

  // Another action starts: the notice or error of the previous one goes. Says which action it is.
  const starting = () => {
    setFailure(null);
    setNotice(null);
    setTooShort(null);
    setPlace(null);
    return ++started.current;
  };

  const edit = (key) => (event) => {
    starting();
    opener.current = event.currentTarget;
    setEditing(key);
  };

  // `message` is the notice said once done, or a function of the sharing as it then is (what a
  // change leaves true may depend on it: a revoked professional still named treating physician).
  const change = (document, variables, field, message, where = null) =>
    send(async () => {
      const mine = starting();
      const open = editing; // the choice of sections it saves, if any: closed once saved
      setPlace(where);
      const result = await runMutation(document, variables);
      if (result.code === 'FORBIDDEN') query.refetch(); // closed meanwhile (another tab): say so
      if (!result.code) {
        setSharing(result.data[field].sharing);
        setEditing((now) => (now === open ? null : now)); // not one opened meanwhile
      }
      if (mine !== started.current) return;
      if (result.code) return setFailure(result);
      setNotice(typeof message === 'function' ? message(result.data[field].sharing) : message);
    });

  const find = async (event) => {
    event.preventDefault();
    const action = starting();
    // A search that cannot be made leaves no results of the previous one on the screen.
    const text = directorySearch(search);
    if (!text) {
      setFound(null);
      return setTooShort({});
    }
    setPlace('search');
    const mine = ++searches.current;
    const result = await runQuery(DIRECTORY, { search: text });
    if (mine !== searches.current) return; // a later search was made meanwhile: its answer is shown
    setFound(result.code ? null : [...result.data.practitionerDirectory]); // this search's own
    if (result.code && action === started.current) setFailure(result);
  };

  // The last action's notice or error, if there is one; said beside the button pressed (not at
  // the top), it comes into view when it does not take the focus.
  const outcome = (beside = true) => actionOutcome(notice, failure, beside);
  // The last action's notice or error, if it is to be said at `where`.
  const saidAt = (where) => place === where && outcome(where !== null);
  // « Enregistré. » beside a preferences' form speaks of what was saved: it goes as soon as that
  // form is changed again (a box ticked or unticked), which is not saved yet.
  const changedAt = (where) => () => {
    if (place === where) setNotice(null);
  };
  // In a list of professionals' cards: where that action's notice or error is said, if there.
  const listed = place && typeof place === 'object' ? place : null;
  const inList = (list) => (listed?.list === list ? listed : null);
  // The cards of `list` (`card(item, index, said)`), with the notice about a card gone where it was.
  const cards = (list, items, idOf, card) => cardsWithSaid(inList(list), items, idOf, card, outcome());
  // A list's notice about its last card, gone: under the words that say the list is empty.
  const saidEmpty = (list) => saidWhere(inList(list), []) && outcome();

  // The notice of a grant withdrawn from `p`, true of the sharing it leaves.
  const revoked = (p) => (now) =>
    said(now.treatingPhysician?.id === p.id ? 'sharing.revokedTreating' : 'sharing.revoked', { who: p.displayName });

  const blocked = new Set(current.blocked.map((p) => p.id));
  const granted = new Map(current.grants.map((g) => [g.practitioner.id, g.sections]));
  // One picker open at a time, where its button was pressed (a professional already granted
  // is both in the list of grants and among the search results).
  const picker = (p, initial, where) =>
    editing === `${where}:${p.id}` && (
      <SectionPicker
        who={p.displayName}
        allowed={p.allowedSections}
        initial={initial}
        onCancel={() => {
          setEditing(null);
          focusBack(opener.current);
        }}
        onSave={(sections) => change(GRANT, { practitionerId: p.id, sections }, 'grantAccess', said('sharing.granted', { who: p.displayName }), { list: where, id: p.id })}
      />
    );

  return (
    <section>
      <h1>{t('sharing.title')}</h1>
      <p>{t('sharing.intro')}</p>
      {saidAt(null)}

      <h2 id={TREATING_ANCHOR} ref={treatingHeading} tabIndex={-1}>
        {t('sharing.treating')}
      </h2>
      {current.treatingPhysician ? (
        <div class="card">
          <p>{describe(current.treatingPhysician)}</p>
          <p class="hint">{t('sharing.treatingExplain')}</p>
          <button type="button" class="secondary" onClick={() => change(SET_TREATING, { practitionerId: null }, 'setTreatingPhysician', said('sharing.treatingCleared'), 'treating')}>
            {t('sharing.clearTreating')}
          </button>
        </div>
      ) : (
        <Empty>{t('sharing.noTreating')}</Empty>
      )}
      {saidAt('treating')}

      <h2>{t('sharing.grants')}</h2>
      {current.grants.length === 0 ? (
        <>
          <Empty>{t('sharing.noGrants')}</Empty>
          {saidEmpty('grant')}
        </>
      ) : (
        <ul class="cards">
          {cards('grant', current.grants, (g) => g.practitioner.id, (g, index, saidHere) => (
            <li class="card" key={g.practitioner.id}>
              <h3>{describe(g.practitioner)}</h3>
              <p class="meta">{t('sharing.since', { date: formatDate(g.since, locale()) })}</p>
              <p>
                {g.sections.map((s) => (
                  <span class="tag" key={s}>
                    {t(`section.${s}`)}
                  </span>
                ))}
              </p>
              {/* The treating physician sees every section: the ones chosen change nothing while
                  named, so none are offered (as in the search's results); the grant stays, for later. */}
              {g.practitioner.id === current.treatingPhysician?.id && <p>{t('sharing.isTreating')}</p>}
              <div class="actions">
                {g.practitioner.id !== current.treatingPhysician?.id && (
                  <button type="button" class="secondary" onClick={edit(`grant:${g.practitioner.id}`)}>
                    {t('sharing.edit')}
                  </button>
                )}
                <button
                  type="button"
                  class="danger"
                  onClick={() =>
                    // The treating physician whose grant is withdrawn still sees every section,
                    // as long as they are named: not said to have no access any more.
                    change(REVOKE, { practitionerId: g.practitioner.id }, 'revokeAccess', revoked(g.practitioner), {
                      list: 'grant',
                      id: g.practitioner.id,
                      index,
                    })
                  }
                >
                  {t('sharing.revoke')}
                </button>
              </div>
              {picker(g.practitioner, g.sections, 'grant')}
              {saidHere}
            </li>
          ))}
        </ul>
      )}

      <h2>{t('sharing.add')}</h2>
      <Form role="search" onSubmit={find}>
        {/* No minLength: a search shorter than the directory's is said beside the form (lib/directory.js). */}
        <Field label={t('sharing.search')} hint={t('sharing.searchHint', { min: SEARCH_MIN })} value={search} onInput={setSearch} required />
        {tooShort && (
          <p class="error" ref={tooShortRef}>
            <LiveText role="alert" live={tooShortLive}>
              {t('sharing.searchTooShort', { min: SEARCH_MIN })}
            </LiveText>
          </p>
        )}
        <button type="submit">{t('sharing.find')}</button>
      </Form>
      {saidAt('search')}
      {/* What the search found is said (a screen reader hears it), not only shown below. */}
      {found && (
        <p ref={foundRef} class={found.length === 0 ? 'empty' : 'visually-hidden'}>
          <LiveText role="status" live={foundLive}>
            {found.length === 0 ? t('sharing.noneFound') : t('sharing.foundCount', { n: found.length })}
          </LiveText>
        </p>
      )}
      {found && found.length > 0 && (
        <ul class="cards" aria-label={t('sharing.results')}>
          {cards('found', found, (p) => p.id, (p, _, saidHere) => (
            <li class="card" key={p.id}>
              <h3>{describe(p)}</h3>
              <p class="meta">RPPS {p.rpps}</p>
              {blocked.has(p.id) ? (
                <p>{t('sharing.isBlocked')}</p>
              ) : p.id === current.treatingPhysician?.id ? (
                // Sees every section already, and cannot be blocked while named.
                <p>{t('sharing.isTreating')}</p>
              ) : (
                <div class="actions">
                  <button type="button" onClick={edit(`found:${p.id}`)}>
                    {t(granted.has(p.id) ? 'sharing.edit' : 'sharing.shareWith')}
                    <span class="visually-hidden"> {p.displayName}</span>
                  </button>
                  {p.profession === 'medecin' && (
                    <button type="button" class="secondary" onClick={() => change(SET_TREATING, { practitionerId: p.id }, 'setTreatingPhysician', said('sharing.treatingSet', { who: p.displayName }), { list: 'found', id: p.id })}>
                      {t('sharing.makeTreating')}
                    </button>
                  )}
                  <button
                    type="button"
                    class="danger"
                    onClick={async () =>
                      (await ask({ message: said('sharing.blockConfirm', { who: p.displayName }), confirmLabel: said('sharing.block'), danger: true })) &&
                      change(BLOCK, { practitionerId: p.id }, 'blockPractitioner', said('sharing.blockedDone', { who: p.displayName }), { list: 'found', id: p.id })
                    }
                  >
                    {t('sharing.block')}
                  </button>
                </div>
              )}
              {picker(p, granted.get(p.id) ?? [], 'found')}
              {saidHere}
            </li>
          ))}
        </ul>
      )}

      <h2>{t('sharing.blocked')}</h2>
      {current.blocked.length === 0 ? (
        <>
          <Empty>{t('sharing.noBlocked')}</Empty>
          {saidEmpty('blocked')}
        </>
      ) : (
        <ul class="cards">
          {cards('blocked', current.blocked, (p) => p.id, (p, index, saidHere) => (
            <li class="card" key={p.id}>
              <p>{describe(p)}</p>
              <button
                type="button"
                class="secondary"
                onClick={() => change(UNBLOCK, { practitionerId: p.id }, 'unblockPractitioner', said('sharing.unblocked', { who: p.displayName }), { list: 'blocked', id: p.id, index })}
              >
                {t('sharing.unblock')}
              </button>
              {saidHere}
            </li>
          ))}
        </ul>
      )}

      <h2>{t('sharing.emergency')}</h2>
      <EmergencyPreferences current={current} onChanged={changedAt('emergency')} onSave={(v) => change(SET_EMERGENCY, v, 'setEmergencyPreferences', said('common.saved'), 'emergency')} />
      {saidAt('emergency')}

      <h2>{t('sharing.notices')}</h2>
      <NoticePreferences current={current} onChanged={changedAt('notices')} onSave={(v) => change(SET_NOTICES, v, 'setNotificationPreferences', said('common.saved'), 'notices')} />
      {saidAt('notices')}
    </section>
  );
}

function EmergencyPreferences({ current, onSave, onChanged }) {
  const [regulator, setRegulator] = useState(current.allowRegulatorAccess);
  const [breakGlass, setBreakGlass] = useState(current.allowBreakGlass);
  return (
    <Form onSubmit={(e) => (e.preventDefault(), onSave({ allowRegulatorAccess: regulator, allowBreakGlass: breakGlass }))} aria-label={t('sharing.emergency')} onChange={onChanged}>
      <p class="hint">{t('sharing.emergencyExplain')}</p>
      <label class="choice">
        <input type="checkbox" checked={regulator} onChange={(e) => setRegulator(e.currentTarget.checked)} aria-describedby="regulator-note" />
        {t('sharing.allowRegulator')}
      </label>
      <p class="hint" id="regulator-note">{t('sharing.regulatorNote')}</p>
      <label class="choice">
        <input type="checkbox" checked={breakGlass} onChange={(e) => setBreakGlass(e.currentTarget.checked)} />
        {t('sharing.allowBreakGlass')}
      </label>
      <button type="submit">{t('common.save')}</button>
    </Form>
  );
}

function NoticePreferences({ current, onSave, onChanged }) {
  const [newDocuments, setNewDocuments] = useState(current.notifyNewDocuments);
  return (
    <Form onSubmit={(e) => (e.preventDefault(), onSave({ notifyNewDocuments: newDocuments }))} aria-label={t('sharing.notices')} onChange={onChanged}>
      <p class="hint">{t('sharing.noticesExplain')}</p>
      <label class="choice">
        <input type="checkbox" checked={newDocuments} onChange={(e) => setNewDocuments(e.currentTarget.checked)} />
        {t('sharing.notifyNewDocuments')}
      </label>
      <button type="submit">{t('common.save')}</button>
    </Form>
  );
}
