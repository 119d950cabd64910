// What the user typed survives a trip back to the login screen (sessionStorage, this tab only).
// Passwords, codes and tokens are never kept, nor an INS (the national health identifier: a
// shared computer keeps the tab, and an activation or a sign-in given up would leave it
// there): a sign-in identifier is kept only when it is an e-mail address.
const PREFIX = 'dmp.draft.';
const SECRET = /password|token|^(code|activationCode|ins)$/i;

function kept([key, value]) {
  if (SECRET.test(key)) return false;
  return key !== 'identifier' || String(value).includes('@');
}

export function saveDraft(name, values) {
  const entries = Object.fromEntries(Object.entries(values).filter(kept));
  try {
    sessionStorage.setItem(PREFIX + name, JSON.stringify(entries));
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
