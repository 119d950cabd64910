"""An import's items refused by an existing record are a denied attempt in its history (DESIGN §4:
every denied attempt on an existing record is an event): one ACCESS_DENIED a record and batch,
by the insurer, written with the batch's accepted events in the same statement. Items refused
for their input (an INS that fails its key, a date in the future, an invisible externalId),
and items of an INS without a record, write nothing on any record."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

import httpx
from tortoise.transactions import in_transaction

from backend import clock, config
from backend.audit import bulk, writer
from backend.audit import verify as verifying
from backend.domain.enums import AccessAction, AccessMode, Role, Section
from backend.models import AccessEvent, Entry, PurgedIdentity, Record
from backend.purge import purge
from tests import factories
from tests.care_items import IMPORT, QueryCounter, insurer_token, medication_item
from tests.conftest import Caller, session_for

CLOSE = "mutation { closeMyRecord { status } }"
DELETE = "mutation { requestRecordDeletion { status } }"
HISTORY = """{ myAccessHistory(first: 20) {
  edges { node { action mode reason actorName actorRole actorId sections } } } }"""
INSURER_ACTOR = writer.Actor(None, "Assurance maladie", None, Role.INSURER.value)


def device_item(ins: str, n: int, **over: Any) -> dict[str, Any]:
    item = medication_item(ins, n, externalId=f"DEV-{n}", section="MEDICAL_DEVICES",
                           code="1234567", title=f"Tensiomètre #{n}",
                           details={"lppCode": "1234567", "quantity": 1})
    item.update(over)
    return item


async def _events(record_id: uuid.UUID) -> list[AccessEvent]:
    return list(await AccessEvent.filter(record_id=record_id).order_by("seq"))


async def _chain_valid() -> None:
    report = await verifying.verify(config.settings().audit_key)
    assert report.ok, report.problems[:5]


class _Inserts(QueryCounter):
    """The statements that insert access events, while installed."""

    def emit(self, record: logging.LogRecord) -> None:
        query = str(record.args[0]) if isinstance(record.args, tuple) and record.args else ""
        if record.msg == "%s: %s" and 'INSERT INTO "access_event"' in query:
            self.count += 1


async def test_refused_items_write_one_denied_event_on_their_record_with_the_accepted_ones(
    client: httpx.AsyncClient,
) -> None:
    _, accepting = await factories.patient()  # born 1985-06-12, as the items say
    closed_owner, closed = await factories.patient()
    _, other_birth = await factories.patient()
    _, untouched = await factories.patient()
    owner = Caller(client, session=await session_for(closed_owner))
    assert (await owner.gql(CLOSE)).ok()["closeMyRecord"]["status"] == "CLOSED"
    closed_seq = (await Record.get(id=closed.id)).event_seq
    records_before = await Record.all().count()
    bad_key = accepting.ins[:13] + f"{(int(accepting.ins[13:]) + 1) % 100:02d}"
    future = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    items = [
        medication_item(accepting.ins, 1),                                # 0 accepted
        medication_item(closed.ins, 2),                                   # 1 closed record
        device_item(closed.ins, 3),                                       # 2 closed record
        medication_item(closed.ins, 4),                                   # 3 closed record
        medication_item(other_birth.ins, 5),                              # 4 the batch gives two birth dates
        medication_item(other_birth.ins, 6, birthDate="1990-01-01"),      # 5 another birth date
        medication_item(other_birth.ins, 7, birthDate="1990-01-01"),      # 6 another birth date
        medication_item(bad_key, 8),                                      # 7 INS fails its key
        medication_item(untouched.ins, 9, date=future),                   # 8 input error
        medication_item(untouched.ins, 10, externalId="MED\u200b10"),     # 9 invisible id
        medication_item(factories.new_ins(), 11, date=future),            # 10 input error, no record
    ]
    insurer = Caller(client, token=await insurer_token())
    with _Inserts() as inserts:
        payload = (await insurer.gql(IMPORT, {"items": items})).ok()["importCareHistory"]
    assert (payload["created"], payload["accepted"]) == (1, 1)
    assert [(r["index"], r["code"]) for r in payload["rejected"]] == [
        (1, "FORBIDDEN"), (2, "FORBIDDEN"), (3, "FORBIDDEN"), (4, "BAD_USER_INPUT"), (5, "BAD_USER_INPUT"),
        (6, "BAD_USER_INPUT"), (7, "BAD_USER_INPUT"), (8, "BAD_USER_INPUT"), (9, "BAD_USER_INPUT"),
        (10, "BAD_USER_INPUT"),
    ]
    # The accepted and the denied events in one statement (one per batch, as before).
    assert inserts.count == 1

    assert [(e.action, e.mode, e.sections) for e in await _events(accepting.id)] == [
        ("ENTRIES_IMPORTED", "INSURER", ["MEDICATIONS"]),
    ]
    on_closed = await _events(closed.id)
    assert [e.seq for e in on_closed] == list(range(1, closed_seq + 2))
    denied = on_closed[-1]
    assert on_closed[-2].action == "RECORD_CLOSED"
    assert (denied.action, denied.mode, sorted(denied.sections), denied.reason) == (
        "ACCESS_DENIED", "INSURER", ["MEDICAL_DEVICES", "MEDICATIONS"], "import refusé : dossier fermé"
    )
    assert (denied.actor_role, denied.actor_id) == (Role.INSURER.value, None)
    # Given two birth dates by the batch, the record took none of its items (its own date's
    # included): one denied attempt.
    assert [(e.action, e.mode, e.sections) for e in await _events(other_birth.id)] == [
        ("ACCESS_DENIED", "INSURER", ["MEDICATIONS"]),
    ]
    assert (await Record.get(id=other_birth.id)).event_seq == 1
    # Input errors: nothing on any record, and no record opened.
    assert await _events(untouched.id) == []
    assert (await Record.get(id=untouched.id)).event_seq == 0
    assert await Record.all().count() == records_before
    assert await Entry.filter(record_id=closed.id).count() == 0
    await _chain_valid()

    # The closed record's owner reads the attempt in their history, by the insurer.
    nodes = [e["node"] for e in (await owner.gql(HISTORY)).ok()["myAccessHistory"]["edges"]]
    insurer_events = [n for n in nodes if n["actorRole"] == Role.INSURER.value]
    assert len(insurer_events) == 1
    seen = insurer_events[0]
    assert (seen["action"], seen["mode"], seen["reason"], seen["actorId"]) == (
        "ACCESS_DENIED", "INSURER", "import refusé : dossier fermé", None
    )
    assert seen["actorName"] == denied.actor_name and seen["actorName"]
    assert sorted(seen["sections"]) == ["MEDICAL_DEVICES", "MEDICATIONS"]


async def test_a_record_pending_deletion_refuses_with_a_denied_event(client: httpx.AsyncClient) -> None:
    account, record = await factories.patient()
    owner = Caller(client, session=await session_for(account))
    assert (await owner.gql(DELETE)).ok()["requestRecordDeletion"]["status"] == "DELETED"
    before = (await Record.get(id=record.id)).event_seq
    insurer = Caller(client, token=await insurer_token())
    items = [medication_item(record.ins, n) for n in range(3)]
    payload = (await insurer.gql(IMPORT, {"items": items})).ok()["importCareHistory"]
    assert payload["accepted"] == 0 and {r["code"] for r in payload["rejected"]} == {"FORBIDDEN"}
    events = await _events(record.id)
    assert [(e.seq, e.action, e.mode) for e in events[before:]] == [
        (before + 1, "ACCESS_DENIED", "INSURER")
    ]
    # Each batch is its own attempt.
    (await insurer.gql(IMPORT, {"items": items})).ok()
    assert [e.action for e in (await _events(record.id))[before:]] == ["ACCESS_DENIED"] * 2
    await _chain_valid()


async def test_a_purged_or_new_identity_gets_no_denied_event(client: httpx.AsyncClient) -> None:
    """A purged record's items are refused with nothing to write on; a record this batch opens
    takes its import's event only, though later items of the batch give another birth date."""
    insurer = Caller(client, token=await insurer_token())
    account, record = await factories.patient()
    owner = Caller(client, session=await session_for(account))
    (await insurer.gql(IMPORT, {"items": [medication_item(record.ins, 1)]})).ok()
    assert (await owner.gql(DELETE)).ok()["requestRecordDeletion"]["status"] == "DELETED"
    clock.shift(dt.timedelta(days=31))
    assert (await purge()).deleted == 1
    assert await PurgedIdentity.all().count() == 1
    events_before = await AccessEvent.all().count()

    new_ins = factories.new_ins()
    items = [medication_item(record.ins, 2), medication_item(new_ins, 3),
             medication_item(new_ins, 4, birthDate="1990-01-01")]
    payload = (await insurer.gql(IMPORT, {"items": items})).ok()["importCareHistory"]
    assert [(r["index"], r["code"]) for r in payload["rejected"]] == [
        (0, "FORBIDDEN"), (2, "BAD_USER_INPUT")
    ]
    assert not await Record.filter(ins=record.ins).exists()
    opened = await Record.get(ins=new_ins)
    assert [(e.action, e.reason != "") for e in await _events(opened.id)] == [
        ("ENTRIES_IMPORTED", True)
    ]
    assert await AccessEvent.all().count() == events_before + 1
    await _chain_valid()


