// The project's own thin hook over @urql/core: run documents, expose loading/error state,
// and send the person back to login when the session is gone.
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { client } from './client.js';
import { errorCode, isUnauthenticated } from '../lib/errors.js';
import { sessionExpired } from '../session.js';

function settle(result) {
  if (isUnauthenticated(result)) sessionExpired();
  return { data: result.data ?? null, error: result.error ?? null, code: errorCode(result) };
}

export async function runQuery(document, variables) {
  return settle(await client.query(document, variables).toPromise());
}

export async function runMutation(document, variables) {
  return settle(await client.mutation(document, variables).toPromise());
}

// Fetch on mount and whenever `variables` change (compared by value). `answers`: the variables
// (as JSON) that `data` answers, which a screen compares with its own (other filters asked since).
export function useQuery(document, variables = {}, { pause = false } = {}) {
  const key = JSON.stringify(variables);
  const [state, setState] = useState({ data: null, error: null, code: null, fetching: !pause });
  const generation = useRef(0);

  const refetch = useCallback(async () => {
    const mine = ++generation.current;
    setState((s) => ({ ...s, fetching: true }));
    const result = await runQuery(document, JSON.parse(key));
    if (mine === generation.current) setState({ ...result, fetching: false, answers: key });
    return result;
  }, [document, key]);

  useEffect(() => {
    if (!pause) refetch();
  }, [refetch, pause]);

  // The same object until the read changes: a screen drawn again (a field typed in) does not
  // give its ErrorBox a new failure, which would be said anew (lib/focus.js, useSaid).
  return useMemo(() => ({ ...state, refetch }), [state, refetch]);
}

// A mutation with its own pending/error state: const [state, run] = useMutation(DOC).
export function useMutation(document) {
  const [state, setState] = useState({ data: null, error: null, code: null, fetching: false });
  const run = useCallback(
    async (variables) => {
      setState((s) => ({ ...s, fetching: true }));
      const result = await runMutation(document, variables);
      setState({ ...result, fetching: false });
      return result;
    },
    [document],
  );
  return [state, run];
}
