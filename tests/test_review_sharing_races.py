"""Two treating physicians named at once, and a grant and its revocation sent at once: one
treating physician and at most one grant row remain, and the history's last change names
what remains (each change is written under the record's lock, in the order it commits)."""

from __future__ import annotations

import asyncio

import httpx

from backend.domain.enums import AccessAction, Profession
from backend.models import AccessEvent, Grant, Record
from tests import factories
from tests.conftest import Caller, session_for

TREATING = """mutation($p: ID) {
  setTreatingPhysician(practitionerId: $p) { sharing { treatingPhysician { id } } } }"""
GRANT = """mutation($p: ID!) {
  grantAccess(practitionerId: $p, sections: [ALLERGIES]) { sharing { grants { sections } } } }"""
REVOKE = "mutation($p: ID!) { revokeAccess(practitionerId: $p) { sharing { grants { sections } } } }"


async def _changes(record: Record) -> list[AccessEvent]:
    return await AccessEvent.filter(
        record_id=record.id, action=AccessAction.SHARING_CHANGED.value).order_by("seq")


async def test_two_physicians_named_at_once_leave_one_and_the_history_says_which(
    client: httpx.AsyncClient,
) -> None:
    account, record = await factories.patient()
    caller = Caller(client, session=await session_for(account))
    _, first = await factories.practitioner(Profession.MEDECIN)
    _, second = await factories.practitioner(Profession.MEDECIN)
    names = {first.id: first.rpps, second.id: second.rpps}
    for _ in range(6):
        before = len(await _changes(record))
        answers = await asyncio.gather(
            caller.gql(TREATING, {"p": str(first.id)}), caller.gql(TREATING, {"p": str(second.id)}))
        for answer in answers:
            answer.ok()
        named = (await Record.get(id=record.id)).treating_physician_id  # type: ignore[attr-defined]
        assert named in names
        changes = await _changes(record)
        assert len(changes) - before == 2  # from none to one, then to the other
        assert names[named] in changes[-1].reason
        (await caller.gql(TREATING, {"p": None})).ok()


async def test_a_grant_and_its_revocation_sent_at_once_leave_at_most_one_row(
    client: httpx.AsyncClient,
) -> None:
    account, record = await factories.patient()
    caller = Caller(client, session=await session_for(account))
    _, nurse = await factories.practitioner(Profession.INFIRMIER)
    for _ in range(6):
        await asyncio.gather(*(
            caller.gql(query, {"p": str(nurse.id)}) for query in (GRANT, REVOKE, GRANT, REVOKE)))
        rows = await Grant.filter(record_id=record.id).count()
        assert rows in (0, 1)
        last = (await _changes(record))[-1]
        assert ("accordé" in last.reason) == (rows == 1)
        (await caller.gql(REVOKE, {"p": str(nurse.id)})).ok()
