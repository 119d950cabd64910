"""The progress line of `dmp import-file`: a bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import time
from typing import TextIO

BAR_WIDTH = 24
# Plain (non-terminal) output: at most one line per this many seconds, plus the last one.
PLAIN_EVERY = 5.0


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds + 0.5))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


class Progress:
    """Progress by bytes of the file (works for NDJSON and CSV alike, with no counting pass)."""

    def __init__(self, stream: TextIO, total_bytes: int, start_bytes: int = 0) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.total = max(total_bytes, 1)
        self.start_bytes = start_bytes
        self.started = time.monotonic()
        self.last_plain = float("-inf")
        self.items = 0
        self.rejected = 0
        self.open_line = False  # a terminal's bar drawn, its line not ended

    def close(self) -> None:
        """Ends the bar's line on a terminal, so that a message after it starts a line of its own."""
        if self.open_line:
            self.stream.write("\n")
            self.stream.flush()
            self.open_line = False

    def line(self, done_bytes: int) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.items / elapsed
        fraction = min(done_bytes / self.total, 1.0)
        byte_rate = (done_bytes - self.start_bytes) / elapsed
        eta = (self.total - done_bytes) / byte_rate if byte_rate > 0 else 0.0
        text = (f"{fraction:4.0%}  {self.items} items  {rate:,.0f} items/s  "
                f"rejected {self.rejected}  ETA {_duration(eta)}")
        if self.tty:
            filled = int(fraction * BAR_WIDTH)
            return f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {text}"
        return f"import-file: {text}"

    def update(self, done_bytes: int, items: int, rejected: int, *, final: bool = False) -> None:
        self.items += items
        self.rejected += rejected
        if self.tty:
            self.stream.write("\r\x1b[2K" + self.line(done_bytes) + ("\n" if final else ""))
            self.stream.flush()
            self.open_line = not final
            return
        now = time.monotonic()
        if final or now - self.last_plain >= PLAIN_EVERY:
            self.last_plain = now
            self.stream.write(self.line(done_bytes) + "\n")
            self.stream.flush()
