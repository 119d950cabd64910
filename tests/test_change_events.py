"""Every change to a record commits with its access event, or not at all.

With access-event writes failing in the database, each change answers INTERNAL and leaves the
record as it was (nothing kept that the history would not show, as after a crash between the
two); without the fault the same change is kept with exactly one event of its kind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from backend import clock
from backend.domain.enums import AccessAction, EmergencyKind, Section
from backend.models import (
    AccessEvent,
    Account,
    BlockedPractitioner,
    EmergencySession,
    Entry,
    Grant,
    Record,
    Session,
)
from tests import factories
from tests.audit_faults import access_event_writes_fail
from tests.conftest import Caller, session_for
from tests.history_helpers import break_glass, setup

State = Callable[[dict[str, Any]], Awaitable[Any]]


@dataclass
class Change:
    name: str
    action: AccessAction
    mutation: str
    variables: Callable[[dict[str, Any]], dict[str, Any]]
    state: State
    caller: str = "as_patient"
    prepare: Callable[[dict[str, Any]], Awaitable[None]] | None = None
    # Events of the successful call: support's answer also records its reading of the account.
    events: int = 1


async def _grants(s: dict[str, Any]) -> Any:
    rows = await Grant.filter(record_id=s["record"].id)
    return sorted((str(g.practitioner_id), tuple(g.sections)) for g in rows)


async def _blocked(s: dict[str, Any]) -> Any:
    return await BlockedPractitioner.filter(record_id=s["record"].id).count()


async def _record(s: dict[str, Any]) -> Any:
    r = await Record.get(id=s["record"].id)
    return (r.status, r.closed_at, r.deletion_requested_at, r.treating_physician_id,  # type: ignore[attr-defined]
            r.allow_regulator, r.allow_break_glass, r.blood_group, r.advance_directives)


async def _entries(s: dict[str, Any]) -> Any:
    return sorted((str(e.id), e.masked) for e in await Entry.filter(record_id=s["record"].id))


async def _account(s: dict[str, Any]) -> Any:
    a = await Account.get(id=s["patient"].id)
    return (a.code_channel, a.locked_at)


async def _reviews(s: dict[str, Any]) -> Any:
    return [e.review_state for e in await EmergencySession.filter(record_id=s["record"].id)]


async def _fresh(s: dict[str, Any]) -> None:
    await Session.filter(account_id=s["patient"].id).update(fresh_factor_at=clock.now())


async def _blocked_pro(s: dict[str, Any]) -> None:
    await Grant.filter(record_id=s["record"].id).delete()
    await BlockedPractitioner.create(record_id=s["record"].id, practitioner_id=s["pro"].id)


async def _closed(s: dict[str, Any]) -> None:
    await Record.filter(id=s["record"].id).update(status="CLOSED", closed_at=clock.now())


async def _deletion_requested(s: dict[str, Any]) -> None:
    await Record.filter(id=s["record"].id).update(status="DELETED", deletion_requested_at=clock.now())


async def _own_entry(s: dict[str, Any]) -> None:
    s["own"] = await factories.entry(s["record"], Section.MEDICAL_HISTORY, title="Appendicite",
                                     author=s["patient"])


async def _masked_entry(s: dict[str, Any]) -> None:
    await Entry.filter(record_id=s["record"].id).update(masked=True)


async def _emergency(s: dict[str, Any]) -> None:
    s["session"] = await break_glass(s["record"], s["pro"], kind=EmergencyKind.BREAK_GLASS)


async def _locked(s: dict[str, Any]) -> None:
    await Account.filter(id=s["patient"].id).update(locked_at=clock.now(), lock_reason="codes")
    s["as_support"] = Caller(s["client"], session=await session_for(await factories.support()))


def _pro(s: dict[str, Any]) -> dict[str, Any]:
    return {"p": str(s["pro"].id)}


def _first_entry(s: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(s["entry"].id)}


CHANGES = [
    Change("grant", AccessAction.SHARING_CHANGED,
           "mutation($p: ID!) { grantAccess(practitionerId: $p, sections: [MEDICATIONS]) { __typename } }",
           _pro, _grants),
    Change("revoke", AccessAction.SHARING_CHANGED,
           "mutation($p: ID!) { revokeAccess(practitionerId: $p) { __typename } }", _pro, _grants),
    Change("block", AccessAction.SHARING_CHANGED,
           "mutation($p: ID!) { blockPractitioner(practitionerId: $p) { __typename } }", _pro, _blocked),
    Change("unblock", AccessAction.SHARING_CHANGED,
           "mutation($p: ID!) { unblockPractitioner(practitionerId: $p) { __typename } }", _pro, _blocked,
           prepare=_blocked_pro),
    Change("treating physician", AccessAction.SHARING_CHANGED,
           "mutation($p: ID) { setTreatingPhysician(practitionerId: $p) { __typename } }", _pro, _record),
    Change("emergency preferences", AccessAction.SHARING_CHANGED,
           "mutation { setEmergencyPreferences(allowRegulatorAccess: false, allowBreakGlass: false)"
           " { __typename } }", lambda s: {}, _record),
    Change("mask", AccessAction.ENTRY_MASKED,
           "mutation($id: ID!) { maskEntry(id: $id) { id } }", _first_entry, _entries),
    Change("unmask", AccessAction.ENTRY_UNMASKED,
           "mutation($id: ID!) { unmaskEntry(id: $id) { id } }", _first_entry, _entries,
           prepare=_masked_entry),
    Change("mask all", AccessAction.ENTRY_MASKED, "mutation { maskAllEntries }", lambda s: {}, _entries),
    Change("delete", AccessAction.ENTRY_DELETED,
           "mutation($id: ID!) { deleteEntry(id: $id) }", lambda s: {"id": str(s["own"].id)}, _entries,
           prepare=_own_entry),
    Change("emergency profile", AccessAction.EMERGENCY_PROFILE_UPDATED,
           "mutation { updateEmergencyProfile(input: {bloodGroup: \"AB-\", advanceDirectives: \"Aucune\"})"
           " { __typename } }", lambda s: {}, _record),
    Change("close", AccessAction.RECORD_CLOSED, "mutation { closeMyRecord { ins } }", lambda s: {}, _record),
    Change("reopen", AccessAction.RECORD_REOPENED, "mutation { reopenMyRecord { ins } }", lambda s: {},
           _record, prepare=_closed),
    Change("request deletion", AccessAction.DELETION_REQUESTED,
           "mutation { requestRecordDeletion { status } }", lambda s: {}, _record),
    Change("cancel deletion", AccessAction.DELETION_CANCELLED,
           "mutation { cancelRecordDeletion { status } }", lambda s: {}, _record,
           prepare=_deletion_requested),
    Change("acknowledge emergency access", AccessAction.EMERGENCY_REVIEWED,
           "mutation($id: ID!) { acknowledgeEmergencyAccess(id: $id) { __typename } }",
           lambda s: {"id": str(s["session"].id)}, _reviews, prepare=_emergency),
    Change("code channel", AccessAction.SECURITY_CHANGED,
           "mutation { setCodeChannel(channel: EMAIL) }", lambda s: {}, _account, prepare=_fresh),
    Change("support unlock", AccessAction.SUPPORT_ACTION,
           "mutation($i: String!) { unlockAccount(identifier: $i) { __typename } }",
           lambda s: {"i": s["record"].ins}, _account, caller="as_support", prepare=_locked, events=2),
]


async def _events(s: dict[str, Any]) -> list[AccessEvent]:
    return await AccessEvent.filter(record_id=s["record"].id).order_by("seq")


@pytest.mark.parametrize("change", CHANGES, ids=[c.name for c in CHANGES])
async def test_a_change_commits_with_its_event_or_not_at_all(
    client: httpx.AsyncClient, change: Change
) -> None:
    s = await setup(client)
    s["client"] = client
    s["entry"] = await Entry.filter(record_id=s["record"].id).order_by("title").first()
    if change.name == "code channel":
        await Account.filter(id=s["patient"].id).update(code_channel="SMS", phone="+33612345678",
                                                          phone_verified=True)
    if change.prepare is not None:
        await change.prepare(s)
    before = await change.state(s)
    caller: Caller = s[change.caller]
    async with access_event_writes_fail():
        failed = await caller.gql(change.mutation, change.variables(s))
    assert failed.codes == ["INTERNAL"], failed.response.text
    assert await change.state(s) == before
    assert await _events(s) == []
    assert (await Record.get(id=s["record"].id)).event_seq == 0

    (await caller.gql(change.mutation, change.variables(s))).ok()
    assert await change.state(s) != before
    assert [e.action for e in await _events(s)] == [change.action] * change.events


async def test_concurrent_grants_of_one_record_queue_and_all_count(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    await Grant.filter(record_id=s["record"].id).delete()
    others = [await factories.practitioner() for _ in range(3)]
    mutation = ("mutation($p: ID!, $s: [Section!]!) {"
                " grantAccess(practitionerId: $p, sections: $s) { __typename } }")
    calls = [
        s["as_patient"].gql(mutation, {"p": str(pro.id), "s": sections})
        for _, pro in [(None, s["pro"]), *others]
        for sections in (["MEDICATIONS"], ["ALLERGIES"])
    ]
    results = await asyncio.gather(*calls)
    for result in results:
        result.ok()
    grants = await Grant.filter(record_id=s["record"].id)
    assert len(grants) == 4 and all(len(g.sections) == 1 for g in grants)
    events = await _events(s)
    assert [e.seq for e in events] == list(range(1, 9))
    assert {e.action for e in events} == {AccessAction.SHARING_CHANGED}


async def test_security_changes_are_told_in_french(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    await _fresh(s)
    await Account.filter(id=s["patient"].id).update(phone="+33612345678", phone_verified=True)
    (await s["as_patient"].gql("mutation { setCodeChannel(channel: SMS) }")).ok()
    (event,) = await _events(s)
    assert event.reason == "codes de connexion envoyés par SMS"

