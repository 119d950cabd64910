"""Structured JSON logs: one object per line, never a secret or medical data.

Only names listed in SAFE_FIELDS are copied from a record's `extra`; everything else a
caller attaches is dropped, so a careless `extra=` cannot leak into the log.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import uuid
from collections.abc import Collection
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

import orjson

if TYPE_CHECKING:
    from backend.auth.viewer import Viewer

# "actor" and "account" hold an account's id, never its address or name; "caller_id" a
# partner token's id (as `dmp list-tokens` shows it, never the token) or an account's id.
SAFE_FIELDS = (
    "request_id", "method", "path", "status", "duration_ms", "operation", "operation_type",
    "error_codes", "caller", "caller_id", "message_id", "error", "client", "event", "count", "actor",
    "account", "orphans", "stored_files",
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage()[:300],
        }
        for name in SAFE_FIELDS:
            if name in record.__dict__:
                payload[name] = record.__dict__[name]
        if record.exc_info and record.exc_info[0] is not None:
            # The exception type only: messages and tracebacks may quote data.
            payload["exception"] = record.exc_info[0].__name__
        # One line per request: orjson writes it several times faster than json.
        return orjson.dumps(payload, default=str).decode()


REQUEST_LOGGER = logging.getLogger("dmp.http")
_STDERR = 2
# The handler `configure` puts on the root logger, while it writes to standard error.
_own_handler: logging.Handler | None = None


class RequestLog(Protocol):
    """What writes the line of one HTTP request (`request_line`, or a test's recorder).
    `error_codes` are the `extensions.code` of the errors the request was answered, as the
    view collected them (None or empty when there were none); `caller` and `caller_id` who
    made it, as `caller_of` names them (None when no one was signed in)."""

    def __call__(
        self, *, request_id: str, method: str | None, path: str, status: int, duration_ms: float,
        operation: str | None, operation_type: str | None, error_codes: Collection[object] | None,
        caller: str | None, caller_id: uuid.UUID | None,
    ) -> None: ...


def caller_of(viewer: Viewer | None) -> tuple[str | None, uuid.UUID | None]:
    """Who made a request, as its line names them: ("token", the partner token's id, as `dmp
    list-tokens` shows it) for a bearer token, ("session", the account's id) for a web
    session, (None, None) for no one signed in, or a request refused before its caller was
    known (a refused token, a cross-origin request, a body refused unread). Never the token,
    its prefix, the session's id or cookie: ids an operator can look up, no secret. Read
    from what the viewer already holds: no query. The id is left as the viewer holds it (a
    UUID, asyncpg's on PostgreSQL), which `request_line` writes as text (str() here cost half
    a microsecond per request)."""
    if viewer is None:
        return None, None
    token_id = viewer.token_id
    if token_id is not None:
        return "token", token_id
    account_id = viewer.account_id
    if viewer.session_id is not None and account_id is not None:
        return "session", account_id
    return None, None


# What an error's code is when the API words it: a name in capitals (RATE_LIMITED). Any other
# value is written OTHER: a code is never text from the request or from data.
_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,40}")
MAX_ERROR_CODES = 10


def logged_codes(codes: Collection[object]) -> list[str]:
    """The codes as the request line holds them: distinct, sorted, at most MAX_ERROR_CODES,
    each a code or OTHER."""
    kept = {code if isinstance(code, str) and _CODE.fullmatch(code) else "OTHER" for code in codes}
    return sorted(kept)[:MAX_ERROR_CODES]


def _only_own_handler() -> bool:
    """Whether a record of `dmp.http` would reach the service's own handler and nothing
    else: no handler or filter added on the way, the root's handlers as `configure` left
    them. A few attribute reads, so that a handler an operator adds still gets every line."""
    handler = _own_handler
    if handler is None or REQUEST_LOGGER.filters:
        return False
    logger: logging.Logger | None = REQUEST_LOGGER
    while logger is not None and logger.parent is not None:  # up to the root, not included
        if logger.handlers or not logger.propagate:
            return False
        logger = logger.parent
    return (
        logger is not None and len(logger.handlers) == 1 and logger.handlers[0] is handler
        and not handler.filters and handler.level <= logging.INFO
    )


def request_line(
    *, request_id: str, method: str | None, path: str, status: int, duration_ms: float,
    operation: str | None, operation_type: str | None, error_codes: Collection[object] | None,
    caller: str | None = None, caller_id: uuid.UUID | None = None,
) -> None:
    """The line of one HTTP request, as `JsonFormatter` writes a record of `dmp.http`.

    Written straight to standard error in one `write`, not through the logging module: a
    record, its handler's lock and the text stream's encoding and flush cost a consultation
    5 % of its CPU, each run once per request with the processor's caches cold
    (docs/benchmarks.md, step 37). That holds while the service's own handler is the only
    one a record would reach; otherwise (a handler added in code, a filter) the line goes
    through the logging module as a record, so that what was added sees it. The fields are
    these, named: nothing else can reach the line. Like a record, it is written only while
    `dmp.http` is enabled for INFO.

    `error_codes`, the codes of the errors the request was answered (GraphQL's, with HTTP
    200, or a refusal's), are written as `logged_codes` words them; the field is left out
    of a request answered without error, which costs it one truth test. `caller` (`token`
    or `session`) and `caller_id` (`caller_of`) likewise: left out of a request no one
    signed in made.
    """
    if not REQUEST_LOGGER.isEnabledFor(logging.INFO):
        return
    fields: dict[str, object] = {
        "request_id": request_id, "method": method, "path": path, "status": status,
        "duration_ms": duration_ms, "operation": operation, "operation_type": operation_type,
    }
    if error_codes:
        fields["error_codes"] = logged_codes(error_codes)
    if caller:
        fields["caller"] = caller
        fields["caller_id"] = caller_id
    if not _only_own_handler():
        if caller:  # text, as a handler added in code may not know a UUID (json.dumps does not)
            fields["caller_id"] = str(caller_id)
        REQUEST_LOGGER.info("request", extra=fields)
        return
    line = orjson.dumps({
        "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "level": "info", "logger": REQUEST_LOGGER.name, "msg": "request", **fields,
    }, default=str, option=orjson.OPT_APPEND_NEWLINE)  # str: asyncpg's UUIDs, not uuid.UUID
    try:
        while line:  # a blocking descriptor takes it whole; a partial write gets the rest
            line = line[os.write(_STDERR, line):]
    except OSError:  # standard error closed or full: the request is answered all the same
        pass


_configured = False


def configure(level: int = logging.INFO) -> None:
    global _configured, _own_handler
    if _configured:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    try:
        # `request_line` writes to descriptor 2 itself only where this handler would.
        _own_handler = handler if sys.stderr.fileno() == _STDERR else None
    except (AttributeError, OSError, ValueError):  # a stream without a descriptor
        _own_handler = None
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    # The JSON line uses none of what the logging module gathers by default about the call:
    # its source file and line (a walk up the stack per record), thread and process. The
    # module's documented switches turn that gathering off (Python's logging HOWTO,
    # "Optimization"); about 2 % of a consultation's CPU (docs/benchmarks.md, step 23).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    # SQL statements and their parameters are logged by the ORM at DEBUG: never enable it.
    logging.getLogger("tortoise").setLevel(logging.WARNING)
    # Strawberry logs resolver exceptions with their message and traceback: keep them out.
    logging.getLogger("strawberry.execution").setLevel(logging.CRITICAL)
    _configured = True
