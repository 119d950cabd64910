"""Field permissions: a section field resolves only when the decision allows it."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from backend.authz.decision import Decision
from backend.domain.enums import Section


class SectionVisible(BasePermission):
    """The source is a record view whose per-section decisions were taken once."""

    message = "This section is not shared with you"
    error_extensions = {"code": "FORBIDDEN"}

    def __init__(self, section: Section) -> None:
        self.section = section

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        # The source is the GraphQL object holding a `view` (RecordView); anything else: deny.
        view = getattr(source, "view", None)
        decide = getattr(view, "decision", None)
        if decide is None:
            return False
        decision: Decision = decide(self.section)
        return decision.allowed
