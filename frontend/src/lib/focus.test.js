import { describe, expect, it } from 'vitest';
import { firstField, focusBack } from './focus.js';

// Just enough of the DOM for the focus rule: what has the focus, and what is still on the page.
function page() {
  const doc = { activeElement: null };
  doc.body = { ownerDocument: doc, isConnected: true };
  doc.activeElement = doc.body;
  const control = (connected = true) => ({
    ownerDocument: doc,
    isConnected: connected,
    focus() {
      doc.activeElement = this;
    },
  });
  return { doc, control };
}

describe('focus back', () => {
  it('returns the focus to the control that opened a step, if it is still there', () => {
    const { doc, control } = page();
    const opener = control();
    expect(focusBack(opener)).toBe(true);
    expect(doc.activeElement).toBe(opener);
  });

  it('leaves it alone when that control is gone or was the page body', () => {
    const { doc, control } = page();
    expect(focusBack(control(false))).toBe(false);
    expect(focusBack(doc.body)).toBe(false);
    expect(focusBack(null)).toBe(false);
    expect(doc.activeElement).toBe(doc.body);
  });

  it("finds a form's first field", () => {
    const input = { tag: 'input' };
    const form = { querySelector: (selector) => (selector.includes('input') ? input : null) };
    expect(firstField(form)).toBe(input);
    expect(firstField(null)).toBeNull();
  });
});
