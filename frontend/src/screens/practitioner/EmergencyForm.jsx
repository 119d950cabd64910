import { useState } from 'preact/hooks';
import { t } from '../../i18n/index.js';
import { runMutation } from '../../gql/hooks.js';
import { TextArea } from '../../components/Field.jsx';
import { ErrorBox } from '../../components/Status.jsx';
import { useFocusOnAppear } from '../../lib/focus.js';
import { useKept } from '../../lib/kept.js';
import { useSending } from '../../lib/sending.js';
import { BREAK_GLASS, REGULATOR } from './documents.js';
import { Form } from '../../components/Form.jsx';

// Break-glass, or the SAMU regulator's access, with a justification: for the whole record when it
// was refused, or (`more`) for the sections a grant does not cover.
export function EmergencyForm({ ins, regulator, more, onOpened }) {
  const [reason, setReason] = useKept('pro.reason', '');
  const [failure, setFailure] = useState(null);
  const [busy, send] = useSending(); // one opening, one notice to the patient
  // The form's own refusal: its button was disabled meanwhile, the keyboard goes to it, at each try.
  const refused = useFocusOnAppear(failure?.code === 'FORBIDDEN', failure);
  const title = regulator ? (more ? 'pro.regulatorMoreTitle' : 'pro.regulatorTitle') : more ? 'pro.breakGlassMoreTitle' : 'pro.breakGlassTitle';

  const submit = async (event) => {
    event.preventDefault();
    const result = await send(() => {
      setFailure(null);
      return runMutation(regulator ? REGULATOR : BREAK_GLASS, { ins, reason: reason.trim() });
    });
    if (!result) return; // sent already
    if (result.code) return setFailure(result);
    setReason('');
    onOpened();
  };

  return (
    <Form onSubmit={submit} class="card" aria-label={t(title)}>
      <h3>{t(title)}</h3>
      <p>{more ? t('pro.emergencyMoreExplain') : t('pro.breakGlassExplain')}</p>
      {failure?.code === 'FORBIDDEN' ? (
        // Said as the emergency access's own refusal, not as the read's "no access" again; read
        // as it takes the focus, it is no live region too (lib/focus.js, useSaid).
        <p class="error" ref={refused} tabIndex={-1}>
          {t('pro.emergencyRefused')}
        </p>
      ) : (
        <ErrorBox result={failure} focus />
      )}
      <TextArea label={t('pro.reason')} value={reason} onInput={setReason} required minLength={10} />
      <button type="submit" class="danger" disabled={busy}>
        {busy ? t('common.wait') : regulator ? t('pro.regulatorSubmit') : t('pro.breakGlassSubmit')}
      </button>
    </Form>
  );
}
