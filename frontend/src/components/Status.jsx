import { useEffect, useRef } from 'preact/hooks';
import { t, word } from '../i18n/index.js';
import { errorDetail, errorMessageKey } from '../lib/errors.js';

export function Loading() {
  return (
    <p class="loading" role="status">
      {t('common.loading')}
    </p>
  );
}

export function Empty({ children }) {
  return <p class="empty">{children}</p>;
}

// Explains a failed request by its code; the server's text only for BAD_USER_INPUT.
// focus: the keyboard goes to it when it appears (a form's own refusal, said beside the form).
export function ErrorBox({ result, code, focus = false }) {
  const key = errorMessageKey(code ?? result?.code);
  const box = useRef(null);
  useEffect(() => {
    if (focus && key) box.current?.focus();
  }, [focus, key, result]);
  if (!key) return null;
  const detail = errorDetail(result);
  return (
    <div class="error" role="alert" ref={box} tabIndex={focus ? -1 : undefined}>
      <p>{t(key)}</p>
      {detail && <p>{detail}</p>}
    </div>
  );
}

// `children` may be a message kept by said(): it is worded in the language of the moment.
export function Notice({ children }) {
  return (
    <p class="notice" role="status">
      {word(children)}
    </p>
  );
}
