import { t } from '../i18n/index.js';
import { Link } from '../router.jsx';

// Only an ACTIVE record can be written to (the server refuses the rest): instead of a screen's
// forms, its title and why.
export function RecordInactive({ title, status }) {
  return (
    <section>
      <h1>{title}</h1>
      <div class="card">
        <p>{status ? t(`inactive.${status}`) : t('record.none')}</p>
        <p>
          <Link href="/mon-compte">{t('inactive.manage')}</Link>
        </p>
      </div>
    </section>
  );
}
