"""Tells the request log which GraphQL operation ran (its name and type, never its variables),
and the codes of the errors it was answered (never their messages)."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from strawberry.extensions import SchemaExtension


class OperationName(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        context = self.execution_context.context
        request = getattr(context, "request", None)
        try:
            operation_type: str | None = self.execution_context.operation_type.value
        except Exception:  # noqa: BLE001 — an invalid document has no operation type
            operation_type = None
        tell_request_log(request, self.execution_context.operation_name, operation_type)
        yield


def tell_request_log(request: Any, operation_name: str | None, operation_type: str | None) -> None:
    state = getattr(request, "scope", {}).get("state") if request is not None else None
    if isinstance(state, dict):
        state["operation"] = (operation_name or "")[:100] or None
        state["operation_type"] = operation_type


def tell_error_codes(request: Any, codes: Collection[object]) -> None:
    """The `extensions.code` of each error of the response, as it is sent (both execution
    paths reach it through the view's `process_result`); `logs.request_line` words them."""
    state = getattr(request, "scope", {}).get("state") if request is not None else None
    if isinstance(state, dict):
        state["error_codes"] = codes
