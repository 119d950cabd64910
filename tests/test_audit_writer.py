"""One event per record per request, written before the response; withheld if it can't be."""

from __future__ import annotations

import httpx

from backend.domain.enums import AccessAction, AccessMode, Section
from backend.models import AccessEvent, Entry, OutboxMessage, Record
from tests.audit_faults import access_event_writes_fail
from tests.history_helpers import READ, break_glass, grant, setup


async def events(record: Record) -> list[AccessEvent]:
    return await AccessEvent.filter(record_id=record.id).order_by("seq")


async def test_one_read_event_per_record_with_the_sections_returned(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    data = (await s["as_pro"].gql(READ, {"ins": s["record"].ins})).ok()
    assert data["patientRecord"]["medications"]["edges"][0]["node"]["title"] == "Amoxicilline"
    rows = await events(s["record"])
    assert len(rows) == 1
    (event,) = rows
    assert event.action == AccessAction.RECORD_READ
    assert event.mode == AccessMode.GRANTED
    assert event.sections == ["ALLERGIES", "MEDICATIONS"]
    assert event.seq == 1
    assert event.actor_id == str(s["pro_account"].id)
    assert (await Record.get(id=s["record"].id)).event_seq == 1


async def test_identity_only_read_is_an_event_without_sections(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    (await s["as_pro"].gql("query($ins: String!){ patientRecord(ins: $ins) { ins } }",
                           {"ins": s["record"].ins})).ok()
    (event,) = await events(s["record"])
    assert event.sections == [] and event.mode == AccessMode.GRANTED


async def test_each_event_holds_the_sections_read_in_its_mode(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    record, pro = s["record"], s["pro"]
    await grant_only_medications(record, pro)
    await break_glass(record, pro)
    q_allergies = "query($ins: String!){ patientRecord(ins: $ins) { allergies { totalCount } } }"
    (await s["as_pro"].gql(q_allergies, {"ins": record.ins})).ok()
    (await s["as_pro"].gql(READ, {"ins": record.ins})).ok()
    first, second, third = await events(record)
    # Only ALLERGIES, read under break-glass: the event says so.
    assert (first.mode, first.sections) == (AccessMode.BREAK_GLASS, ["ALLERGIES"])
    # MEDICATIONS (granted) and ALLERGIES (break-glass) in one request: an event in each
    # mode, the grant's first, so that the break-glass read stands out in the history.
    assert (second.mode, second.sections) == (AccessMode.GRANTED, ["MEDICATIONS"])
    assert (third.mode, third.sections) == (AccessMode.BREAK_GLASS, ["ALLERGIES"])


async def grant_only_medications(record: Record, pro: object) -> None:
    from backend.models import Grant

    await Grant.filter(record_id=record.id).delete()
    await grant(record, pro, Section.MEDICATIONS)  # type: ignore[arg-type]


async def test_owner_reads_are_not_events(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    (await s["as_patient"].gql("{ myRecord { ins medications { totalCount } } }")).ok()
    assert await events(s["record"]) == []


async def test_denied_attempt_is_an_event_with_no_sections(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    from backend.models import Grant

    await Grant.filter(record_id=s["record"].id).delete()
    result = await s["as_pro"].gql(READ, {"ins": s["record"].ins})
    assert result.codes == ["FORBIDDEN"]
    (event,) = await events(s["record"])
    assert event.action == AccessAction.ACCESS_DENIED and event.sections == []


async def test_failed_write_withholds_every_medical_byte(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    async with access_event_writes_fail():
        result = await s["as_pro"].gql(READ, {"ins": s["record"].ins})
    assert result.codes == ["INTERNAL"]
    assert result.data is None
    body = result.response.text
    assert "Amoxicilline" not in body and "Pénicilline" not in body and s["record"].ins not in body
    # Nothing half-written: no event, no advanced head, no first-access notice.
    assert await events(s["record"]) == []
    assert (await Record.get(id=s["record"].id)).event_seq == 0
    assert await OutboxMessage.filter(record_id=s["record"].id).count() == 0
    # The fault gone, the same read works and is logged.
    (await s["as_pro"].gql(READ, {"ins": s["record"].ins})).ok()
    assert len(await events(s["record"])) == 1


async def test_failed_write_withholds_the_break_glass_payload(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    from backend.models import Grant

    await Grant.filter(record_id=s["record"].id).delete()
    mutation = """mutation($ins: String!) {
      openBreakGlass(ins: $ins, reason: "Patient inconscient, allergies à vérifier") {
        mode record { allergies { edges { node { title } } } }
      }
    }"""
    async with access_event_writes_fail():
        result = await s["as_pro"].gql(mutation, {"ins": s["record"].ins})
    assert result.codes == ["INTERNAL"]
    assert result.data is None
    assert "Pénicilline" not in result.response.text
    assert await events(s["record"]) == []
    # The opening and its event commit together: no unrecorded session, no notice.
    from backend.models import EmergencySession

    assert not await EmergencySession.filter(record_id=s["record"].id).exists()
    assert not await OutboxMessage.filter(record_id=s["record"].id).exists()



async def test_failed_write_withholds_the_regulator_payload(client: httpx.AsyncClient) -> None:
    from tests import factories
    from tests.conftest import Caller, session_for

    s = await setup(client)
    regulator_account, _ = await factories.practitioner(regulator=True)
    as_regulator = Caller(client, session=await session_for(regulator_account))
    mutation = """mutation($ins: String!) {
      regulatorAccess(ins: $ins, reason: "Appel au 15, douleur thoracique") {
        mode record { medications { edges { node { title } } } }
      }
    }"""
    async with access_event_writes_fail():
        result = await as_regulator.gql(mutation, {"ins": s["record"].ins})
    assert result.codes == ["INTERNAL"] and result.data is None
    assert "Amoxicilline" not in result.response.text
    assert await events(s["record"]) == []
    ok = (await as_regulator.gql(mutation, {"ins": s["record"].ins})).ok()["regulatorAccess"]
    assert ok["record"]["medications"]["edges"][0]["node"]["title"] == "Amoxicilline"


async def test_failed_write_withholds_the_added_entry_payload(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    mutation = """mutation($input: AddEntryInput!) {
      addEntry(input: $input) { entry { id title ... on AllergyEntry { substance } } }
    }"""
    variables = {"input": {"ins": s["record"].ins, "section": "ALLERGIES", "title": "Arachide",
                           "date": "2024-05-02", "allergy": {"substance": "Arachide"}}}
    async with access_event_writes_fail():
        result = await s["as_pro"].gql(mutation, variables)
    assert result.codes == ["INTERNAL"] and result.data is None
    assert "Arachide" not in result.response.text
    assert await events(s["record"]) == []
    # The change and its event commit together: no entry was kept without its event.
    assert not await Entry.filter(record_id=s["record"].id, title="Arachide").exists()
    # Without the fault the same call answers, and is logged.
    entry = (await s["as_pro"].gql(mutation, variables)).ok()["addEntry"]["entry"]
    assert entry["substance"] == "Arachide"
    assert [e.action for e in await events(s["record"])] == ["ENTRY_ADDED"]
