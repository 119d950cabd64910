// The page checks its forms itself (every form is noValidate): the browser's own bubbles speak
// the browser's language, not the page's. A problem is a message kept by said(), worded when
// shown beside its field. The constraints stay on the fields (required, minLength, maxLength,
// type="email"; `min`/`max` as ISO days on a date field): they are read from there.
import { said, t } from '../i18n/index.js';
import { readDay, showDay } from './dates.js';

// A field's own check beyond its attributes (two passwords that must match): element → check(value).
const ownChecks = new WeakMap();

export function setOwnCheck(element, check) {
  if (!element) return;
  if (check) ownChecks.set(element, check);
  else ownChecks.delete(element);
}

const SKIPPED = new Set(['hidden', 'submit', 'button', 'reset', 'image', 'checkbox', 'radio']);
// What the browser itself calls an e-mail address (HTML's "valid e-mail address"), read the same way.
const EMAIL = /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

// The problem with one field (input, select, textarea), or null. A date field is a text field
// marked data-kind="date" (components/Field.jsx DateField): dd/mm/yyyy in both languages.
export function problemOf(field) {
  if (!field || field.disabled || SKIPPED.has(field.type)) return null;
  const value = field.value ?? '';
  if (field.type === 'file') return field.required && !field.files?.length ? said('invalid.file') : null;
  // As the browser's `required`: spaces are a value (a password may hold them); the server trims names.
  if (!value) return field.required ? said('invalid.required') : null;
  if (field.dataset?.kind === 'date') {
    const day = readDay(value);
    if (!day) return said('invalid.date');
    const max = field.getAttribute?.('max');
    const min = field.getAttribute?.('min');
    if (max && day > max) return said('invalid.dateAfter', { day: max });
    if (min && day < min) return said('invalid.dateBefore', { day: min });
  }
  if (field.minLength > 0 && value.length < field.minLength) return said('invalid.tooShort', { min: field.minLength });
  if (field.maxLength > 0 && value.length > field.maxLength) return said('invalid.tooLong', { max: field.maxLength });
  if (field.type === 'email' && !EMAIL.test(value.trim())) return said('invalid.email');
  const own = ownChecks.get(field);
  return own ? own(value) ?? null : null;
}

// Every field of the form with a problem, in the order they are on the page: [[field, problem]].
export function formProblems(form) {
  const found = [];
  for (const field of form?.elements ?? []) {
    const problem = problemOf(field);
    if (problem) found.push([field, problem]);
  }
  return found;
}

// A problem in the page's language of the moment; a day it names (a date field's max) is
// written as the date fields ask for it.
export function wordProblem(problem) {
  const { day, ...params } = problem.params ?? {};
  return t(problem.said, day ? { ...params, day: showDay(day) } : params);
}
