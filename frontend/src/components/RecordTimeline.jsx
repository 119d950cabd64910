import { useEffect, useRef, useState } from 'preact/hooks';
import { focusIfLost } from '../lib/focus.js';
import { t } from '../i18n/index.js';
import { SECTIONS, timeline } from '../lib/sections.js';
import { DateField, Field, SelectField } from './Field.jsx';
import { Empty } from './Status.jsx';
import { EntryCard } from './EntryCard.jsx';
import { Form } from './Form.jsx';

// The record as one timeline, filtered by section and period, with "more" per section that has more.
// ownRecord: the patient reads their own record (their entries read "added by you").
export function RecordTimeline({ record, onMore, actionsFor, ownRecord = false }) {
  const [section, setSection] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const visible = SECTIONS.filter(([, field]) => record[field]);
  const entries = timeline(record, { section, from, to });
  const more = visible.filter(([name, field]) => (!section || section === name) && record[field].pageInfo.hasNextPage);
  // A "More" that loaded a section's last page is gone: the keyboard goes to the count it changed.
  const count = useRef(null);
  const shown = useRef(entries.length);
  useEffect(() => {
    if (shown.current !== entries.length) focusIfLost(count.current);
    shown.current = entries.length;
  }, [entries.length]);
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
      <p role="status" ref={count} tabIndex={-1}>
        {t('record.count', { n: entries.length })}
      </p>
      {entries.length === 0 ? (
        <Empty>{t('record.empty')}</Empty>
      ) : (
        <ul class="cards">
          {entries.map((entry) => (
            <EntryCard key={entry.id} entry={entry} actions={actionsFor?.(entry)} ownRecord={ownRecord} />
          ))}
        </ul>
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
    </>
  );
}
