import { useRef, useState } from 'preact/hooks';

// One request at a time from a form. `send(work)` runs `work` unless one is running (a second
// click before the page redraws the disabled button), then resolves to undefined; `busy`
// disables the button meanwhile.
export function useSending() {
  const [busy, setBusy] = useState(false);
  const running = useRef(false);
  const send = async (work) => {
    if (running.current) return undefined;
    running.current = true;
    setBusy(true);
    try {
      return await work();
    } finally {
      running.current = false;
      setBusy(false);
    }
  };
  return [busy, send];
}
