// When the person comes back to the tab (it is shown again, or the window gets the focus back),
// what another tab changed meanwhile may show here as it was: `read` runs then. The two events
// usually come together, and a read is not started while the previous one is still out.
export function onComingBack(read, { doc = globalThis.document, win = globalThis.window } = {}) {
  let out = false;
  const back = async () => {
    if (out || doc.visibilityState === 'hidden') return;
    out = true;
    try {
      await read();
    } finally {
      out = false;
    }
  };
  doc.addEventListener('visibilitychange', back);
  win.addEventListener('focus', back);
  return () => {
    doc.removeEventListener('visibilitychange', back);
    win.removeEventListener('focus', back);
  };
}

// Whether the record's status read again (`{ data, code }` of RECORD_STATUS) is not the one
// shown (`undefined` while nothing is shown yet, `null` without a record). A failed read
// changes nothing: the screen keeps what it shows.
export function statusMoved(shown, read) {
  if (shown === undefined || read.code || !read.data) return false;
  return (read.data.myRecordStatus?.status ?? null) !== (shown ?? null);
}

// The status a screen shows, from its query's data (`key`: the field holding myRecordStatus).
export function shownStatus(data, key = 'myRecordStatus') {
  return data ? (data[key]?.status ?? null) : undefined;
}
