import { describe, expect, it } from 'vitest';
import { formatCountdown, formatDate, formatDateTime, inPeriod, localToday, parseDay } from './dates.js';
import { errorCode, errorDetail, errorMessageKey, fieldLabel, isUnauthenticated, requestReference } from './errors.js';
import { setLanguage, t } from '../i18n/index.js';
import { appendPage, clampFirst, nextPageVariables, nodes } from './paging.js';
import { insKeyValid, normalizeIns } from './ins.js';

describe('dates', () => {
  it('takes today from the local calendar, not from UTC', () => {
    // Half past midnight on 7 December, local time: whatever the zone, that is the 7th.
    expect(localToday(new Date(2026, 11, 7, 0, 30))).toBe('2026-12-07');
    expect(localToday(new Date(2026, 0, 5, 23, 59))).toBe('2026-01-05');
  });
  it('formats a calendar day the French way, whatever the time zone', () => {
    expect(formatDate('2024-03-05')).toBe('5 mars 2024');
    expect(formatDate('2024-12-31')).toBe('31 décembre 2024');
    expect(formatDate('2024-03-05', 'en-GB')).toBe('5 March 2024');
    expect(parseDay('2024-3-5')).toBeNull();
    expect(formatDate(null)).toBe('');
  });

  it('formats an instant with date and time', () => {
    expect(formatDateTime('2024-03-05T14:07:00Z', 'fr-FR', 'UTC')).toBe('5 mars 2024, 14:07');
    expect(formatDateTime('not a date')).toBe('');
  });

  it('counts down without going negative', () => {
    expect(formatCountdown(59 * 60 * 1000 + 5000)).toBe('59:05');
    expect(formatCountdown(3600 * 1000 + 61 * 1000)).toBe('1:01:01');
    expect(formatCountdown(-10)).toBe('00:00');
  });

  it('tells whether a date falls in a period, bounds included', () => {
    expect(inPeriod('2024-03-05', '2024-03-05', '2024-03-05')).toBe(true);
    expect(inPeriod('2024-03-05T10:00:00Z', '2024-03-06', null)).toBe(false);
    expect(inPeriod('2024-03-05', null, '2024-03-04')).toBe(false);
    expect(inPeriod('2024-03-05', '', '')).toBe(true);
  });
});

