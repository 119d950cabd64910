import { useState } from 'preact/hooks';
import { t } from '../../i18n/index.js';
import { loadDraft, saveDraft } from '../../lib/draft.js';
import { Link } from '../../router.jsx';
import { ContactForm } from './ContactForm.jsx';
import { CHANGE_EMAIL, CHANGE_PHONE, CONFIRM_EMAIL, CONFIRM_PHONE } from './documents.js';

const EMAIL = {
  heading: 'contacts.email',
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
  label: 'contacts.newPhone',
  hint: 'contacts.phoneHint',
  send: 'contacts.sendPhone',
  done: 'contacts.phoneChanged',
  change: CHANGE_PHONE,
  answer: 'changePhone',
  confirm: CONFIRM_PHONE,
  input: { type: 'tel', autocomplete: 'tel', inputMode: 'tel', maxLength: 32 },
};

// The sign-in screen after an expired session offers the identifier typed last: the new
// address, when that was an e-mail address.
function emailChanged(address) {
  if (loadDraft('login')?.identifier?.includes('@')) saveDraft('login', { identifier: address });
}

export function Contacts() {
  // The form of the latest action: the other one's notice or error is about an earlier one.
  const [active, setActive] = useState(null);
  return (
    <section>
      <h1>{t('contacts.title')}</h1>
      <p>{t('contacts.intro')}</p>
      <ContactForm kind={EMAIL} onChanged={emailChanged} onStart={() => setActive('email')} current={active === 'email'} />
      <ContactForm kind={PHONE} onStart={() => setActive('phone')} current={active === 'phone'} />
      <p>
        <Link href="/securite">{t('contacts.back')}</Link>
      </p>
    </section>
  );
}
