import { useEffect, useState } from 'preact/hooks';
import { locale, t } from '../i18n/index.js';
import { formatCountdown, formatDateTime } from '../lib/dates.js';
import { useSaid } from '../lib/focus.js';
import { LiveText } from './Status.jsx';

// The emergency access banner with a live countdown; tells the parent when time is up.
// Said once when it appears, into its role="alert", the keyboard left where it is (the record's
// heading); worded anew, not said again, when the page's language changes (lib/focus.js, useSaid).
// An access of its own (another mode or end) is said in its turn.
export function EmergencyBanner({ mode, expiresAt, onExpired }) {
  const [box, live] = useSaid(false, `${mode} ${expiresAt}`);
  const end = new Date(expiresAt).getTime();
  const [left, setLeft] = useState(end - Date.now());
  useEffect(() => {
    const timer = setInterval(() => {
      const remaining = end - Date.now();
      setLeft(remaining);
      if (remaining <= 0) {
        clearInterval(timer);
        onExpired?.();
      }
    }, 1000);
    return () => clearInterval(timer);
  }, [end]);
  return (
    <div class="banner" ref={box}>
      <LiveText as="div" role="alert" live={live}>
        <p>
          <strong>{t(`mode.${mode}`)}</strong>
        </p>
        <p>{t('emergencyAccess.banner')}</p>
        <p>
          {t('emergencyAccess.remaining')}{' '}
          <span role="timer" aria-live="off">
            {formatCountdown(left)}
          </span>{' '}
          ({t('emergencyAccess.until', { time: formatDateTime(expiresAt, locale()) })})
        </p>
      </LiveText>
    </div>
  );
}
