"""Per-request DataLoaders for the sharing facts of the current practitioner."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from backend import clock
from backend.authz.decision import NO_SHARING, SharingFacts
from backend.domain.enums import EmergencyKind, Section
from backend.models import BlockedPractitioner, EmergencySession, Grant
from backend.resolvers.entry_pages import PageRequest, PageRows, load_pages


class Loaders:
    def __init__(self, practitioner_id: uuid.UUID | None) -> None:
        self.practitioner_id = practitioner_id
        self.sharing: DataLoader[uuid.UUID, SharingFacts] = DataLoader(
            load_fn=self._load_sharing
        )
        # Pages of entries asked for in one request, read in one statement.
        self.pages: DataLoader[PageRequest, PageRows] = DataLoader(load_fn=load_pages)

    async def _load_sharing(self, record_ids: Sequence[uuid.UUID]) -> list[SharingFacts]:
        pid = self.practitioner_id
        if pid is None:
            return [NO_SHARING for _ in record_ids]
        ids = list(record_ids)
        now = clock.now()
        grants = await Grant.filter(practitioner_id=pid, record_id__in=ids).values_list(
            "record_id", "sections"
        )
        blocks = await BlockedPractitioner.filter(
            practitioner_id=pid, record_id__in=ids
        ).values_list("record_id", flat=True)
        sessions = await EmergencySession.filter(
            practitioner_id=pid, record_id__in=ids, expires_at__gt=now
        ).values_list("record_id", "kind")
        granted: dict[uuid.UUID, frozenset[Section]] = {
            rid: frozenset(Section(s) for s in sections) for rid, sections in grants
        }
        blocked = set(blocks)
        regulator = {rid for rid, kind in sessions if kind == EmergencyKind.REGULATOR}
        break_glass = {rid for rid, kind in sessions if kind == EmergencyKind.BREAK_GLASS}
        return [
            SharingFacts(
                granted=granted.get(rid, frozenset()),
                blocked=rid in blocked,
                regulator_open=rid in regulator,
                break_glass_open=rid in break_glass,
            )
            for rid in ids
        ]
