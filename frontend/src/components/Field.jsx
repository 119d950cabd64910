import { useId } from 'preact/hooks';

// A labelled input; every input on the page has a visible label and, if needed, a hint.
export function Field({ label, hint, value, onInput, type = 'text', ...rest }) {
  const id = useId();
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

export function TextArea({ label, value, onInput, ...rest }) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <textarea id={id} value={value} onInput={(e) => onInput(e.currentTarget.value)} {...rest} />
    </div>
  );
}
