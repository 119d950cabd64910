// A session's browser and system, read from the user agent it was opened with, so the list of
// open sessions says « Chrome sur Android » rather than a 150-character string. Names only
// (proper nouns, the same in every language); the wording is the catalogue's.
import { t } from '../i18n/index.js';

// First match wins: Chromium-based browsers also say "Chrome/", and nearly all say "Safari/".
const BROWSERS = [
  ['Edge', /\bEdg(?:e|A|iOS)?\//],
  ['Opera', /\bOPR\/|\bOPT\/|\bOpera\b/],
  ['Samsung Internet', /\bSamsungBrowser\//],
  ['Firefox', /\bFirefox\/|\bFxiOS\//],
  ['Chrome', /Chrome\/|\bCriOS\//], // HeadlessChrome/ too
  ['Internet Explorer', /\bMSIE |\bTrident\//],
];

// An iPhone's or iPad's agent also says "like Mac OS X", Android's also says "Linux".
const SYSTEMS = [
  ['iPhone', /\biPhone\b/],
  ['iPad', /\biPad\b/],
  ['iPod', /\biPod\b/],
  ['Android', /\bAndroid\b/],
  ['Windows', /\bWindows\b/],
  ['ChromeOS', /\bCrOS\b/],
  ['macOS', /\bMacintosh\b|\bMac OS X\b/],
  ['Linux', /\bLinux\b|\bX11\b/],
];

function first(table, agent) {
  return table.find(([, pattern]) => pattern.test(agent))?.[0] ?? null;
}

// Safari says "Version/… Safari/"; an app's web view on iOS says neither, and stays unknown.
function browserOf(agent) {
  const known = first(BROWSERS, agent);
  if (known) return known;
  return /\bVersion\//.test(agent) && /\bSafari\//.test(agent) ? 'Safari' : null;
}

// { browser, os }: each a name, or null when the agent does not say (or says something odd).
export function parseUserAgent(agent) {
  const text = typeof agent === 'string' ? agent : '';
  return { browser: browserOf(text), os: first(SYSTEMS, text) };
}

// « Chrome sur Android », « Firefox », « Navigateur inconnu sur Windows », « Navigateur inconnu ».
export function describeUserAgent(agent, word = t) {
  const { browser, os } = parseUserAgent(agent);
  if (browser && os) return word('security.browserOn', { browser, os });
  if (browser) return browser;
  if (os) return word('security.unknownBrowserOn', { os });
  return word('security.unknownBrowser');
}
