import { describe, expect, it } from 'vitest';
import { onComingBack, shownStatus, statusMoved } from './comingBack.js';

// Just enough of the page: a document with its visibility, and a window.
function tab(visibilityState = 'visible') {
  const doc = Object.assign(new EventTarget(), { visibilityState });
  return { doc, win: new EventTarget() };
}

describe('coming back to the tab', () => {
  it('reads again when the tab is shown again or the window gets the focus back', async () => {
    const { doc, win } = tab();
    let reads = 0;
    onComingBack(() => reads++, { doc, win });
    doc.dispatchEvent(new Event('visibilitychange'));
    await Promise.resolve();
    win.dispatchEvent(new Event('focus'));
    await Promise.resolve();
    expect(reads).toBe(2);
  });

  it('does not read when the tab is hidden', () => {
    const { doc, win } = tab('hidden');
    let reads = 0;
    onComingBack(() => reads++, { doc, win });
    doc.dispatchEvent(new Event('visibilitychange'));
    expect(reads).toBe(0);
  });

  it('reads once while a read is still out, then again', async () => {
    const { doc, win } = tab();
    let reads = 0;
    let answer;
    onComingBack(() => {
      reads++;
      return new Promise((resolve) => (answer = resolve));
    }, { doc, win });
    doc.dispatchEvent(new Event('visibilitychange'));
    win.dispatchEvent(new Event('focus'));
    expect(reads).toBe(1);
    answer();
    await new Promise((resolve) => setTimeout(resolve));
    win.dispatchEvent(new Event('focus'));
    expect(reads).toBe(2);
  });

  it('stops listening once the screen is gone', () => {
    const { doc, win } = tab();
    let reads = 0;
    const stop = onComingBack(() => reads++, { doc, win });
    stop();
    doc.dispatchEvent(new Event('visibilitychange'));
    win.dispatchEvent(new Event('focus'));
    expect(reads).toBe(0);
  });
});

describe('the status read again', () => {
  const read = (status) => ({ data: { myRecordStatus: status ? { status } : null }, code: null });

  it('moved when it is not the one shown', () => {
    expect(statusMoved('ACTIVE', read('CLOSED'))).toBe(true);
    expect(statusMoved('ACTIVE', read('DELETED'))).toBe(true);
    expect(statusMoved('CLOSED', read('ACTIVE'))).toBe(true);
    expect(statusMoved(null, read('ACTIVE'))).toBe(true);
  });

  it('did not move when it is the one shown', () => {
    expect(statusMoved('ACTIVE', read('ACTIVE'))).toBe(false);
    expect(statusMoved(null, read(null))).toBe(false);
  });

  it('changes nothing when the read failed or nothing is shown yet', () => {
    expect(statusMoved('ACTIVE', { data: null, code: 'NETWORK' })).toBe(false);
    expect(statusMoved(undefined, read('CLOSED'))).toBe(false);
  });

  it('is taken from the screen’s data', () => {
    expect(shownStatus(null)).toBe(undefined);
    expect(shownStatus({ myRecordStatus: null })).toBe(null);
    expect(shownStatus({ myRecordStatus: { status: 'ACTIVE' } })).toBe('ACTIVE');
    expect(shownStatus({ state: { status: 'CLOSED' } }, 'state')).toBe('CLOSED');
  });
});
