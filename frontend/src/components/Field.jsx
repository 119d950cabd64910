import { useId } from 'preact/hooks';
import { useFocusOnAppear } from '../lib/focus.js';
import { t } from '../i18n/index.js';

// A labelled input; every input on the page has a visible label and, if needed, a hint.
// focus: the keyboard goes to it when it appears (a field the person just asked for).
export function Field({ label, hint, value, onInput, type = 'text', focus = false, ...rest }) {
  const id = useId();
  const input = useFocusOnAppear(focus);
  const hintId = hint ? `${id}-hint` : undefined;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {hint && (
        <p class="hint" id={hintId}>
          {hint}
        </p>
      )}
      <input
        ref={input}
        id={id}
        type={type}
        value={value}
        onInput={(e) => onInput(e.currentTarget.value)}
        aria-describedby={hintId}
        {...rest}
      />
    </div>
  );
}

// The 6-digit code sent by e-mail or SMS, asked for the same way on every screen.
export function CodeField({ value, onInput, focus = false }) {
  return (
    <Field
      focus={focus}
      label={t('login.code')}
      hint={t('login.codeHint')}
      value={value}
      onInput={onInput}
      inputMode="numeric"
      autocomplete="one-time-code"
      maxLength={6}
      required
    />
  );
}

export function SelectField({ label, value, onChange, options, ...rest }) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.currentTarget.value)} {...rest}>
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </div>
  );
}

// focus: as Field's (a comment the person just asked to write).
export function TextArea({ label, value, onInput, focus = false, ...rest }) {
  const id = useId();
  const area = useFocusOnAppear(focus);
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <textarea ref={area} id={id} value={value} onInput={(e) => onInput(e.currentTarget.value)} {...rest} />
    </div>
  );
}
