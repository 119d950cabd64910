// What the user typed survives a trip back to the login screen (sessionStorage, this tab only).
// Passwords, codes and tokens are never kept, nor an INS (the national health identifier: a
// shared computer keeps the tab, and an activation given up would leave it there).
const PREFIX = 'dmp.draft.';
const SECRET = /password|token|^(code|activationCode|ins)$/i;

export function saveDraft(name, values) {
  const kept = Object.fromEntries(Object.entries(values).filter(([key]) => !SECRET.test(key)));
  try {
    sessionStorage.setItem(PREFIX + name, JSON.stringify(kept));
  } catch {
    // Nothing kept; the user types again.
  }
}

export function loadDraft(name) {
  try {
    return JSON.parse(sessionStorage.getItem(PREFIX + name) ?? 'null');
  } catch {
    return null;
  }
}

export function clearDraft(name) {
  try {
    sessionStorage.removeItem(PREFIX + name);
  } catch {
    // Ignored.
  }
}
