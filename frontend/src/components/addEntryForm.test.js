// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { h, render } from 'preact';
import { act } from 'preact/test-utils';
import { setLanguage } from '../i18n/index.js';
import { AddEntryForm } from './AddEntryForm.jsx';

// The « Code » field says what to type: the coding system the section takes
// (backend/domain/codes.py SECTION_CODES), or that it is free text.
let place;

beforeEach(() => {
  document.body.innerHTML = '';
  sessionStorage.clear();
  place = document.createElement('div');
  document.body.append(place);
});

afterEach(() => {
  act(() => render(null, place));
  setLanguage('fr');
});

function codeHint(section) {
  act(() => render(h(AddEntryForm, { sections: [section] }), place));
  const label = [...place.querySelectorAll('label')].find((l) => l.textContent === 'Code');
  const field = place.querySelector(`#${CSS.escape(label.htmlFor)}`);
  const ids = (field.getAttribute('aria-describedby') ?? '').split(' ').filter(Boolean);
  return ids.map((id) => place.querySelector(`#${CSS.escape(id)}`)?.textContent).join(' ');
}

describe("the add-entry form's « Code » field", () => {
  it('names the coding system of the section, with an example, in both languages', () => {
    setLanguage('fr');
    expect(codeHint('LAB_RESULTS')).toBe('Facultatif : un code LOINC, par exemple 2345-7.');
    expect(codeHint('MEDICATIONS')).toBe('Facultatif : un code CIP13 (13 chiffres commençant par 3400) ou ATC, par exemple A10BA02.');
    expect(codeHint('MEDICAL_DEVICES')).toBe('Facultatif : un code LPP (7 chiffres).');
    expect(codeHint('IMAGING')).toBe('Facultatif : un code CCAM, par exemple ZBQK002.');
    expect(codeHint('MEDICAL_HISTORY')).toBe('Facultatif : un code CIM-10, par exemple E11.9.');
    expect(codeHint('VACCINATIONS')).toBe('Facultatif : texte libre, 64 caractères au plus.');
    setLanguage('en');
    expect(codeHint('LAB_RESULTS')).toBe('Optional: a LOINC code, for example 2345-7.');
    expect(codeHint('HOSPITAL_STAYS')).toBe('Optional: an ICD-10 code, for example E11.9.');
    expect(codeHint('DOCUMENTS')).toBe('Optional: free text, 64 characters at most.');
  });
});
