import { useState } from 'preact/hooks';
import { t } from '../i18n/index.js';
import { SECTIONS, timeline } from '../lib/sections.js';
import { DateField, SelectField } from './Field.jsx';
import { Empty } from './Status.jsx';
import { offersMore, useListCount } from './ListCount.jsx';
import { EntryCard } from './EntryCard.jsx';
import { Form } from './Form.jsx';
import { cardsWithSaid, saidWhere } from '../lib/saidWhere.js';

// The record as one timeline, filtered by section and period, with "more" per section that has more.
// ownRecord: the patient reads their own record (their entries read "added by you").
// actionsFor(entry, index): an entry's buttons, `index` its place in the list shown.
// said: an action's notice or error said where its button was (docs/frontend.md), { at, node }:
// `at` an entry's { id, index } (in its card; once it is no longer shown, deleted or hidden by a
// filter, in the list where it was, lib/saidWhere.js)
// or 'more' (beside the "More" buttons).
export function RecordTimeline({ record, onMore, actionsFor, said = null, ownRecord = false }) {
  const [section, setSection] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const visible = SECTIONS.filter(([, field]) => record[field]);
  const entries = timeline(record, { section, from, to });
  const more = visible.filter(([name, field]) => (!section || section === name) && record[field].pageInfo.hasNextPage);
  // The entries shown, said once (components/ListCount.jsx): an entry deleted gives the keyboard
  // to the notice said where it was, not to the count. New with the filters, or a "More" gone.
  const news = `${visible.map(([, field]) => offersMore(record[field])).join()} ${section} ${from} ${to}`;
  const count = useListCount(entries.length, 'record.count', news, said ? false : 'lost');
  // An entry no longer shown (deleted, hidden by a filter): its action's notice where its card was.
  const place = said && said.at !== 'more' ? said.at : null;
  const cards = cardsWithSaid(
    place,
    entries,
    (entry) => entry.id,
    (entry, index, saidHere) => (
      <EntryCard key={entry.id} entry={entry} actions={actionsFor?.(entry, index)} said={saidHere} ownRecord={ownRecord} />
    ),
    said?.node,
  );
  return (
    <>
      <Form class="filters" role="search" aria-label={t('record.filters')} onSubmit={(e) => e.preventDefault()}>
        <SelectField
          label={t('record.filterSection')}
          value={section}
          onChange={setSection}
          options={[['', t('record.allSections')], ...visible.map(([name]) => [name, t(`section.${name}`)])]}
        />
        <DateField label={t('record.from')} value={from} onInput={setFrom} />
        <DateField label={t('record.to')} value={to} onInput={setTo} />
      </Form>
      {count}
      {entries.length === 0 ? (
        <>
          {/* Older pages not loaded yet may hold what the filters ask for: « Plus de résultats » says so. */}
          <Empty>{t(more.length > 0 ? 'record.emptySoFar' : 'record.empty')}</Empty>
          {saidWhere(place, []) && said.node}
        </>
      ) : (
        <ul class="cards">{cards}</ul>
      )}
      {more.length > 0 && (
        <div class="actions">
          {more.map(([name, field]) => (
            <button key={field} type="button" class="secondary" onClick={() => onMore(field)}>
              {t('record.moreIn', { section: t(`section.${name}`) })}
            </button>
          ))}
        </div>
      )}
      {said?.at === 'more' && said.node}
    </>
  );
}
