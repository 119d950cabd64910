import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import { formProblems, problemOf } from '../lib/validation.js';

// What the form found wrong, by field id: read by each field to say it beside itself.
const Problems = createContext({});

// Every form of the page: checked by the page (lib/validation.js), never by the browser, whose
// bubbles speak the browser's language. On submit, each field with a problem says it (linked by
// aria-describedby, aria-invalid) and the keyboard goes to the first one; `onSubmit` runs only
// when none has. A field's problem goes as soon as it is typed in; a date field is checked
// when left, so a filter (never submitted) says a day it cannot read.
export function Form({ onSubmit, onInput, formRef, children, ...rest }) {
  const [problems, setProblems] = useState({});
  const [round, setRound] = useState(0);
  const own = useRef(null);
  const first = useRef(null);

  const setForm = (element) => {
    own.current = element;
    if (formRef) formRef.current = element;
  };

  const submit = (event) => {
    event.preventDefault();
    const found = formProblems(own.current);
    setProblems(Object.fromEntries(found.filter(([field]) => field.id).map(([field, problem]) => [field.id, problem])));
    if (found.length) {
      first.current = found[0][0];
      setRound((r) => r + 1);
      return;
    }
    onSubmit?.(event);
  };

  // Once the problems are on the page (so the field is described by its own), the keyboard goes there.
  useEffect(() => {
    if (round) first.current?.focus();
  }, [round]);

  const forget = (field) =>
    setProblems((current) => {
      if (!field?.id || !(field.id in current)) return current;
      const { [field.id]: _gone, ...rest } = current;
      return rest;
    });

  const input = (event) => {
    forget(event.target);
    onInput?.(event);
  };

  // A date field left for anything but a button: a filter has no other time to say it. Not for a
  // button (« Ajouter »): the message would push it down under the pointer between the press
  // and the release, and the click would be lost; the submit checks the field anyway.
  const left = (event) => {
    const field = event.target;
    if (field?.dataset?.kind !== 'date' || !field.id || event.relatedTarget?.tagName === 'BUTTON') return;
    const problem = problemOf(field);
    if (problem) setProblems((current) => ({ ...current, [field.id]: problem }));
    else forget(field);
  };

  return (
    <Problems.Provider value={problems}>
      <form ref={setForm} noValidate onSubmit={submit} onInput={input} onBlurCapture={left} {...rest}>
        {children}
      </form>
    </Problems.Provider>
  );
}

// The problem the form found with the field `id`, if any.
export function useProblem(id) {
  return useContext(Problems)[id] ?? null;
}
