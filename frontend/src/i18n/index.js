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

export function translate(lang, key, params) {
  const text = catalogues[lang]?.[key] ?? catalogues.fr[key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (match, name) => (name in params ? String(params[name]) : match));
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
