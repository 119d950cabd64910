import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { setLanguage } from '../i18n/index.js';
import { readDay, showDay } from './dates.js';
import { formProblems, problemOf, setOwnCheck, wordProblem } from './validation.js';

// A field as the form reads it (the DOM's defaults: minLength/maxLength -1 when not set).
const field = (props = {}, data = {}) => ({
  type: 'text', value: '', required: false, disabled: false, minLength: -1, maxLength: -1,
  dataset: data, getAttribute: (name) => props[name] ?? null, ...props,
});

describe('the page checks its forms itself', () => {
  afterEach(() => setLanguage('fr'));

  it('says what is wrong in the page\'s language, never the browser\'s', () => {
    const missing = problemOf(field({ required: true, value: '' }));
    expect(wordProblem(missing)).toBe('Ce champ est à remplir.');
    setLanguage('en');
    expect(wordProblem(missing)).toBe('This field is required.');
    expect(wordProblem(problemOf(field({ value: 'abc', minLength: 12 })))).toBe('At least 12 characters.');
    setLanguage('fr');
    expect(wordProblem(problemOf(field({ value: 'abc', minLength: 12 })))).toBe('Au moins 12 caractères.');
    expect(wordProblem(problemOf(field({ type: 'email', value: 'lea@' })))).toBe('Une adresse e-mail de la forme nom@exemple.fr.');
    expect(wordProblem(problemOf(field({ type: 'file', required: true, files: [] })))).toBe('Choisissez un fichier.');
  });

  it('leaves alone what the browser would accept, and what is not asked', () => {
    expect(problemOf(field({ value: '' }))).toBeNull();
    expect(problemOf(field({ required: true, value: '  ' }))).toBeNull();
    expect(problemOf(field({ type: 'email', value: 'lea@example.fr' }))).toBeNull();
    expect(problemOf(field({ type: 'checkbox', required: true }))).toBeNull();
    expect(problemOf(field({ required: true, disabled: true }))).toBeNull();
    expect(problemOf(field({ value: 'x'.repeat(12), minLength: 12, maxLength: 12 }))).toBeNull();
    expect(problemOf(field({ type: 'file', required: true, files: [{}] }))).toBeNull();
  });

  it('reads a date field as dd/mm/yyyy and names its latest day the same way', () => {
    const date = (value, props = {}) => field({ value, ...props }, { kind: 'date' });
    expect(wordProblem(problemOf(date('31/02/2024')))).toBe('Une date au format jj/mm/aaaa, par exemple 05/03/2024.');
    expect(wordProblem(problemOf(date('03/05/24')))).toMatch(/jj\/mm\/aaaa/);
    expect(problemOf(date('05/03/2024', { max: '2024-03-05' }))).toBeNull();
    expect(wordProblem(problemOf(date('06/03/2024', { max: '2024-03-05' })))).toBe('La date ne peut pas être après le 05/03/2024.');
    setLanguage('en');
    expect(wordProblem(problemOf(date('2024-03-06', { max: '2024-03-05' })))).toBe('The date cannot be after 05/03/2024.');
    expect(wordProblem(problemOf(date('1/1/1900', { min: '1900-01-02' })))).toBe('The date cannot be before 02/01/1900.');
    expect(wordProblem(problemOf(date('nope')))).toBe('A date as dd/mm/yyyy, for example 05/03/2024.');
  });

  it('runs a field\'s own check, and lists the problems in the order of the fields', () => {
    const password = field({ value: 'correct horse battery' });
    const confirm = field({ value: 'correct horse' });
    setOwnCheck(confirm, (typed) => (typed === password.value ? null : { said: 'activate.mismatch' }));
    const title = field({ required: true });
    const found = formProblems({ elements: [title, password, confirm] });
    expect(found.map(([f]) => f)).toEqual([title, confirm]);
    expect(wordProblem(found[1][1])).toBe('Les deux mots de passe ne sont pas identiques.');
    confirm.value = 'correct horse battery';
    expect(formProblems({ elements: [password, confirm] })).toEqual([]);
  });
});

describe('a day typed in a date field', () => {
  it('is read as dd/mm/yyyy (or ISO) and sent as ISO; anything else is not a day', () => {
    expect(readDay('05/03/2024')).toBe('2024-03-05');
    expect(readDay(' 5.3.2024 ')).toBe('2024-03-05');
    expect(readDay('2024-03-05')).toBe('2024-03-05');
    expect(readDay('29/02/2024')).toBe('2024-02-29');
    for (const wrong of ['', '31/02/2024', '29/02/2023', '05/13/2024', '05/03/24', '00/01/2024', 'mars 2024', '01/01/0999']) {
      expect([wrong, readDay(wrong)]).toEqual([wrong, null]);
    }
    expect(showDay('2024-03-05')).toBe('05/03/2024');
    expect(showDay('')).toBe('');
  });
});

describe('the page\'s forms', () => {
  it('all go through components/Form.jsx (noValidate and the page\'s own checks), none through a bare <form> or a native date field', () => {
    const src = join(import.meta.dirname, '..');
    const files = (dir) => readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? files(path) : /\.jsx?$/.test(name) && !name.endsWith('.test.js') ? [path] : [];
    });
    const offenders = files(src).filter((path) => {
      const text = readFileSync(path, 'utf8');
      return (!path.endsWith('Form.jsx') && /<form[\s>]/.test(text)) || /type="date"/.test(text);
    });
    expect(offenders).toEqual([]);
    expect(readFileSync(join(src, 'components/Form.jsx'), 'utf8')).toMatch(/<form [^>]*noValidate/);
  });
});
