import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { useFocusOnAppear } from '../lib/focus.js';
import { readDay, showDay } from '../lib/dates.js';
import { setOwnCheck, wordProblem } from '../lib/validation.js';
import { t } from '../i18n/index.js';
import { useProblem } from './Form.jsx';

// What a field says under its label: its hint, then what the form found wrong with it (Form.jsx),
// both linked to the field by aria-describedby.
function useDescription(id, hint) {
  const problem = useProblem(id);
  const hintId = hint ? `${id}-hint` : undefined;
  const problemId = problem ? `${id}-problem` : undefined;
  const shown = (
    <>
      {hint && (
        <p class="hint" id={hintId}>
          {hint}
        </p>
      )}
      {problem && (
        <p class="problem" id={problemId}>
          {wordProblem(problem)}
        </p>
      )}
    </>
  );
  const described = [hintId, problemId].filter(Boolean).join(' ') || undefined;
  return { shown, attributes: { 'aria-describedby': described, 'aria-invalid': problem ? 'true' : undefined } };
}

// A labelled input; every input on the page has a visible label and, if needed, a hint.
// focus: the keyboard goes to it when it appears (a field the person just asked for).
// check: the field's own check beyond its attributes, value → a problem (said()) or null.
export function Field({ label, hint, value, onInput, type = 'text', focus = false, check, ...rest }) {
  const id = useId();
  const input = useFocusOnAppear(focus);
  const { shown, attributes } = useDescription(id, hint);
  useEffect(() => setOwnCheck(input.current, check), [check]);
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {shown}
      <input ref={input} id={id} type={type} value={value} onInput={(e) => onInput(e.currentTarget.value)} {...attributes} {...rest} />
    </div>
  );
}

// A day, typed as dd/mm/yyyy whatever the browser's language (a native date field shows the
// browser's format, not the page's); the format is said in the hint, in the page's language.
// `value` and `onInput` are ISO days ("2024-03-05"), '' while the field holds no whole day;
// `min`/`max` are ISO days too, checked by the form (lib/validation.js).
export function DateField({ label, hint, value, onInput, ...rest }) {
  const id = useId();
  const [text, setText] = useState(() => showDay(value));
  const { shown, attributes } = useDescription(id, hint ? `${hint} ${t('date.hint')}` : t('date.hint'));
  // A value set from outside (a form emptied after it was sent) is shown; the typed text is kept
  // while it still says the same day (or no whole day yet).
  const typed = useRef(text);
  typed.current = text;
  useEffect(() => {
    if ((readDay(typed.current) ?? '') !== (value ?? '')) setText(showDay(value));
  }, [value]);
  const input = (next) => {
    setText(next);
    onInput(readDay(next) ?? '');
  };
  // Left with a whole day: shown the page's way (an ISO date typed or pasted becomes 05/03/2024).
  const leave = () => {
    const day = readDay(text);
    if (day && showDay(day) !== text) setText(showDay(day));
  };
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {shown}
      <input
        id={id}
        type="text"
        inputMode="numeric"
        autocomplete="off"
        data-kind="date"
        value={text}
        onInput={(e) => input(e.currentTarget.value)}
        onBlur={leave}
        {...attributes}
        {...rest}
      />
    </div>
  );
}

// A file to send; `onFile` gets the chosen file, or null. The browser's own file field shows its
// button and « no file » in the browser's language, not the page's: it is kept (the keyboard, the
// form's checks and screen readers use it) but hidden, and its button and the chosen file's name
// are shown in the page's language; a form emptied (reset) shows no file again.
export function FileField({ label, hint, onFile, ...rest }) {
  const id = useId();
  const input = useRef(null);
  const [name, setName] = useState(null);
  const { shown, attributes } = useDescription(id, hint);
  useEffect(() => {
    const form = input.current?.form;
    const emptied = () => setName(null);
    form?.addEventListener('reset', emptied);
    return () => form?.removeEventListener('reset', emptied);
  }, []);
  const chosen = (event) => {
    const file = event.currentTarget.files[0] ?? null;
    setName(file?.name ?? null);
    onFile(file);
  };
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {shown}
      <div class="file-pick">
        <input ref={input} id={id} type="file" onChange={chosen} {...attributes} {...rest} />
        {/* Shown only: the field is named by its label above, and says its file itself. */}
        <label for={id} class="file-button" aria-hidden="true">
          {t('file.choose')}
        </label>
        <span class="file-name" aria-hidden="true">
          {name ?? t('file.none')}
        </span>
      </div>
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
  const { shown, attributes } = useDescription(id, null);
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {shown}
      <select id={id} value={value} onChange={(e) => onChange(e.currentTarget.value)} {...attributes} {...rest}>
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
  const { shown, attributes } = useDescription(id, null);
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {shown}
      <textarea ref={area} id={id} value={value} onInput={(e) => onInput(e.currentTarget.value)} {...attributes} {...rest} />
    </div>
  );
}
