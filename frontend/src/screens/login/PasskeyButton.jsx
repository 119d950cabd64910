import { useState } from 'preact/hooks';
import { t } from '../../i18n/index.js';
import { runMutation } from '../../gql/hooks.js';
import { usePasskey } from '../../lib/passkeys.js';
import { BEGIN_PASSKEY_LOGIN, FINISH_PASSKEY_LOGIN } from './documents.js';

// Log in with a passkey: as the second factor (attemptToken) or alone (passwordless).
export function PasskeyButton({ attemptToken = null, label, onDone, onError }) {
  const [busy, setBusy] = useState(false);
  const go = async () => {
    setBusy(true);
    try {
      const begun = await runMutation(BEGIN_PASSKEY_LOGIN, { attemptToken });
      if (begun.code) return onError(begun);
      let credentialJson;
      try {
        credentialJson = await usePasskey(begun.data.beginPasskeyLogin.optionsJson);
      } catch {
        return onError({ code: null, passkeyCancelled: true });
      }
      const done = await runMutation(FINISH_PASSKEY_LOGIN, { credentialJson, attemptToken });
      if (done.code) return onError(done);
      onDone(done.data.finishPasskeyLogin.me);
    } finally {
      setBusy(false);
    }
  };
  return (
    <button type="button" class="secondary" onClick={go} disabled={busy}>
      {busy ? t('common.wait') : label}
    </button>
  );
}
