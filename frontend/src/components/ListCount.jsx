import { t } from '../i18n/index.js';
import { useSaid } from '../lib/focus.js';
import { nodes } from '../lib/paging.js';
import { LiveText } from './Status.jsx';

// What a connection holds as loaded: its entries, and '+' while a "More" offers others.
export function loaded(connection) {
  return `${connection.edges.length}${connection.pageInfo.hasNextPage ? '+' : ''}`;
}

// The count of what a list shows (/dossier, /historique and its emergency accesses), said once
// (lib/focus.js, useSaid). Drawn with its screen: a role="status", neither focused nor announced.
// Then at each new count or page loaded (`pages`: loaded() above, joined for several lists): when
// a "More" that loaded the last page is gone, the keyboard goes to it (`focus` 'lost') and it is
// read as focused, with no live region in it, even if its words are the same (a page the filters
// hide, a count of all there is); when the focus is still in use (a filter, a "More" still there),
// it is announced. `focus` false: it never takes the focus (another message does).
// n: the number counted (null: no count, the list says it is empty); key: its catalogue entry.
// A hook, kept by its screen: a count shown again after an empty list is announced.
export function useListCount(n, key, pages, focus = 'lost') {
  const [ref, live] = useSaid(focus, n === null ? null : `${n} ${pages}`, { first: 'keep' });
  return (
    <p ref={ref} tabIndex={-1}>
      <LiveText role="status" live={live}>
        {n === null ? null : t(key, { n })}
      </LiveText>
    </p>
  );
}

// The count of a connection's totalCount (/historique's events, its emergency accesses), as
// useListCount above: none while it holds nothing (the list says it is empty).
export function useConnectionCount(connection, key, focus) {
  const total = nodes(connection).length > 0 ? connection.totalCount : null;
  return useListCount(total, key, connection ? loaded(connection) : '', focus);
}
