import { useState } from 'preact/hooks';
import { locale, readsAs, t } from '../i18n/index.js';
import { formatDate, formatDateTime } from '../lib/dates.js';
import { fileLink } from '../lib/links.js';

// Structured details per concrete type: [field, catalogue key, kind].
const DETAILS = [
  ['cip13', 'detail.cip13'], ['atc', 'detail.atc'], ['dose', 'detail.dose'], ['prescriber', 'detail.prescriber'],
  ['quantity', 'detail.quantity'], ['lppCode', 'detail.lppCode'], ['ccamCode', 'detail.ccamCode'],
  ['performer', 'detail.performer'], ['modality', 'detail.modality'], ['bodySite', 'detail.bodySite'],
  ['report', 'detail.report'], ['analyte', 'detail.analyte'], ['loinc', 'detail.loinc'], ['value', 'detail.value'],
  ['unit', 'detail.unit'], ['referenceRange', 'detail.referenceRange'], ['abnormal', 'detail.abnormal', 'bool'],
  ['facility', 'detail.facility'], ['admissionDate', 'detail.admissionDate', 'date'],
  ['dischargeDate', 'detail.dischargeDate', 'date'], ['condition', 'detail.condition'], ['icd10', 'detail.icd10'],
  ['notes', 'detail.notes'], ['substance', 'detail.substance'], ['reaction', 'detail.reaction'],
  ['severity', 'detail.severity'], ['vaccine', 'detail.vaccine'], ['lot', 'detail.lot'],
  ['doseNumber', 'detail.doseNumber'], ['documentType', 'detail.documentType'],
  ['description', 'detail.description'], ['fileName', 'detail.fileName'],
];

// Who added the entry, as the reader reads it: the patient's own entries say "by you" on the
// patient's own record only; to anyone else (a practitioner, the SAMU) "by the patient".
export function sourceKey(source, ownRecord) {
  return source === 'PATIENT' && ownRecord ? 'source.PATIENT.own' : `source.${source}`;
}

function authorOf(entry) {
  return entry.author
    ? `${entry.author.displayName}${entry.author.profession ? ` (${t(`profession.${entry.author.profession}`)})` : ''}`
    : t('entry.noAuthor');
}

// The entry's source and author, as one line: « Assurance maladie — CPAM de Paris ». An author
// named as the source reads (the insurer's account « Assurance Maladie ») is not said twice.
export function byline(entry, ownRecord) {
  const source = t(sourceKey(entry.source, ownRecord));
  const author = authorOf(entry);
  return readsAs(author, source) ? source : `${source} — ${author}`;
}

function show(value, kind) {
  if (kind === 'bool') return value ? t('common.yes') : t('common.no');
  if (kind === 'date') return formatDate(value, locale());
  return String(value);
}

// ownRecord: the reader is the patient, on their own record.
// said: the notice or error of an action on this entry, said beside its buttons (docs/frontend.md).
export function EntryCard({ entry, actions, said = null, ownRecord = false }) {
  const [open, setOpen] = useState(false);
  const download = fileLink(entry.downloadUrl);
  const details = DETAILS.filter(([field]) => entry[field] !== null && entry[field] !== undefined && entry[field] !== '');
  return (
    <li class="card" data-entry-id={entry.id}>
      <h3>{entry.title}</h3>
      <p class="meta">
        <time dateTime={entry.date}>{formatDate(entry.date, locale())}</time> · {t(`section.${entry.section}`)}
      </p>
      <p class="meta">{byline(entry, ownRecord)}</p>
      <p>
        {entry.masked && <span class="tag masked">{t('entry.masked')}</span>}
        {entry.supersedes && <span class="tag warn">{t('entry.correction')}</span>}
        {entry.superseded && <span class="tag">{t('entry.superseded')}</span>}
      </p>
      {download && (
        <p>
          <a href={download} download={entry.fileName ?? ''}>
            {t('entry.download', { name: entry.fileName ?? entry.title })}
          </a>
        </p>
      )}
      <div class="actions">
        <button type="button" class="secondary" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? t('entry.hideDetails') : t('entry.showDetails')}
        </button>
        {actions}
      </div>
      {said}
      {open && (
        <dl class="details">
          {entry.code && (
            <>
              <dt>{t('detail.code')}</dt>
              <dd>{entry.code}</dd>
            </>
          )}
          {details.map(([field, key, kind]) => (
            <>
              <dt>{t(key)}</dt>
              <dd>{show(entry[field], kind)}</dd>
            </>
          ))}
          <dt>{t('entry.source')}</dt>
          <dd>{t(sourceKey(entry.source, ownRecord))}</dd>
          <dt>{t('entry.author')}</dt>
          <dd>{authorOf(entry)}</dd>
          <dt>{t('entry.createdAt')}</dt>
          <dd>{formatDateTime(entry.createdAt, locale())}</dd>
          {entry.supersedes && (
            <>
              <dt>{t('entry.correctionOf')}</dt>
              <dd>{t('entry.correctionExplained')}</dd>
            </>
          )}
        </dl>
      )}
    </li>
  );
}
