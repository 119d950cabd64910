import { useEffect, useState } from 'preact/hooks';
import { locale, t } from '../i18n/index.js';
import { formatCountdown, formatDateTime } from '../lib/dates.js';

// The emergency access banner with a live countdown; tells the parent when time is up.
export function EmergencyBanner({ mode, expiresAt, onExpired }) {
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
    <div class="banner" role="alert">
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
    </div>
  );
}
