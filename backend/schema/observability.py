"""Tells the request log which GraphQL operation ran (its name and type, never its variables)."""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension


class OperationName(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        context = self.execution_context.context
        request = getattr(context, "request", None)
        state = getattr(request, "scope", {}).get("state") if request is not None else None
        if isinstance(state, dict):
            state["operation"] = (self.execution_context.operation_name or "")[:100] or None
            try:
                state["operation_type"] = self.execution_context.operation_type.value
            except Exception:  # noqa: BLE001 — an invalid document has no operation type
                state["operation_type"] = None
        yield
