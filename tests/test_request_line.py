"""The request log line (`backend.logs.request_line`), written straight to standard error:
its shape is the JSON formatter's, it follows the `dmp.http` logger's level, and a closed
standard error does not fail the request. The lines of a real `dmp serve` are checked by
tests/test_hardening_logs.py."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from backend import logs

FIELDS: dict[str, Any] = {
    "request_id": "0123456789abcdef0123456789abcdef", "method": "POST", "path": "/graphql",
    "status": 200, "duration_ms": 1.25, "operation": "ReadRecord", "operation_type": "query",
}


@pytest.fixture
def http_level() -> Iterator[logging.Logger]:
    logger = logging.getLogger("dmp.http")
    level = logger.level
    yield logger
    logger.setLevel(level)


def test_one_json_line_as_the_formatter_writes_a_record(
    capfd: pytest.CaptureFixture[str], http_level: logging.Logger
) -> None:
    http_level.setLevel(logging.INFO)
    logs.request_line(**FIELDS)
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


def test_nothing_is_written_while_the_logger_is_above_info(
    capfd: pytest.CaptureFixture[str], http_level: logging.Logger
) -> None:
    http_level.setLevel(logging.WARNING)
    logs.request_line(**FIELDS)
    assert capfd.readouterr().err == ""


def test_a_closed_standard_error_loses_the_line_not_the_request(
    monkeypatch: pytest.MonkeyPatch, http_level: logging.Logger
) -> None:
    http_level.setLevel(logging.INFO)
    read_end, write_end = os.pipe()
    os.close(read_end)  # writing now fails with a broken pipe
    monkeypatch.setattr(logs, "_STDERR", write_end)
    try:
        logs.request_line(**FIELDS)
        with pytest.raises(BrokenPipeError):
            os.write(write_end, b"x")  # the write did fail, and request_line kept it
    finally:
        os.close(write_end)
