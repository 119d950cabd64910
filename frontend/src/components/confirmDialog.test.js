import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ask, dismiss } from './ConfirmDialog.jsx';

const SRC = fileURLToPath(new URL('..', import.meta.url));

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.jsx?$/.test(entry.name) && !entry.name.endsWith('.test.js') ? [path] : [];
  });
}

// A call of the browser's own dialogs: confirm(…), window.alert (…), globalThis.prompt(…)…
// (not a method of ours such as onConfirm(), nor a word in a text).
const NATIVE = /(?<![\w$])(?:(?:window|globalThis|self)\s*\.\s*)?(?:confirm|alert|prompt)\s*\(/g;

describe('confirmations', () => {
  it('are asked in the page, never with the browser’s window.confirm, alert or prompt', () => {
    const files = sources(SRC);
    expect(files.length).toBeGreaterThan(20);
    const found = files.flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, i) => (line.match(NATIVE) ? [`${relative(SRC, file)}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(found).toEqual([]);
  });

  it('recognise a native call however it is written', () => {
    const calls = ['confirm(t(key))', '!confirm (x)', 'window.confirm(x)', 'globalThis.alert(1)', '() => prompt("?")'];
    for (const call of calls) expect([call, new RegExp(NATIVE.source).test(call)]).toEqual([call, true]);
    for (const other of ['onConfirm(x)', 'const confirmed = 1', 'askConfirm()', "t('record.deleteConfirm')"]) {
      expect([other, new RegExp(NATIVE.source).test(other)]).toEqual([other, false]);
    }
  });

  it('cancel a question left open when the screen changes or another is asked', async () => {
    const first = ask({ message: 'one?', confirmLabel: 'Yes' });
    const second = ask({ message: 'two?', confirmLabel: 'Yes' });
    expect(await first).toBe(false);
    dismiss();
    expect(await second).toBe(false);
  });
});
