import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { said, t } from '../../i18n/index.js';
import { runMutation } from '../../gql/hooks.js';
import { CodeField, Field } from '../../components/Field.jsx';
import { FreshFactor } from '../../components/FreshFactor.jsx';
import { ErrorBox, Notice } from '../../components/Status.jsx';
import { firstField, focusIfLost } from '../../lib/focus.js';
import { useSending } from '../../lib/sending.js';
import { Form } from '../../components/Form.jsx';

// One contact (e-mail or phone): the new value, then the code sent to it. Both steps need a
// second factor from the last minutes; when the server asks for one, the step waits for it.
// onStart: this form starts an action; `current`: its notice and error are still the latest.
// `now`: the address or number as it is (null: none), said when `known` (it could be read),
// as `kind.shown` words it if it says how.
export function ContactForm({ kind, now, known, onChanged, onStart, current }) {
  const headingId = useId();
  const [value, setValue] = useState('');
  const [sentTo, setSentTo] = useState(null);
  const [code, setCode] = useState('');
  const [failure, setFailure] = useState(null);
  const [notice, setNotice] = useState(null);
  const [waiting, setWaiting] = useState(null); // the step to run again once a code confirms it is them
  const [busy, send] = useSending();
  // A step cancelled ("Cancel" on the code, or on the check that it is them): its button is
  // gone, and the keyboard goes back to the form's first field, as it is then.
  const form = useRef(null);
  const [back, setBack] = useState(0);
  useEffect(() => {
    if (back) focusIfLost(firstField(form.current));
  }, [back]);

  const step = async (work) => {
    onStart?.();
    setFailure(null);
    setNotice(null);
    const result = await work();
    if (result.code === 'FORBIDDEN') return setWaiting(() => work);
    if (result.code) return setFailure(result);
    return result;
  };

  const ask = () =>
    step(async () => {
      const result = await runMutation(kind.change, { value: value.trim() });
      if (!result.code) {
        setCode('');
        setSentTo(result.data[kind.answer].sentTo);
      }
      return result;
    });

  const confirm = () =>
    step(async () => {
      const result = await runMutation(kind.confirm, { code: code.trim() });
      if (!result.code) {
        const address = value.trim();
        setSentTo(null);
        setCode('');
        setValue('');
        setNotice(said(kind.done));
        onChanged?.(address);
      }
      return result;
    });

  const restart = () => {
    onStart?.();
    setFailure(null);
    setNotice(null);
    setSentTo(null);
    setCode('');
    setBack((n) => n + 1);
  };

  return (
    <>
      <h2 id={headingId}>{t(kind.heading)}</h2>
      {waiting ? (
        <FreshFactor
          onCancel={() => {
            setWaiting(null);
            setBack((n) => n + 1);
          }}
          onConfirmed={async () => {
            const work = waiting;
            setWaiting(null);
            await send(() => step(work));
          }}
        />
      ) : null}
      <Form
        formRef={form}
        aria-labelledby={headingId}
        onSubmit={(event) => {
          event.preventDefault();
          send(sentTo ? confirm : ask);
        }}
      >
        {known && <p class="current">{now ? t(kind.current, { value: kind.shown ? kind.shown(now) : now }) : t(kind.none)}</p>}
        {current && notice && <Notice focus="lost">{notice}</Notice>}
        {current && <ErrorBox result={failure} focus="lost" />}
        {sentTo ? (
          <>
            <Notice>{t('login.codeSent', { to: sentTo })}</Notice>
            <CodeField value={code} onInput={setCode} focus />
            <div class="actions">
              <button type="submit" disabled={busy || !!waiting}>
                {busy ? t('common.wait') : t('login.confirm')}
              </button>
              <button type="button" class="secondary" onClick={restart}>
                {t('common.cancel')}
              </button>
            </div>
          </>
        ) : (
          <>
            <Field label={t(kind.label)} hint={t(kind.hint)} value={value} onInput={setValue} required {...kind.input} />
            <button type="submit" disabled={busy || !!waiting}>
              {busy ? t('common.wait') : t(kind.send)}
            </button>
          </>
        )}
      </Form>
    </>
  );
}