describe('error codes', () => {
  const gql = (code, message = 'm') => ({ error: { graphQLErrors: [{ message, extensions: { code } }] } });

  it('reads the first extensions.code', () => {
    expect(errorCode(gql('FORBIDDEN'))).toBe('FORBIDDEN');
    expect(isUnauthenticated(gql('UNAUTHENTICATED'))).toBe(true);
    expect(isUnauthenticated(gql('FORBIDDEN'))).toBe(false);
    expect(errorCode({ data: {} })).toBeNull();
  });

  it('treats unknown codes and code-less errors as INTERNAL, failed requests as NETWORK', () => {
    expect(errorCode(gql('SOMETHING_NEW'))).toBe('INTERNAL');
    expect(errorCode({ error: { graphQLErrors: [{ message: 'x' }] } })).toBe('INTERNAL');
    expect(errorCode({ error: { networkError: new Error('down'), graphQLErrors: [] } })).toBe('NETWORK');
  });

  it('maps each code to a message and shows server text only for bad input', () => {
    expect(errorMessageKey('RATE_LIMITED')).toBe('error.rateLimited');
    expect(errorMessageKey('NETWORK')).toBe('error.network');
    expect(errorMessageKey(null)).toBeNull();
    expect(errorDetail(gql('BAD_USER_INPUT', 'INS invalide'))).toBeNull();
    expect(errorDetail(gql('INTERNAL', 'stack trace'))).toBeNull();
  });

  const refused = (extensions, message = 'English text') => ({
    error: { graphQLErrors: [{ message, extensions: { code: 'BAD_USER_INPUT', ...extensions } }] },
  });

  it('words a bad input by its reason, in the page language, with its values', () => {
    setLanguage('fr');
    expect(errorDetail(refused({ reason: 'WRONG_CODE' }))).toBe("Le code n'est pas le bon.");
    expect(errorDetail(refused({ reason: 'FIELD_TOO_LONG', field: 'title', max: 300 }))).toBe('« Titre » : 300 caractères au plus.');
    expect(errorDetail(refused({ reason: 'FIELD_INVALID', field: 'details.cip13' }))).toBe("« Code CIP » n'a pas la forme attendue.");
    expect(errorDetail(refused({ reason: 'SECTIONS_NOT_ALLOWED', profession: 'pharmacien', sections: ['IMAGING', 'LAB_RESULTS'] }))).toBe(
      'Un professionnel de cette profession (pharmacien) ne peut pas voir : Imagerie, Biologie.',
    );
    setLanguage('en');
    expect(errorDetail(refused({ reason: 'PASSWORD_TOO_SHORT', min: 12 }))).toBe('The password must have at least 12 characters.');
    setLanguage('fr');
  });

  it("never shows the server's English message: a reason the page does not know, or none, adds nothing to error.badInput", () => {
    expect(errorDetail(refused({ reason: 'SOMETHING_NEW' }, 'Something new'))).toBeNull();
    expect(errorDetail(refused({}, 'Cannot query field'))).toBeNull();
    expect(errorDetail(refused({}, 'Request body too large'))).toBeNull();
    expect(fieldLabel('details.unknownThing')).toBe('details.unknownThing');
    expect(fieldLabel(undefined)).toBe('');
  });

  it("gives the request's id of a fault on the service's side, for support, and of nothing else", () => {
    const id = '0123456789abcdef0123456789abcdef';
    const answered = (status, code, header = id) => ({
      error: {
        response: { status, headers: new Headers(header ? { 'x-request-id': header } : {}) },
        graphQLErrors: code ? [{ message: 'Internal error', extensions: { code } }] : [],
        networkError: code ? undefined : new Error('Bad Gateway'),
      },
    });
    expect(requestReference(answered(200, 'INTERNAL'))).toBe(id);
    expect(requestReference(answered(502, null))).toBe(id);
    expect(requestReference(answered(200, 'BAD_USER_INPUT'))).toBeNull();
    expect(requestReference(answered(200, 'FORBIDDEN'))).toBeNull();
    expect(requestReference(answered(200, 'INTERNAL', '<b>x</b>'))).toBeNull();
    expect(requestReference(answered(200, 'INTERNAL', null))).toBeNull();
    expect(requestReference({ error: { networkError: new Error('offline'), graphQLErrors: [] } })).toBeNull();
    expect(requestReference(null)).toBeNull();
  });

  it('names the directory search as the page does (the API says `search`)', () => {
    expect(fieldLabel('search')).toBe('Recherche');
  });

  it('names an entry\'s date as its form labels it', () => {
    expect(fieldLabel('date')).toBe(t('addEntry.date'));
  });

  it('names the history\'s end date as its filter labels it (« Au », not « Date de fin »)', () => {
    setLanguage('fr');
    expect(fieldLabel('filter.to')).toBe(t('record.to'));
    expect(errorDetail(refused({ reason: 'DATES_REVERSED', field: 'filter.to' }))).toMatch(/^« Au » : /);
    setLanguage('en');
    expect(fieldLabel('filter.to')).toBe(t('record.to'));
    expect(errorDetail(refused({ reason: 'DATES_REVERSED', field: 'filter.to' }))).toMatch(/^“To”: /);
    setLanguage('fr');
  });
});

describe('cursor paging', () => {
  const page = (ids, hasNextPage, endCursor, totalCount = 9) => ({
    edges: ids.map((id) => ({ cursor: `c${id}`, node: { id } })),
    pageInfo: { hasNextPage, endCursor },
    totalCount,
  });

  it('asks for the next page only when there is one', () => {
    expect(nextPageVariables(page([1, 2], true, 'c2'), { first: 2 })).toEqual({ first: 2, after: 'c2' });
    expect(nextPageVariables(page([1, 2], false, 'c2'))).toBeNull();
    expect(nextPageVariables(null)).toBeNull();
  });

  it('appends pages without duplicates and keeps the latest pageInfo', () => {
    const merged = appendPage(page([1, 2], true, 'c2'), page([2, 3], false, 'c3', 3));
    expect(nodes(merged).map((n) => n.id)).toEqual([1, 2, 3]);
    expect(merged.pageInfo).toEqual({ hasNextPage: false, endCursor: 'c3' });
    expect(merged.totalCount).toBe(3);
    expect(appendPage(null, page([1], false, null)).edges).toHaveLength(1);
  });

  it('keeps first between 1 and 100', () => {
    expect(clampFirst(500)).toBe(100);
    expect(clampFirst(0)).toBe(1);
    expect(clampFirst(undefined)).toBe(20);
  });
});

describe('INS', () => {
  it('normalizes spaces and checks the key, Corsica included', () => {
    expect(normalizeIns(' 1 84 12-75.123 456 2a ')).toBe('1841275123456' + '2A');
    const body = '2840375123456';
    const key = String(97 - Number(BigInt(body) % 97n)).padStart(2, '0');
    expect(insKeyValid(`${body}${key}`)).toBe(true);
    expect(insKeyValid(`${body}${key === '01' ? '02' : '01'}`)).toBe(false);
    const corsica = '18402' + '2A' + '123456';
    const cKey = String(97 - Number(BigInt(corsica.replace('2A', '19')) % 97n)).padStart(2, '0');
    expect(insKeyValid(`${corsica}${cKey}`)).toBe(true);
  });
});
