import { useEffect, useRef, useState } from 'preact/hooks';
import { locale, t } from '../../i18n/index.js';
import { runQuery } from '../../gql/hooks.js';
import { AddEntryForm } from '../../components/AddEntryForm.jsx';
import { EmergencyBanner } from '../../components/EmergencyBanner.jsx';
import { Field } from '../../components/Field.jsx';
import { RecordTimeline } from '../../components/RecordTimeline.jsx';
import { Empty, ErrorBox, Loading } from '../../components/Status.jsx';
import { emergencyOffer } from '../../lib/access.js';
import { formatDate } from '../../lib/dates.js';
import { firstField, focusIfLost } from '../../lib/focus.js';
import { writableSections } from '../../lib/entryInput.js';
import { normalizeIns } from '../../lib/ins.js';
import { forget, useKept } from '../../lib/kept.js';
import { appendPage } from '../../lib/paging.js';
import { formatPhone } from '../../lib/phone.js';
import { holdsNothing } from '../../lib/sections.js';
import { EmergencyForm } from './EmergencyForm.jsx';
import { OpenRecord } from './OpenRecord.jsx';
import { PATIENT_RECORD, patientRecordPage } from './documents.js';
import { Form } from '../../components/Form.jsx';

// A practitioner's view. The INS lives in this component's state only, never in the URL.
export function Practitioner({ me }) {
  const [ins, setIns] = useKept('pro.ins', '');
  const [active, setActive] = useKept('pro.active', null);
  const [record, setRecord] = useState(null);
  const [failure, setFailure] = useState(null);
  // A "More" refused: said under the "More" buttons, where it was pressed (the top, under the INS,
  // is out of sight below a long record), as on /dossier.
  const [moreFailure, setMoreFailure] = useState(null);
  const [loading, setLoading] = useState(false);
  // The record was refused: the emergency form stays offered until another record is asked
  // for, whatever the emergency form's own refusals (a reason too short).
  const [refused, setRefused] = useState(false);
  // Bumped when the practitioner asks for a record (or closes it): what was shown of the
  // previous one, an entry's notice included, does not stay beside the next.
  const [round, setRound] = useState(0);
  // Where the keyboard goes once the control that had it is gone: an emergency access opened (its
  // form replaced by the record read in that mode) to the record's heading; the record closed to
  // the INS field, for the next one.
  const heading = useRef(null);
  const search = useRef(null);
  const [opened, setOpened] = useState(false);
  const [closed, setClosed] = useState(0);
  useEffect(() => {
    if (!opened || !record) return;
    setOpened(false);
    focusIfLost(heading.current);
  }, [record]);
  useEffect(() => {
    if (closed) focusIfLost(firstField(search.current));
  }, [closed]);

  // Back from the login screen after an expired session: reopen the record that was on screen.
  useEffect(() => {
    if (active) load(active);
  }, []);

  // The record's reading: bumped by each one (another record asked for, the same read again, or
  // closed); a page (or a read) on its way meanwhile is dropped, not added to the record now shown.
  const reading = useRef(0);
  const load = async (target) => {
    const mine = ++reading.current;
    setLoading(true);
    setFailure(null);
    setMoreFailure(null);
    const result = await runQuery(PATIENT_RECORD, { ins: target });
    if (mine !== reading.current) return;
    setLoading(false);
    setRefused(result.code === 'FORBIDDEN');
    if (result.code) {
      setRecord(null);
      return setFailure(result);
    }
    setRecord(result.data.record);
  };

  const consult = async (event) => {
    event.preventDefault();
    const target = normalizeIns(ins);
    setRound(round + 1);
    setOpened(false);
    setActive(target);
    await load(target);
  };

  // Added to the record as it is when the page comes (another section's page may have come meanwhile).
  const more = async (field) => {
    const mine = reading.current;
    setMoreFailure(null);
    const result = await runQuery(patientRecordPage(field), { ins: active, after: record[field].pageInfo.endCursor });
    if (mine !== reading.current) return;
    if (result.code) return setMoreFailure(result);
    setRecord((latest) => latest && { ...latest, [field]: appendPage(latest[field], result.data.record[field]) });
  };

  const closeView = () => {
    forget('addEntry.');
    reading.current += 1; // a read on its way is dropped: its loading ends here
    setLoading(false);
    setRound(round + 1);
    setRecord(null);
    setMoreFailure(null);
    setActive(null);
    setRefused(false);
    setIns('');
    setClosed(closed + 1);
  };

  // Whenever the record is read in an emergency mode (just opened, or opened earlier and
  // still running): its banner and countdown, from the record itself.
  const emergencyMode = record?.sectionAccess.map((a) => a.mode).find((m) => m === 'EMERGENCY_REGULATOR' || m === 'BREAK_GLASS');
  const banner = record?.emergencyExpiresAt && emergencyMode ? { mode: emergencyMode, expiresAt: record.emergencyExpiresAt } : null;
  const offer = active ? emergencyOffer(record, refused) : null;
  // Once opened, the record is read again in the mode now open: its banner comes with it.
  const emergencyForm = (more) => (
    <EmergencyForm key={`${round}-${more}`} ins={active} regulator={me?.isRegulator} more={more} onOpened={() => (setOpened(true), load(active))} />
  );
  const writable = record ? writableSections(record.sectionAccess) : [];

  return (
    <section>
      <h1>{t('pro.title')}</h1>
      <h2>{t('pro.consult')}</h2>
      <Form role="search" onSubmit={consult} formRef={search}>
        <Field label={t('activate.ins')} value={ins} onInput={setIns} autocomplete="off" required />
        <button type="submit">{t('pro.consultSubmit')}</button>
      </Form>
      {loading && <Loading />}
      <ErrorBox result={failure} />
      {offer === 'all' && emergencyForm(false)}
      {record && (
        <article key={round} aria-label={t('pro.recordOf', { name: `${record.firstName} ${record.lastName}` })}>
          {/* Run out: read again, in what is left (a grant), or refused. */}
          {banner && <EmergencyBanner mode={banner.mode} expiresAt={banner.expiresAt} onExpired={() => load(active)} />}
          <h2 ref={heading} tabIndex={-1}>
            {record.firstName} {record.lastName}
          </h2>
          <p class="meta">{t('record.born', { date: formatDate(record.birthDate, locale()) })}</p>
          <h3>{t('pro.access')}</h3>
          <ul class="access">
            {record.sectionAccess.map((a) => (
              <li key={a.section}>
                {t(`section.${a.section}`)} — <span class="tag">{t(`mode.${a.mode}`)}</span>
              </li>
            ))}
          </ul>
          {offer === 'more' && emergencyForm(true)}
          {record.emergencyProfile && <EmergencySummary profile={record.emergencyProfile} />}
          {/* Nothing in the sections this practitioner may see: said so, as on /dossier, not
              « Aucune information pour ces critères » under filters nobody set. */}
          {holdsNothing(record) ? (
            <Empty>{t('pro.nothingYet')}</Empty>
          ) : (
            <RecordTimeline
              record={record}
              onMore={more}
              said={moreFailure ? { at: 'more', node: <ErrorBox result={moreFailure} focus="lost" reveal /> } : null}
            />
          )}
          {writable.length > 0 && (
            <>
              <h3>{t('addEntry.title')}</h3>
              {/* Refused: the record may have been closed, or the grant withdrawn, meanwhile: read it again. */}
              <AddEntryForm ins={active} sections={writable} onAdded={() => load(active)} onRefused={() => load(active)} />
            </>
          )}
          <button type="button" class="secondary" onClick={closeView}>
            {t('pro.close')}
          </button>
        </article>
      )}
      <h2>{t('open.title')}</h2>
      <OpenRecord />
    </section>
  );
}

function EmergencySummary({ profile }) {
  return (
    <div class="card">
      <h3>{t('section.EMERGENCY')}</h3>
      <dl class="details">
        <dt>{t('emergency.bloodGroup')}</dt>
        <dd>{profile.bloodGroup || t('emergency.unknown')}</dd>
        <dt>{t('emergency.contacts')}</dt>
        <dd>
          {profile.emergencyContacts.length
            ? profile.emergencyContacts.map((c) => `${c.name}${c.relation ? ` (${c.relation})` : ''} ${formatPhone(c.phone)}`).join(' ; ')
            : t('emergency.none')}
        </dd>
        <dt>{t('emergency.directives')}</dt>
        <dd>{profile.advanceDirectives || t('emergency.none')}</dd>
      </dl>
    </div>
  );
}
