import { describe, expect, it } from 'vitest';
import { appeared, firstField, focusBack } from './focus.js';

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

describe('a message that appears', () => {
  const shown = () => {
    const { doc, control } = page();
    const message = control();
    message.scrolled = [];
    message.scrollIntoView = (options) => message.scrolled.push(options);
    return { doc, control, message };
  };

  it('takes the focus the button had, once that button is gone', () => {
    const { doc, message } = shown();
    appeared(message, 'lost', true);
    expect(doc.activeElement).toBe(message);
    expect(message.scrolled).toEqual([]); // focused, the browser brings it into view
  });

  it('said beside a button still in use, comes into view by the least scroll, the focus left there', () => {
    const { doc, control, message } = shown();
    const button = control();
    button.focus();
    appeared(message, 'lost', true);
    expect(doc.activeElement).toBe(button);
    expect(message.scrolled).toEqual([{ block: 'nearest', inline: 'nearest' }]);
  });

  it('said at the top of the screen, moves nothing while the focus is in use', () => {
    const { doc, control, message } = shown();
    const button = control();
    button.focus();
    appeared(message, 'lost');
    appeared(message, false);
    expect(doc.activeElement).toBe(button);
    expect(message.scrolled).toEqual([]);
    appeared(null, 'lost', true); // not on the page: nothing to do
  });
});
