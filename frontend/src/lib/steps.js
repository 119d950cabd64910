// A later step of a form (the sign-in's code) as an entry of the browser's history, at the same
// address: the browser's Back returns to the step before, and Forward shows the step again as it
// was left, sending nothing again. Only the step's name goes into the history (its state; the
// address is unchanged), never what was typed (a password) or received (an attempt's token):
// those stay in the screen's memory, and a step whose screen no longer holds them (a reload)
// is not shown again.
import { useEffect, useRef } from 'preact/hooks';

export const STEP_KEY = 'dmpStep';

export function stepOf(state) {
  return typeof state?.[STEP_KEY] === 'string' ? state[STEP_KEY] : null;
}

// `back()` shows the step before; `forward()` shows this step again and says whether it could
// (false: nothing held, the entry is dropped to the step before). Returns `enter()`, to call
// when the step is shown after its form was sent, and `leave()`, for the screen's own way back
// (« Recommencer »), which goes back in the history as Back does.
export function useHistoryStep(name, { back, forward }, win = globalThis) {
  const handlers = useRef({ back, forward });
  handlers.current = { back, forward };

  useEffect(() => {
    const history = win.history;
    // Arrived on this step's entry without what it needs (a reload, a return from another screen).
    if (stepOf(history?.state) === name) history.replaceState(null, '', win.location.href);
    const popped = (event) => {
      if (stepOf(event.state) === name) {
        if (!handlers.current.forward()) history.replaceState(null, '', win.location.href);
      } else {
        handlers.current.back();
      }
    };
    win.addEventListener?.('popstate', popped);
    return () => win.removeEventListener?.('popstate', popped);
  }, [name]);

  const enter = () => {
    const history = win.history;
    if (stepOf(history?.state) !== name) history?.pushState({ [STEP_KEY]: name }, '', win.location.href);
  };
  const leave = () => {
    if (stepOf(win.history?.state) === name) win.history.back();
  };
  return { enter, leave };
}
