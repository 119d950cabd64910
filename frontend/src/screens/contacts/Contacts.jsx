import { useState } from 'preact/hooks';
import { t } from '../../i18n/index.js';
import { useQuery } from '../../gql/hooks.js';
import { ErrorBox, Loading } from '../../components/Status.jsx';
import { loadDraft, saveDraft } from '../../lib/draft.js';
import { formatPhone } from '../../lib/phone.js';
import { Link } from '../../router.jsx';
import { ContactForm } from './ContactForm.jsx';
import { CHANGE_EMAIL, CHANGE_PHONE, CONFIRM_EMAIL, CONFIRM_PHONE, MY_CONTACTS } from './documents.js';

const EMAIL = {
  heading: 'contacts.email',
  field: 'email',
  current: 'contacts.currentEmail',
  none: 'contacts.noEmail',
  label: 'contacts.newEmail',
  hint: 'contacts.emailHint',
  send: 'contacts.sendEmail',
  done: 'contacts.emailChanged',
  change: CHANGE_EMAIL,
  answer: 'changeEmail',
  confirm: CONFIRM_EMAIL,
  input: { type: 'email', autocomplete: 'email', maxLength: 254 },
};

const PHONE = {
  heading: 'contacts.phone',
  field: 'phone',
  current: 'contacts.currentPhone',
  none: 'contacts.noPhone',
  label: 'contacts.newPhone',
  hint: 'contacts.phoneHint',
  send: 'contacts.sendPhone',
  done: 'contacts.phoneChanged',
  change: CHANGE_PHONE,
  answer: 'changePhone',
  confirm: CONFIRM_PHONE,
  input: { type: 'tel', autocomplete: 'tel', inputMode: 'tel', maxLength: 32 },
  shown: formatPhone, // « 06 12 34 56 78 », however it was typed
};

// The sign-in screen after an expired session offers the identifier typed last: the new
// address, when that was an e-mail address.
function emailChanged(address) {
  if (loadDraft('login')?.identifier?.includes('@')) saveDraft('login', { identifier: address });
}

export function Contacts() {
  // The form of the latest action: the other one's notice or error is about an earlier one.
  const [active, setActive] = useState(null);
  // The address and number as they are now, read again once a change is confirmed.
  const query = useQuery(MY_CONTACTS);
  if (query.fetching && !query.data) return <Loading />;
  const mine = query.data?.me;
  return (
    <section>
      <h1>{t('contacts.title')}</h1>
      <p>{t('contacts.intro')}</p>
      <ErrorBox result={query} />
      <ContactForm
        kind={EMAIL}
        now={mine?.email}
        known={!!mine}
        onChanged={(address) => {
          emailChanged(address);
          query.refetch();
        }}
        onStart={() => setActive('email')}
        current={active === 'email'}
      />
      <ContactForm kind={PHONE} now={mine?.phone} known={!!mine} onChanged={query.refetch} onStart={() => setActive('phone')} current={active === 'phone'} />
      <p>
        <Link href="/securite">{t('contacts.back')}</Link>
      </p>
    </section>
  );
}
