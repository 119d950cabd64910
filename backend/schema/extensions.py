"""Schema extensions of the product."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from backend.errors import answer_no_sooner, hides_existence
from backend.resolvers.context import Context

log = logging.getLogger("dmp.audit")


class AccessHistoryWriter(SchemaExtension):
    """Writes the request's access events after resolving, before the response leaves.

    If the write fails, the response carries an error and no data (DESIGN §4).
    """

    async def on_execute(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
        if isinstance(context, Context):
            await write_access_history(context, self.execution_context.result)


async def write_access_history(context: Context, result: Any) -> None:
    """Write the request's access events; if that fails, withhold the result's data. A refusal
    that must not tell whether a record exists answers after the same time whether an event
    was written for it or not (errors.NoAccess)."""
    # Decided before the write, so that every request does not read the clock for it.
    hide = result is not None and bool(result.errors) and hides_existence(result.errors)
    started = time.perf_counter() if hide else 0.0
    try:
        await context.access_log.flush()
        if hide:
            await answer_no_sooner(started)
    except Exception:
        log.exception("access history write failed; response withheld")
        if result is not None:
            result.data = None
            result.errors = [
                GraphQLError(
                    "The access could not be recorded; nothing was returned",
                    extensions={"code": "INTERNAL"},
                )
            ]
