import { useRef } from 'preact/hooks';
import { t } from '../i18n/index.js';
import { useSaid } from '../lib/focus.js';
import { nodes } from '../lib/paging.js';
import { LiveText } from './Status.jsx';

// Whether a connection offers more ('+': its "More" is there) or not (''): a count is new when
// the last page takes its "More" away, not at each page loaded before it.
export function offersMore(connection) {
  return connection?.pageInfo.hasNextPage ? '+' : '';
}

// The count of what a list shows (/dossier, /historique and its emergency accesses), said once
// (lib/focus.js, useSaid). Drawn with its screen: a role="status", neither focused nor announced.
// Then once per new count: new when its number changes, when the list's filters change (the
// count of what they asked for is said, even if it is the same), or when a "More" goes (the last
// page loaded: offersMore() above, joined for several lists); not when a page is loaded and its
// "More" is still there with the same number (the same words, said again). When a "More" that
// loaded the last page is gone, the keyboard goes to it (`focus` 'lost') and it is read as
// focused, with no live region in it, even if its words are the same (a page the filters hide, a
// count of all there is); when the focus is still in use (a filter, a "More" still there), it is
// announced. `focus` false: it never takes the focus (another message does).
// n: the number counted (null: no count, the list says it is empty); key: its catalogue entry;
// news: what else makes it new (its filters and offersMore, as text); empty: the catalogue entry
// said instead of a count of 0 (the list says it is empty in its count's place, said as it is).
// A hook, kept by its screen: a count shown again after an empty list is announced.
export function useListCount(n, key, news, focus = 'lost', empty = null) {
  const [ref, live] = useSaid(focus, n === null ? null : `${n} ${news}`, { first: 'keep' });
  const none = n === 0 && empty;
  return (
    <p ref={ref} tabIndex={-1} class={none ? 'empty' : undefined}>
      <LiveText role="status" live={live}>
        {n === null ? null : t(none ? empty : key, { n })}
      </LiveText>
    </p>
  );
}

// The count of a connection's totalCount (/historique's events, its emergency accesses), as
// useListCount above: none while it holds nothing (the list says it is empty), or `empty`'s words.
// of: what the list was asked for (its filters, as text); waiting: a read under way (other
// filters, or the list read again), whose answer is not shown yet: the count said before is kept,
// not that of the list it replaces, still drawn meanwhile (its first page).
export function useConnectionCount(connection, key, focus, { of = '', waiting = false, empty = null } = {}) {
  const held = useRef({ total: null, news: '' });
  if (!waiting) {
    const total = nodes(connection).length > 0 ? connection.totalCount : connection && empty ? 0 : null;
    held.current = { total, news: `${offersMore(connection)} ${of}` };
  }
  return useListCount(held.current.total, key, held.current.news, focus, empty);
}
