import { describe, expect, it } from 'vitest';
import { currentFor } from './router.jsx';

describe('the current link', () => {
  it('is the page itself for any link', () => {
    expect(currentFor('/securite', '/securite')).toBe('page');
    expect(currentFor('/securite', '/securite', true)).toBe('page');
    expect(currentFor('/dossier', '/securite', true)).toBeUndefined();
  });

  it("is the menu's section on a page under it, not a link in the page", () => {
    expect(currentFor('/securite/coordonnees', '/securite', true)).toBe('true');
    // "Back to account security" on that page is not the current page.
    expect(currentFor('/securite/coordonnees', '/securite')).toBeUndefined();
    // A path that only starts with the same letters is not under it.
    expect(currentFor('/securite-bis', '/securite', true)).toBeUndefined();
  });
});
