// Dates shown the French way (Intl, fr-FR) or the English way; values from the API are ISO strings.

// A bare ISO date ("2024-03-05") is a calendar day: read it as such, never shifted by a time zone.
export function parseDay(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso ?? '');
  if (!m) return null;
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
}

export function formatDate(iso, locale = 'fr-FR') {
  if (!iso) return '';
  const day = parseDay(iso);
  if (day) return new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: 'UTC' }).format(day);
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return new Intl.DateTimeFormat(locale, { dateStyle: 'long' }).format(d);
}

export function formatDateTime(iso, locale = 'fr-FR', timeZone) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(d);
}

// Remaining time as "mm:ss" (or "h:mm:ss"), never negative.
export function formatCountdown(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${pad(m)}:${pad(s)}`;
}

// Does an ISO date fall in [from, to] (both optional, inclusive, "YYYY-MM-DD")?
export function inPeriod(iso, from, to) {
  const day = (iso ?? '').slice(0, 10);
  if (!day) return false;
  if (from && day < from) return false;
  if (to && day > to) return false;
  return true;
}

// Today on the user's own calendar (YYYY-MM-DD): after local midnight in Paris it is still
// yesterday in UTC, which `toISOString` would give.
export function localToday(now = new Date()) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

// A day typed in a date field, as an ISO date ("YYYY-MM-DD"), or null if it is not one. The page
// asks for dd/mm/yyyy in both its languages (fr-FR and en-GB write days so); "/", ".", "-" or
// a space between the parts, one or two digits for the day and month, four for the year. An
// ISO date is read too (pasted, or typed by habit).
export function readDay(text) {
  const typed = (text ?? '').trim();
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(typed);
  const shown = /^(\d{1,2})[/.\- ](\d{1,2})[/.\- ](\d{4})$/.exec(typed);
  if (!iso && !shown) return null;
  const [year, month, day] = (iso ? [iso[1], iso[2], iso[3]] : [shown[3], shown[2], shown[1]]).map(Number);
  if (year < 1000) return null;
  const date = new Date(Date.UTC(year, month - 1, day));
  // 31/02 would roll over into March: not a day.
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  return date.toISOString().slice(0, 10);
}

// An ISO day as a date field shows it: dd/mm/yyyy.
export function showDay(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso ?? '');
  return m ? `${m[3]}/${m[2]}/${m[1]}` : '';
}
