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

export function locale() {
  return language.get() === 'fr' ? 'fr-FR' : 'en-GB';
}
