"""The request lines `dmp.http` is given, read as the service's JSON formatter writes them
(its logging-module branch: `logs.request_line`), and whether each request ran on the short
path: for the tests of what a request line holds."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from backend import logs
from backend.schema import direct


class Lines(logging.Handler):
    """The request lines `dmp.http` was given, as the service's JSON formatter writes them."""

    def __init__(self) -> None:
        super().__init__()
        self.formatter_ = logs.JsonFormatter()
        self.lines: list[dict[str, Any]] = []
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "request":
            text = self.formatter_.format(record)
            self.texts.append(text)
            self.lines.append(orjson.loads(text))

    def last(self) -> dict[str, Any]:
        assert self.lines, "no request line"
        return self.lines[-1]


@pytest.fixture
def lines() -> Iterator[Lines]:
    logger = logging.getLogger("dmp.http")
    level = logger.level
    logger.setLevel(logging.INFO)
    handler = Lines()
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each request's document ran on the short path (schema/direct.py)."""
    ran: list[bool] = []
    execute = direct.execute

    async def counting(*args: Any, **kwargs: Any) -> Any:
        result = await execute(*args, **kwargs)
        ran.append(result is not None)
        return result

    monkeypatch.setattr(direct, "execute", counting)
    return ran
