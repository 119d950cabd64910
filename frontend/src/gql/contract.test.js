// Every GraphQL document the page sends is valid against the checked-in schema.graphql,
// so a contract change shows up here before it shows up in a browser.
import { readFileSync } from 'node:fs';
import { buildSchema, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { recordDocument, sectionPageDocument } from './entries.js';
import { SECTIONS } from '../lib/sections.js';
import * as shared from './shared.js';
import * as session from './session.js';
import * as login from '../screens/login/documents.js';
import * as activate from '../screens/activate/documents.js';
import * as reset from '../screens/reset/documents.js';
import * as record from '../screens/record/documents.js';
import * as sharing from '../screens/sharing/documents.js';
import * as history from '../screens/history/documents.js';
import * as security from '../screens/security/documents.js';
import * as contacts from '../screens/contacts/documents.js';
import * as practitioner from '../screens/practitioner/documents.js';
import * as upload from '../screens/documents/documents.js';
import * as emergency from '../screens/emergency/documents.js';
import * as lifecycle from '../screens/lifecycle/documents.js';

const schema = buildSchema(readFileSync(new URL('../../../schema.graphql', import.meta.url), 'utf8'));
const modules = { shared, session, login, activate, reset, record, sharing, history, security, contacts, practitioner, upload, emergency, lifecycle };

const documents = [];
for (const [name, mod] of Object.entries(modules)) {
  for (const [key, value] of Object.entries(mod)) {
    if (typeof value === 'string' && /^\s*(query|mutation)\b/.test(value)) documents.push([`${name}.${key}`, value]);
  }
}
for (const kind of ['myRecord', 'patientRecord']) {
  documents.push([`record(${kind})`, recordDocument(kind, kind === 'myRecord')]);
  for (const [, field] of SECTIONS) documents.push([`page(${kind}.${field})`, sectionPageDocument(kind, field, kind === 'myRecord')]);
}

describe('GraphQL documents against schema.graphql', () => {
  it('finds the documents', () => {
    expect(documents.length).toBeGreaterThan(50);
  });

  it.each(documents)('%s is valid', (name, text) => {
    const errors = validate(schema, parse(text)).map((e) => e.message);
    expect(errors).toEqual([]);
  });
});
