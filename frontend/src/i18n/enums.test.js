import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fr from './fr.js';
import en from './en.js';

// Every value the API can answer in a field the page words by key (`action.${event.action}`…)
// has its words in both catalogues: a value without them would show the key itself
// ("action.RECORD_EXPORTED") to the reader.
const root = new URL('../../../', import.meta.url);
const schema = readFileSync(new URL('schema.graphql', root), 'utf8');
const enums = readFileSync(new URL('backend/domain/enums.py', root), 'utf8');

function values(name) {
  const body = schema.match(new RegExp(`enum ${name} \\{([^}]*)\\}`))?.[1];
  if (!body) throw new Error(`no enum ${name} in schema.graphql`);
  return body
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^[A-Z_]+$/.test(line));
}

function professions() {
  const body = enums.match(/class Profession\(StrEnum\):\n((?:\s+[A-Z_]+ = "[^"]+"\n)+)/)?.[1];
  if (!body) throw new Error('no Profession in backend/domain/enums.py');
  return [...body.matchAll(/= "([^"]+)"/g)].map((m) => m[1]);
}

const WORDED = [
  ['AccessAction', 'action.'],
  ['AccessMode', 'mode.'],
  ['EmergencyKind', 'review.kind.'],
  ['EntrySource', 'source.'],
  ['RecordStatus', 'status.'],
  ['ReviewState', 'review.state.'],
  ['Section', 'section.'],
];

describe('values the API answers, worded by the page', () => {
  for (const [name, prefix] of WORDED) {
    it(`words every ${name}`, () => {
      const found = values(name);
      expect(found.length).toBeGreaterThan(1);
      for (const catalogue of [fr, en]) expect(found.filter((v) => !(`${prefix}${v}` in catalogue))).toEqual([]);
    });
  }

  it('words every profession', () => {
    const found = professions();
    expect(found).toContain('sage-femme');
    for (const catalogue of [fr, en]) expect(found.filter((p) => !(`profession.${p}` in catalogue))).toEqual([]);
  });

  it('says why a record that is not active offers no form, for every such status', () => {
    const inactive = values('RecordStatus').filter((s) => s !== 'ACTIVE');
    for (const catalogue of [fr, en]) expect(inactive.filter((s) => !(`inactive.${s}` in catalogue))).toEqual([]);
  });
});
