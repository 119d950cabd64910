import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clearDraft, loadDraft, saveDraft } from './draft.js';

// The tab's sessionStorage, as the browser gives it.
function memoryStorage() {
  const items = new Map();
  return {
    getItem: (key) => (items.has(key) ? items.get(key) : null),
    setItem: (key, value) => items.set(key, String(value)),
    removeItem: (key) => items.delete(key),
    dump: () => [...items.values()].join('\n'),
  };
}

describe('drafts kept in the tab', () => {
  beforeEach(() => {
    globalThis.sessionStorage = memoryStorage();
  });
  afterEach(() => {
    delete globalThis.sessionStorage;
  });

  it('keep what was typed, but no password, code or token', () => {
    saveDraft('login', { identifier: 'a@x.fr', password: 'secret', code: '123456', attemptToken: 't' });
    expect(loadDraft('login')).toEqual({ identifier: 'a@x.fr' });
    clearDraft('login');
    expect(loadDraft('login')).toBeNull();
  });

  it('never keep an INS, the national health identifier (a shared computer keeps the tab)', () => {
    saveDraft('activate', { ins: '1 85 06 75 123 456 78', email: 'a@x.fr', phone: '', codeChannel: 'EMAIL' });
    expect(loadDraft('activate')).toEqual({ email: 'a@x.fr', phone: '', codeChannel: 'EMAIL' });
    expect(globalThis.sessionStorage.dump()).not.toContain('123 456');
  });

  it('keep a sign-in identifier only when it is an e-mail address, never an INS or RPPS number', () => {
    saveDraft('login', { identifier: '1 85 06 75 123 456 78' });
    expect(loadDraft('login')).toEqual({});
    saveDraft('login', { identifier: '10003456789' });
    expect(loadDraft('login')).toEqual({});
    expect(globalThis.sessionStorage.dump()).not.toMatch(/123 456|10003456789/);
    saveDraft('login', { identifier: 'a@x.fr' });
    expect(loadDraft('login')).toEqual({ identifier: 'a@x.fr' });
  });
});
