// The patient's record as the page shows it: each section's first page, the pages loaded with
// "More", and the patient's own changes applied in place, so an action never drops a page.
import { appendPage } from './paging.js';
import { SECTIONS } from './sections.js';

// Each section connection of `record` through `change(connection)`; the rest kept as is.
function eachSection(record, change) {
  const next = { ...record };
  for (const [, field] of SECTIONS) if (record[field]) next[field] = change(record[field]);
  return next;
}

function eachEntry(record, change) {
  return eachSection(record, (connection) => ({
    ...connection,
    edges: connection.edges.map((edge) => {
      const node = change(edge.node);
      return node === edge.node ? edge : { ...edge, node };
    }),
  }));
}

function shownEntries(record) {
  return SECTIONS.flatMap(([, field]) => (record[field]?.edges ?? []).map((edge) => edge.node));
}

// The ids of every version of `id` on the page: the entries it corrects and those correcting it.
function versionsOf(record, id) {
  const entries = shownEntries(record);
  const versions = new Set([id]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const entry of entries) {
      const linked = versions.has(entry.id) || (entry.supersedes && versions.has(entry.supersedes));
      if (!linked) continue;
      for (const other of [entry.id, entry.supersedes]) {
        if (other && !versions.has(other)) {
          versions.add(other);
          grew = true;
        }
      }
    }
  }
  return versions;
}

export function withPage(record, field, page) {
  return { ...record, [field]: appendPage(record[field], page) };
}

// The server masks or unmasks every version of an entry together: so does the page.
export function withMasked(record, id, masked) {
  const versions = versionsOf(record, id);
  return eachEntry(record, (entry) => (versions.has(entry.id) && entry.masked !== masked ? { ...entry, masked } : entry));
}

export function withAllMasked(record) {
  return eachEntry(record, (entry) => (entry.masked ? entry : { ...entry, masked: true }));
}

// A deleted entry goes; the version it corrected is current again (as the server makes it).
export function withoutEntry(record, id) {
  const gone = shownEntries(record).find((entry) => entry.id === id);
  if (!gone) return record;
  const restored = !gone.superseded && gone.supersedes;
  return eachSection(record, (connection) => {
    const edges = connection.edges
      .filter((edge) => edge.node.id !== id)
      .map((edge) => (edge.node.id === restored ? { ...edge, node: { ...edge.node, superseded: false } } : edge));
    if (edges.length === connection.edges.length && !connection.edges.some((edge) => edge.node.id === restored)) {
      return connection;
    }
    const dropped = connection.edges.length - edges.length;
    return { ...connection, edges, totalCount: connection.totalCount == null ? connection.totalCount : connection.totalCount - dropped };
  });
}
