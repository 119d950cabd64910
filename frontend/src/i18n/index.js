// The message catalogue: every user-facing text goes through t(key, params).
import { signal } from '../lib/signal.js';
import fr from './fr.js';
import en from './en.js';

export const catalogues = { fr, en };
export const LANGUAGES = ['fr', 'en'];
const STORAGE_KEY = 'dmp.lang';

function initialLanguage() {
  try {
    const saved = globalThis.localStorage?.getItem(STORAGE_KEY);
    if (saved && LANGUAGES.includes(saved)) return saved;
  } catch {
    // Storage may be disabled; French is the default.
  }
  return 'fr';
}

export const language = signal(initialLanguage());

export function setLanguage(lang) {
  if (!LANGUAGES.includes(lang)) return;
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, lang);
  } catch {
    // Not remembered, still switched.
  }
  if (globalThis.document) document.documentElement.lang = lang;
  language.set(lang);
}

// A placeholder `{n}` takes the value of `n`; a choice `{n:one|other}` takes the form that
// the count `n` asks for in the message's language (Intl.PluralRules: French words 0 and 1 as
// singular, English only 1): « {n} {n:événement|événements} ».
const PLACEHOLDER = /\{(\w+)(?::([^{}|]*)\|([^{}|]*))?\}/g;
const pluralRules = {};

export function plural(lang, count) {
  pluralRules[lang] ??= new Intl.PluralRules(lang);
  return pluralRules[lang].select(Number(count));
}

export function translate(lang, key, params) {
  const own = catalogues[lang]?.[key];
  const worded = own === undefined ? 'fr' : lang;
  const text = own ?? catalogues.fr[key] ?? key;
  if (!params) return text;
  return text.replace(PLACEHOLDER, (match, name, one, other) => {
    if (!(name in params)) return match;
    if (one === undefined) return String(params[name]);
    return plural(worded, params[name]) === 'one' ? one : other;
  });
}

// Whether the catalogues word this key (French is the reference).
export function has(key) {
  return key in catalogues.fr;
}

export function t(key, params) {
  return translate(language.get(), key, params);
}

// A message worded when it is shown, not when it is made: kept in a screen's state (a notice),
// it follows a change of language.
export function said(key, params) {
  return { said: key, params };
}

export function isSaid(value) {
  return typeof value?.said === 'string';
}

// The text of a message kept by said(), in the language of the moment; any other text as is.
export function word(message) {
  return isSaid(message) ? t(message.said, message.params) : message;
}

export function locale() {
  return language.get() === 'fr' ? 'fr-FR' : 'en-GB';
}

// Two names that read the same in the page's language, case and accents aside (« Assurance
// Maladie », « Assurance maladie »): one is not said beside the other.
export function readsAs(a, b) {
  return a.localeCompare(b, locale(), { sensitivity: 'base' }) === 0;
}
