// What the person typed on a signed-in screen, kept in memory only (never in storage), so a
// trip through the login screen after an expired session brings it back. Logout forgets it.
import { useEffect, useState } from 'preact/hooks';

const kept = new Map();

export function useKept(name, initial) {
  const [value, setValue] = useState(kept.has(name) ? kept.get(name) : initial);
  useEffect(() => {
    kept.set(name, value);
  }, [name, value]);
  return [value, setValue];
}

export function forget(prefix = '') {
  for (const name of [...kept.keys()]) if (name.startsWith(prefix)) kept.delete(name);
}

export function keptValue(name) {
  return kept.get(name);
}
