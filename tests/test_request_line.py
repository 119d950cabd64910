"""The request log line (`backend.logs.request_line`), written straight to standard error
while the service's own handler is the only one: its shape is the JSON formatter's, it
follows the `dmp.http` logger's level, a closed standard error does not fail the request,
and a handler or filter added in code gets the line as a record. The lines of a real
`dmp serve` are checked by tests/test_hardening_logs.py."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest

from backend import logs

FIELDS: dict[str, Any] = {
    "request_id": "0123456789abcdef0123456789abcdef", "method": "POST", "path": "/graphql",
    "status": 200, "duration_ms": 1.25, "operation": "ReadRecord", "operation_type": "query",
    "error_codes": ["FORBIDDEN", "RATE_LIMITED"],
}
# A request answered without error: its line has no `error_codes`.
WITHOUT_ERRORS = {name: value for name, value in FIELDS.items() if name != "error_codes"}


@pytest.fixture
def http_level() -> Iterator[logging.Logger]:
    """`dmp.http` enabled for INFO, as the service sets it; its level restored after."""
    logger = logging.getLogger("dmp.http")
    level = logger.level
    logger.setLevel(logging.INFO)
    yield logger
    logger.setLevel(level)


@contextmanager
def root_handlers(*handlers: logging.Handler) -> Iterator[None]:
    """The root logger with these handlers only, inside a test's body (where pytest's own
    capturing handler sits on the root), then its handlers as they were."""
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers[:] = handlers
    try:
        yield
    finally:
        root.handlers[:] = saved


@contextmanager
def only_own_handler(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """The root logger's handlers as `logs.configure` leaves them: its handler alone (here
    on a buffer of its own, so that what goes through it is told apart from the direct
    write)."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logs.JsonFormatter())
    monkeypatch.setattr(logs, "_own_handler", handler)
    with root_handlers(handler):
        yield buffer


