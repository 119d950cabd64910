// The record's status, read again when the person comes back to the tab: closed, reopened or
// its deletion asked in another tab, the screen reads what it shows again (`refetch`). Only the
// status is read each time; the screen's own query only when the status is not the one shown.
import { useEffect, useRef } from 'preact/hooks';
import { runQuery } from '../gql/hooks.js';
import { RECORD_STATUS } from '../gql/shared.js';
import { onComingBack, statusMoved } from './comingBack.js';

export function useStatusRefresh(shown, refetch) {
  const latest = useRef({ shown, refetch });
  latest.current = { shown, refetch };
  useEffect(
    () =>
      onComingBack(async () => {
        if (latest.current.shown === undefined) return;
        const read = await runQuery(RECORD_STATUS);
        if (statusMoved(latest.current.shown, read)) await latest.current.refetch();
      }),
    [],
  );
}
