import { describe, expect, it } from 'vitest';
import { entryInput, writableSections } from './entryInput.js';
import { historyFilter, reasonKey } from './history.js';
import { timeline } from './sections.js';
import { emergencyOffer } from './access.js';
import { recordDocument, sectionPageDocument } from '../gql/entries.js';

describe('entry input', () => {
  it('keeps only the section detail fields that are filled, trimmed', () => {
    expect(entryInput({ section: 'ALLERGIES', title: ' Pénicilline ', date: '2024-01-02', details: { substance: 'pénicilline ', reaction: '  ' } }))
      .toEqual({ section: 'ALLERGIES', title: 'Pénicilline', date: '2024-01-02', allergy: { substance: 'pénicilline' } });
    expect(entryInput({ ins: '1', section: 'PROCEDURES', title: 'x', date: '2024-01-02', code: ' YYYY ' }))
      .toEqual({ ins: '1', section: 'PROCEDURES', title: 'x', date: '2024-01-02', code: 'YYYY' });
  });

  it('lets practitioners write only where they read as treating physician or grantee', () => {
    expect(writableSections([
      { section: 'MEDICATIONS', mode: 'GRANTED' },
      { section: 'ALLERGIES', mode: 'BREAK_GLASS' },
      { section: 'EMERGENCY', mode: 'TREATING_PHYSICIAN' },
      { section: 'LAB_RESULTS', mode: 'TREATING_PHYSICIAN' },
    ])).toEqual(['MEDICATIONS', 'LAB_RESULTS']);
    expect(writableSections(null)).toEqual([]);
  });
});

describe('history filter', () => {
  it('is null without criteria and turns days into a period up to the last microsecond', () => {
    expect(historyFilter({})).toBeNull();
    const f = historyFilter({ from: '2024-03-01', to: '2024-03-01', action: 'RECORD_READ', mode: 'GRANTED' });
    expect(new Date(f.from).getTime()).toBe(new Date('2024-03-01T00:00:00').getTime());
    // The API's `to` is inclusive: the next day's midnight is not in the period.
    const nextMidnight = new Date('2024-03-02T00:00:00');
    expect(f.to).toBe(new Date(nextMidnight.getTime() - 1).toISOString().replace('Z', '999Z'));
    expect(f.to.endsWith('59.999999Z')).toBe(true);
    expect(f.actions).toEqual(['RECORD_READ']);
    expect(f.modes).toEqual(['GRANTED']);
  });

  it('narrows to one person, alone or with the other criteria', () => {
    expect(historyFilter({ actorId: 'a1' })).toEqual({ actorId: 'a1' });
    expect(historyFilter({ actorId: 'a1', action: 'RECORD_READ' })).toEqual({ actorId: 'a1', actions: ['RECORD_READ'] });
    expect(historyFilter({ actorId: '' })).toBeNull();
  });
});

describe('timeline', () => {
  const conn = (...nodes) => ({ edges: nodes.map((node) => ({ cursor: node.id, node })), pageInfo: { hasNextPage: false } });
  const record = {
    medications: conn({ id: 'm1', date: '2024-01-05', createdAt: '1' }, { id: 'm2', date: '2023-12-01', createdAt: '1' }),
    allergies: conn({ id: 'a1', date: '2024-02-01', createdAt: '1' }),
    labResults: null,
  };

  it('merges sections newest first and filters by section and period', () => {
    expect(timeline(record).map((e) => e.id)).toEqual(['a1', 'm1', 'm2']);
    expect(timeline(record, { section: 'MEDICATIONS' }).map((e) => e.id)).toEqual(['m1', 'm2']);
    expect(timeline(record, { from: '2024-01-01', to: '2024-01-31' }).map((e) => e.id)).toEqual(['m1']);
  });
});

describe('record documents', () => {
  it('never put the INS or page sizes in variables the server would price at 100', () => {
    const mine = recordDocument('myRecord', true);
    expect(mine).not.toContain('$ins');
    expect(mine).toContain('masked');
    expect(mine).not.toMatch(/first: \$/);
    const theirs = recordDocument('patientRecord', false);
    expect(theirs).toContain('patientRecord(ins: $ins)');
    expect(theirs).not.toContain('masked');
    expect(sectionPageDocument('patientRecord', 'allergies', false)).toContain('... on AllergyEntry');
  });
});

describe('emergency access offered to a practitioner', () => {
  const read = (...modes) => ({ sectionAccess: modes.map((mode, i) => ({ section: `S${i}`, mode })) });

  it('is offered for the whole record when it was refused', () => {
    expect(emergencyOffer(null, true)).toBe('all');
    expect(emergencyOffer(null, false)).toBeNull();
  });

  it('is offered for the other sections over a grant, until one is open', () => {
    expect(emergencyOffer(read('GRANTED', 'GRANTED'), false)).toBe('more');
    expect(emergencyOffer(read('GRANTED', 'BREAK_GLASS'), false)).toBeNull();
    expect(emergencyOffer(read('GRANTED', 'EMERGENCY_REGULATOR'), false)).toBeNull();
    expect(emergencyOffer(read('TREATING_PHYSICIAN'), false)).toBeNull();
  });
});

describe('who added an entry', () => {
  it('says "by you" to the patient on their own record only, "by the patient" to anyone else', async () => {
    const { sourceKey } = await import('../components/EntryCard.jsx');
    const fr = (await import('../i18n/fr.js')).default;
    const en = (await import('../i18n/en.js')).default;
    expect(fr[sourceKey('PATIENT', true)]).toBe('Ajouté par vous');
    expect(fr[sourceKey('PATIENT', false)]).toBe('Ajouté par le patient');
    expect(en[sourceKey('PATIENT', false)]).toBe('Added by the patient');
    expect(sourceKey('PRACTITIONER', true)).toBe('source.PRACTITIONER');
  });
});

describe('focus lost', () => {
  it('is lost on the page body, nowhere, or on an element no longer in the page; kept anywhere else', async () => {
    const { focusIfLost, focusLost } = await import('./focus.js');
    const body = { isConnected: true };
    const doc = (active) => ({ body, activeElement: active });
    expect(focusLost(doc(body))).toBe(true);
    expect(focusLost(doc(null))).toBe(true);
    expect(focusLost(doc({ isConnected: false }))).toBe(true);
    expect(focusLost(doc({ isConnected: true }))).toBe(false);
    let focused = 0;
    const target = (active) => ({ ownerDocument: doc(active), focus: () => (focused += 1) });
    focusIfLost(target(body));
    focusIfLost(target({ isConnected: true }));
    expect(focused).toBe(1);
  });
});

describe('reasonKey', () => {
  it('calls a reason "stated" only where a person wrote it', () => {
    expect(reasonKey('BREAK_GLASS_OPENED')).toBe('history.reason');
    expect(reasonKey('REGULATOR_ACCESS')).toBe('history.reason');
    expect(reasonKey('SHARING_CHANGED')).toBe('history.detail');
    expect(reasonKey('RECORD_EXPORTED')).toBe('history.detail');
  });
});