def test_one_json_line_as_the_formatter_writes_a_record(
    capfd: pytest.CaptureFixture[str], http_level: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    with only_own_handler(monkeypatch) as through_logging:
        logs.request_line(**FIELDS)
    assert through_logging.getvalue() == ""  # written directly, not through the handler
    written = capfd.readouterr().err
    assert written.endswith("\n") and written.count("\n") == 1
    line = json.loads(written)
    at = datetime.fromisoformat(line.pop("at"))
    assert at.utcoffset() is not None and at.microsecond % 1000 == 0  # milliseconds, in UTC
    assert line == {"level": "info", "logger": "dmp.http", "msg": "request", **FIELDS}

    # The same fields as a record of `dmp.http` through the formatter: the same line.
    record = logging.getLogger("dmp.http").makeRecord(
        "dmp.http", logging.INFO, "", 0, "request", (), None, extra=FIELDS
    )
    formatted = json.loads(logs.JsonFormatter().format(record))
    formatted.pop("at")
    assert formatted == line


def test_error_codes_are_written_as_codes_and_left_out_without_errors(
    capfd: pytest.CaptureFixture[str], http_level: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Distinct, sorted, and any value that is not a code's name written OTHER, in the direct
    write and through the logging module alike; no field at all (not null) without errors."""
    given = ["RATE_LIMITED", "Robert 1850575123456", "FORBIDDEN", None, "RATE_LIMITED"]
    written = ["FORBIDDEN", "OTHER", "RATE_LIMITED"]
    recording = Recording()
    for codes, expected in ((given, written), (None, None), ([], None)):
        fields = {**WITHOUT_ERRORS, "error_codes": codes}
        with only_own_handler(monkeypatch) as through_logging:
            logs.request_line(**fields)
        assert through_logging.getvalue() == ""
        direct = json.loads(capfd.readouterr().err)
        with only_own_handler(monkeypatch) as through_logging, contextmanager(_added_handler)(recording):
            logs.request_line(**fields)
        assert capfd.readouterr().err == ""
        formatted = json.loads(through_logging.getvalue())
        for line in (direct, formatted):
            line.pop("at")
            if expected is None:
                assert "error_codes" not in line
            else:
                assert line["error_codes"] == expected
            assert "Robert" not in json.dumps(line) and "1850575123456" not in json.dumps(line)
        assert direct == formatted
        assert recording.records[-1].__dict__.get("error_codes") == expected


def test_nothing_is_written_while_the_logger_is_above_info(
    capfd: pytest.CaptureFixture[str], http_level: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    http_level.setLevel(logging.WARNING)
    with only_own_handler(monkeypatch) as through_logging:
        logs.request_line(**FIELDS)
    assert capfd.readouterr().err == "" and through_logging.getvalue() == ""


class Recording(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _added_handler(recording: Recording) -> Iterator[None]:
    logger = logging.getLogger("dmp.http")
    logger.addHandler(recording)
    yield
    logger.removeHandler(recording)


def _handler_beside(recording: Recording) -> Iterator[None]:
    logging.getLogger().addHandler(recording)
    yield
    logging.getLogger().removeHandler(recording)


def _filter_on_the_logger(recording: Recording) -> Iterator[None]:
    logger = logging.getLogger("dmp.http")

    def keep(record: logging.LogRecord) -> bool:
        recording.records.append(record)
        return True

    logger.addFilter(keep)
    yield
    logger.removeFilter(keep)


@pytest.mark.parametrize("added", [_added_handler, _handler_beside, _filter_on_the_logger])
def test_a_handler_or_filter_added_in_code_gets_the_line_as_a_record(
    capfd: pytest.CaptureFixture[str], http_level: logging.Logger, monkeypatch: pytest.MonkeyPatch,
    added: Any,
) -> None:
    recording = Recording()
    with only_own_handler(monkeypatch) as through_logging, contextmanager(added)(recording):
        logs.request_line(**FIELDS)
    assert capfd.readouterr().err == ""  # nothing written beside the logging module
    [record] = recording.records
    assert record.name == "dmp.http" and record.levelno == logging.INFO
    assert {name: record.__dict__[name] for name in FIELDS} == FIELDS
    # The service's handler still writes the same line, through the formatter.
    line = json.loads(through_logging.getvalue())
    line.pop("at")
    assert line == {"level": "info", "logger": "dmp.http", "msg": "request", **FIELDS}


def test_without_the_services_handler_the_line_is_a_record(
    capfd: pytest.CaptureFixture[str], http_level: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`logs.configure` not called, or its stream not standard error: nothing is written
    to descriptor 2 behind the logging module's back."""
    recording = Recording()
    monkeypatch.setattr(logs, "_own_handler", None)
    with root_handlers(recording):
        logs.request_line(**FIELDS)
    assert capfd.readouterr().err == ""
    [record] = recording.records
    assert {name: record.__dict__[name] for name in FIELDS} == FIELDS


def test_a_closed_standard_error_loses_the_line_not_the_request(
    monkeypatch: pytest.MonkeyPatch, http_level: logging.Logger
) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # writing now fails with a broken pipe
    monkeypatch.setattr(logs, "_STDERR", write_end)
    try:
        with only_own_handler(monkeypatch) as through_logging:
            logs.request_line(**FIELDS)
        assert through_logging.getvalue() == ""  # the direct write was tried, not the handler
        with pytest.raises(BrokenPipeError):
            os.write(write_end, b"x")  # the write did fail, and request_line kept it
    finally:
        os.close(write_end)


def test_the_service_writes_the_line_directly() -> None:
    """In a process of its own, as `dmp serve` runs it (standard error a descriptor, nothing
    added to logging): the application's logging set-up leaves the direct write on."""
    script = (
        "from backend.app import create_app\n"
        "from backend import logs\n"
        "create_app(outbox_worker=False)\n"
        "print(logs._only_own_handler())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "True"
