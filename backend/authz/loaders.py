"""Per-request DataLoaders for the sharing facts of the current practitioner."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from functools import lru_cache, partial
from typing import Any

from strawberry.dataloader import DataLoader

from backend import clock, sql
from backend.authz.decision import NO_SHARING, SharingFacts
from backend.domain.enums import SECTION_BY_VALUE, EmergencyKind
from backend.models import Grant, Record
from backend.resolvers.entry_pages import PageRequest, PageRows, load_pages


class Loaders:
    def __init__(self, practitioner_id: uuid.UUID | None) -> None:
        # A function of the practitioner, not a bound method: the loader holding a method of
        # its owner would make a reference cycle, keeping the request's rows for the collector.
        self.sharing: DataLoader[uuid.UUID, SharingFacts] = DataLoader(
            load_fn=partial(load_sharing, practitioner_id)
        )
        # Pages of entries asked for in one request, read in one statement.
        self.pages: DataLoader[PageRequest, PageRows] = DataLoader(load_fn=load_pages)


async def load_sharing(
    pid: uuid.UUID | None, record_ids: Sequence[uuid.UUID]
) -> list[SharingFacts]:
    """What each record shares with practitioner `pid`, in one statement."""
    if pid is None:
        return [NO_SHARING for _ in record_ids]
    ids = list(record_ids)
    places = ", ".join(f"${n}" for n in range(5, 5 + len(ids)))
    statement = (
        f'SELECT r."id", {sharing_columns(1)} FROM "record" r {sharing_join(1)}'  # noqa: S608 - placeholders only
        f' WHERE r."id" IN ({places})'
    )
    rows = await sql.fetch(statement, [*sharing_params(pid, clock.now()), *ids])
    found = {sql.value(Record, "id", row["id"]): sharing_from_row(row) for row in rows}
    return [found.get(rid, NO_SHARING) for rid in ids]


# What a record shares with one practitioner, read in the statement that reads the record (or
# its id): columns and a join over "record" r, with four parameters from $first on (the
# practitioner's id, the two emergency kinds, now; `sharing_params` gives them in order).
# Statements of the consultation's path and the per-request loader both use them: the facts
# the access decision runs on are read one way.
@lru_cache(maxsize=8)
def sharing_columns(first: int) -> str:
    pid, regulator, break_glass, now = (f"${first + k}" for k in range(4))
    # Only fixed text and $n placeholders go into the statement; values are parameters.
    return (
        'g."sections" AS "shared_sections",'  # noqa: S608
        ' EXISTS(SELECT 1 FROM "blocked_practitioner" b'
        f' WHERE b."record_id" = r."id" AND b."practitioner_id" = {pid}) AS "is_blocked",'
        ' EXISTS(SELECT 1 FROM "emergency_session" s WHERE s."record_id" = r."id"'
        f' AND s."practitioner_id" = {pid} AND s."kind" = {regulator} AND s."expires_at" > {now})'
        ' AS "regulator_open",'
        ' EXISTS(SELECT 1 FROM "emergency_session" s WHERE s."record_id" = r."id"'
        f' AND s."practitioner_id" = {pid} AND s."kind" = {break_glass} AND s."expires_at" > {now})'
        ' AS "break_glass_open"'
    )


@lru_cache(maxsize=8)
def sharing_join(first: int) -> str:
    return f'LEFT JOIN "grant" g ON g."record_id" = r."id" AND g."practitioner_id" = ${first}'


_REGULATOR, _BREAK_GLASS = str(EmergencyKind.REGULATOR), str(EmergencyKind.BREAK_GLASS)


def sharing_params(practitioner_id: uuid.UUID | None, now: dt.datetime) -> list[Any]:
    return [practitioner_id, _REGULATOR, _BREAK_GLASS, now]


def sharing_from_row(row: Any) -> SharingFacts:
    sections = sql.value(Grant, "sections", row["shared_sections"]) or []
    return SharingFacts(
        granted=frozenset(map(SECTION_BY_VALUE.__getitem__, sections)),
        blocked=bool(row["is_blocked"]),
        regulator_open=bool(row["regulator_open"]),
        break_glass_open=bool(row["break_glass_open"]),
    )
