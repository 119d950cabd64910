import { useEffect, useRef, useState } from 'preact/hooks';
import { said, t } from '../../i18n/index.js';
import { runMutation, useQuery } from '../../gql/hooks.js';
import { Field, SelectField, TextArea } from '../../components/Field.jsx';
import { RecordInactive } from '../../components/RecordInactive.jsx';
import { ErrorBox, Loading, Notice } from '../../components/Status.jsx';
import { forget, useKept } from '../../lib/kept.js';
import { expired } from '../../session.js';
import { focusIfLost } from '../../lib/focus.js';
import { useStatusRefresh } from '../../lib/statusRefresh.js';
import { shownStatus } from '../../lib/comingBack.js';
import { MY_PROFILE, UPDATE } from './documents.js';
import { Form } from '../../components/Form.jsx';
import { useSending } from '../../lib/sending.js';

const GROUPS = ['', 'A+', 'A-', 'B+', 'B-', 'AB+', 'AB-', 'O+', 'O-'];

export function EmergencyProfile() {
  const query = useQuery(MY_PROFILE);
  useStatusRefresh(shownStatus(query.data), query.refetch); // closed in another tab: say so
  if (query.fetching && !query.data) return <Loading />;
  if (query.code) return <ErrorBox result={query} />;
  const status = query.data?.myRecordStatus?.status;
  if (status !== 'ACTIVE') {
    return <RecordInactive title={t('emergency.title')} status={status} />;
  }
  const profile = query.data?.myRecord?.emergencyProfile ?? { bloodGroup: '', advanceDirectives: '', emergencyContacts: [] };
  return <ProfileForm initial={profile} onRefused={query.refetch} />;
}

// What is typed is kept (lib/kept.js) across a trip through the login screen after an expired
// session, as the login page promises; it is forgotten once saved, or when the person leaves
// the screen otherwise (coming back shows the profile as stored).
function ProfileForm({ initial, onRefused }) {
  const [bloodGroup, setBloodGroup] = useKept('emergency.bloodGroup', initial.bloodGroup ?? '');
  const [directives, setDirectives] = useKept('emergency.directives', initial.advanceDirectives ?? '');
  const [contacts, setContacts] = useKept('emergency.contacts', initial.emergencyContacts.map((c) => ({ ...c, relation: c.relation ?? '' })));
  useEffect(() => () => expired.get() || forget('emergency.'), []);
  const [failure, setFailure] = useState(null);
  const [notice, setNotice] = useState(null);
  // The row just added: the keyboard goes to its name. A row removed: back to "Add a person".
  const [added, setAdded] = useState(null);
  const addButton = useRef(null);
  const [removed, setRemoved] = useState(0);
  useEffect(() => {
    if (removed) focusIfLost(addButton.current);
  }, [removed]);

  // « Enregistré. » speaks of what was saved: it goes once the profile is changed again.
  const changed = () => setNotice(null);
  // A row left wholly empty (an added person never filled in) is left out on save, not refused:
  // its name and phone are asked for only once something is typed in it.
  const blank = (c) => !(c.name.trim() || c.phone.trim() || c.relation.trim());
  const setContact = (i, name) => (value) => setContacts(contacts.map((c, j) => (j === i ? { ...c, [name]: value } : c)));
  // « Enregistrer » pressed twice saves once.
  const [busy, send] = useSending();
  const submit = (event) => {
    event.preventDefault();
    return send(() => save());
  };
  const save = async () => {
    setFailure(null);
    setNotice(null);
    const input = {
      bloodGroup: bloodGroup || null,
      advanceDirectives: directives,
      emergencyContacts: contacts
        // Only a row left wholly empty is left out: a half-filled one is refused, and said why.
        .filter((c) => !blank(c))
        .map((c) => ({ name: c.name.trim(), phone: c.phone.trim(), relation: c.relation.trim() || null })),
    };
    const result = await runMutation(UPDATE, { input });
    if (result.code === 'FORBIDDEN') onRefused(); // closed meanwhile (another tab): say so
    if (result.code) return setFailure(result);
    forget('emergency.'); // saved: nothing typed is left to bring back
    setNotice(said('common.saved'));
  };

  return (
    <section>
      <h1>{t('emergency.title')}</h1>
      <p>{t('emergency.intro')}</p>
      <Form onSubmit={submit} onInput={changed} onChange={changed}>
        <SelectField label={t('emergency.bloodGroup')} value={bloodGroup} onChange={setBloodGroup} options={GROUPS.map((g) => [g, g || t('emergency.unknown')])} />
        <fieldset>
          <legend>{t('emergency.contacts')}</legend>
          {contacts.length === 0 && <p class="empty">{t('emergency.none')}</p>}
          {contacts.map((c, i) => (
            <div class="card" key={i} role="group" aria-label={t('emergency.contactN', { n: i + 1 })}>
              <Field label={t('emergency.contactName')} value={c.name} onInput={setContact(i, 'name')} required={!blank(c)} focus={i === added} />
              <Field label={t('emergency.contactPhone')} type="tel" value={c.phone} onInput={setContact(i, 'phone')} required={!blank(c)} />
              <Field label={t('emergency.contactRelation')} value={c.relation} onInput={setContact(i, 'relation')} />
              <button
                type="button"
                class="secondary"
                onClick={() => {
                  changed();
                  setContacts(contacts.filter((_, j) => j !== i));
                  setAdded(null);
                  setRemoved(removed + 1);
                }}
              >
                {t('emergency.removeContact', { n: i + 1 })}
              </button>
            </div>
          ))}
          <button
            type="button"
            class="secondary"
            ref={addButton}
            onClick={() => {
              changed();
              setAdded(contacts.length);
              setContacts([...contacts, { name: '', phone: '', relation: '' }]);
            }}
          >
            {t('emergency.addContact')}
          </button>
        </fieldset>
        <TextArea label={t('emergency.directives')} value={directives} onInput={setDirectives} />
        <button type="submit" disabled={busy}>
          {busy ? t('common.wait') : t('common.save')}
        </button>
        {/* Beside « Enregistrer », at the bottom of a long form: in sight where it was pressed. */}
        {notice && <Notice focus="lost">{notice}</Notice>}
        <ErrorBox result={failure} focus="lost" />
      </Form>
    </section>
  );
}