async def test_the_bulk_writer_chains_several_events_of_a_record_in_order(
    client: httpx.AsyncClient,
) -> None:
    records = [(await factories.patient())[1] for _ in range(3)]
    first = records[0].id
    await writer.append(INSURER_ACTOR, writer.PendingEvent(first, AccessAction.ENTRIES_IMPORTED))

    def event(record_id: uuid.UUID, action: AccessAction, section: Section) -> writer.PendingEvent:
        pending = writer.PendingEvent(record_id, action)
        pending.add(AccessMode.INSURER, {section})
        return pending

    batch = [
        event(first, AccessAction.ENTRIES_IMPORTED, Section.MEDICATIONS),
        event(records[1].id, AccessAction.ACCESS_DENIED, Section.IMAGING),
        event(first, AccessAction.ACCESS_DENIED, Section.PROCEDURES),
        event(records[2].id, AccessAction.ENTRIES_IMPORTED, Section.LAB_RESULTS),
        event(records[2].id, AccessAction.ACCESS_DENIED, Section.LAB_RESULTS),
        event(records[2].id, AccessAction.ACCESS_DENIED, Section.MEDICATIONS),
    ]
    async with in_transaction() as conn:
        assert await bulk.append_in_order(conn, INSURER_ACTOR, batch) == 6
    assert [(e.seq, e.action, e.sections) for e in await _events(first)] == [
        (1, "ENTRIES_IMPORTED", []), (2, "ENTRIES_IMPORTED", ["MEDICATIONS"]),
        (3, "ACCESS_DENIED", ["PROCEDURES"]),
    ]
    assert [(e.seq, e.action) for e in await _events(records[2].id)] == [
        (1, "ENTRIES_IMPORTED"), (2, "ACCESS_DENIED"), (3, "ACCESS_DENIED"),
    ]
    heads = dict(await Record.filter(id__in=[r.id for r in records]).values_list("id", "event_seq"))
    assert sorted(heads.values()) == [1, 3, 3]
    # A later single write continues each chain.
    await writer.append(INSURER_ACTOR, writer.PendingEvent(records[2].id, AccessAction.ENTRIES_IMPORTED))
    await _chain_valid()

    # A record that does not exist fails the whole batch: nothing of it is written.
    before = await AccessEvent.all().count()
    try:
        async with in_transaction() as conn:
            await bulk.append_in_order(conn, INSURER_ACTOR, [
                event(first, AccessAction.ACCESS_DENIED, Section.MEDICATIONS),
                event(uuid.uuid4(), AccessAction.ACCESS_DENIED, Section.MEDICATIONS),
            ])
    except LookupError:
        pass
    else:
        raise AssertionError("a missing record was not refused")
    assert await AccessEvent.all().count() == before
    assert (await Record.get(id=first)).event_seq == 3

