import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { said, t, word } from '../i18n/index.js';
import { signal } from '../lib/signal.js';
import { focusBack } from '../lib/focus.js';

// The question the page asks before an action that cannot simply be taken back (a deletion, a
// block, closing the record), in a dialog of its own rather than the browser's (window.confirm):
// worded and styled as the page, read by screen readers as a modal dialog with its title and
// message. One at a time (the dialog is modal): <ConfirmHost /> in the shell shows it.
const asking = signal(null);
let asked = 0;

// const ok = await ask({ message, confirmLabel, danger }): true once confirmed, false if cancelled
// (« Annuler », Escape, or the screen left). message, confirmLabel and title are texts or said()
// (worded when shown); danger: the confirming button is red (a destructive action). A cancel
// changes nothing: the caller acts only on true. Either way the keyboard goes back to the control
// that asked (the button pressed), before the caller goes on.
export function ask({ message, confirmLabel, danger = false, title = said('confirm.title') }) {
  asking.get()?.answer(false);
  return new Promise((resolve) => {
    const opener = globalThis.document?.activeElement ?? null;
    let answered = false;
    const question = {
      id: ++asked,
      message,
      confirmLabel,
      danger,
      title,
      // `back`: give the focus back to the opener (not when the screen is left).
      answer(ok, back = false) {
        if (answered) return;
        answered = true;
        if (back) focusBack(opener);
        if (asking.get() === question) asking.set(null);
        resolve(ok);
      },
    };
    asking.set(question);
  });
}

// The screen changes (a link, the browser's Back): a question still open is cancelled.
export function dismiss() {
  asking.get()?.answer(false);
}

export function ConfirmHost() {
  const [question, setQuestion] = useState(asking.get());
  useEffect(() => asking.subscribe(setQuestion), []);
  return question ? <ConfirmDialog key={question.id} question={question} /> : null;
}

// Opened with showModal(): the browser keeps the keyboard in it and the page behind inert.
// The keyboard starts on « Annuler », the safe answer.
function ConfirmDialog({ question }) {
  const dialog = useRef(null);
  const cancel = useRef(null);
  useLayoutEffect(() => {
    const box = dialog.current;
    if (!box.open) box.showModal();
    cancel.current.focus();
    return () => box.open && box.close();
  }, []);
  // Closed first (the page is no longer inert), so the opener can take the focus back.
  const finish = (ok) => {
    if (dialog.current?.open) dialog.current.close();
    question.answer(ok, true);
  };
  // onClose: Escape closed it, a cancel (after a button, already answered).
  return (
    <dialog
      ref={dialog}
      class="confirm"
      aria-labelledby="confirm-title"
      aria-describedby="confirm-message"
      onClose={() => finish(false)}
    >
      <h2 id="confirm-title">{word(question.title)}</h2>
      <p id="confirm-message">{word(question.message)}</p>
      <div class="actions">
        <button type="button" class="secondary" ref={cancel} onClick={() => finish(false)}>
          {t('common.cancel')}
        </button>
        <button type="button" class={question.danger ? 'danger' : undefined} onClick={() => finish(true)}>
          {word(question.confirmLabel)}
        </button>
      </div>
    </dialog>
  );
}
