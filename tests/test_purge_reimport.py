"""A purged record stays purged: an insurer's batch sent again after the purge does not open a
new record with the deleted history (DESIGN §2: imports into a deleted record are refused per
item), until the patient has a record opened again at the point of care."""

from __future__ import annotations

import dataclasses
import os
from datetime import timedelta

import httpx

from backend import clock, config
from backend.domain.enums import RecordStatus
from backend.models import AccessEvent, ActivationCode, Entry, OutboxMessage, PurgedIdentity, Record
from backend.purge import purge
from tests import factories
from tests.care_items import IMPORT, insurer_token, medication_item
from tests.conftest import Caller, session_for
from tests.lifecycle_rows import set_state
from tests.test_auth_signup import OPEN

DELETE = "mutation { requestRecordDeletion { status } }"


def _items(ins: str, count: int = 3) -> list[dict[str, object]]:
    return [medication_item(ins, n, contactEmail="alice@test.dmp") for n in range(count)]


async def _purged_after_deletion(client: httpx.AsyncClient, insurer: Caller) -> str:
    """A record the insurer imported into, deleted at its owner's request and purged."""
    account, record = await factories.patient()  # born 1985-06-12, as the items say
    first = (await insurer.gql(IMPORT, {"items": _items(record.ins)})).ok()["importCareHistory"]
    assert first["created"] == 3
    owner = Caller(client, session=await session_for(account))
    assert (await owner.gql(DELETE)).ok()["requestRecordDeletion"]["status"] == "DELETED"
    clock.shift(timedelta(days=31))
    assert (await purge()).deleted == 1
    assert not await Record.filter(ins=record.ins).exists()
    return record.ins


async def test_an_import_sent_again_after_the_purge_opens_nothing(client: httpx.AsyncClient) -> None:
    insurer = Caller(client, token=await insurer_token())
    ins = await _purged_after_deletion(client, insurer)
    other = factories.new_ins()
    outbox_before = await OutboxMessage.all().count()

    again = (await insurer.gql(IMPORT, {"items": [*_items(ins), medication_item(other, 7)]})).ok()
    payload = again["importCareHistory"]
    # The purged patient's items are refused one by one, as a deleted record's are; another
    # patient's item in the same batch still opens their record.
    assert payload["accepted"] == 1 and payload["created"] == 1
    assert [(r["index"], r["code"]) for r in payload["rejected"]] == [
        (0, "FORBIDDEN"), (1, "FORBIDDEN"), (2, "FORBIDDEN")
    ]
    assert {r["message"] for r in payload["rejected"]} == {"The record is closed or deleted"}
    assert not await Record.filter(ins=ins).exists()
    assert await Entry.all().count() == 1
    assert await ActivationCode.all().count() == 0  # no code e-mailed to the purged patient
    assert await OutboxMessage.filter(recipient="alice@test.dmp").count() == 0
    assert await OutboxMessage.all().count() == outbox_before
    opened = await Record.get(ins=other)
    assert opened.status == RecordStatus.PENDING
    assert await AccessEvent.filter(record_id=opened.id).count() == 1


async def test_what_is_kept_of_a_purged_record_holds_no_ins(client: httpx.AsyncClient) -> None:
    insurer = Caller(client, token=await insurer_token())
    ins = await _purged_after_deletion(client, insurer)
    kept = await PurgedIdentity.all().values("ins_mac", "purged_at")
    assert len(kept) == 1 and len(kept[0]["ins_mac"]) == 64
    assert ins not in kept[0]["ins_mac"]
    # Under another audit key the same INS gives another hash: it cannot be found by hashing
    # every possible INS without the key.
    saved = config.settings()
    config.reset(dataclasses.replace(saved, audit_key=os.urandom(32)))
    try:
        again = (await insurer.gql(IMPORT, {"items": _items(ins, 1)})).ok()["importCareHistory"]
        assert again["created"] == 1  # not recognised: a new record is opened
    finally:
        config.reset(saved)


async def test_a_purge_is_still_recognised_during_an_audit_key_rotation(client: httpx.AsyncClient) -> None:
    insurer = Caller(client, token=await insurer_token())
    ins = await _purged_after_deletion(client, insurer)
    saved = config.settings()
    config.reset(dataclasses.replace(saved, audit_key=os.urandom(32), previous_audit_key=saved.audit_key))
    try:
        again = (await insurer.gql(IMPORT, {"items": _items(ins, 1)})).ok()["importCareHistory"]
    finally:
        config.reset(saved)
    assert again["accepted"] == 0 and [r["code"] for r in again["rejected"]] == ["FORBIDDEN"]
    assert not await Record.filter(ins=ins).exists()


async def test_a_record_opened_at_the_point_of_care_takes_imports_again(client: httpx.AsyncClient) -> None:
    insurer = Caller(client, token=await insurer_token())
    ins = await _purged_after_deletion(client, insurer)
    pro, _ = await factories.practitioner()
    doctor = Caller(client, session=await session_for(pro))
    identity = {"ins": ins, "firstName": "Alice", "lastName": "Martin", "birthDate": "1985-06-12"}
    assert (await doctor.gql(OPEN, {"input": identity})).ok()["openRecordForPatient"]["ins"] == ins
    assert await PurgedIdentity.all().count() == 0

    again = (await insurer.gql(IMPORT, {"items": _items(ins)})).ok()["importCareHistory"]
    assert again["created"] == 3 and again["rejected"] == []
    record = await Record.get(ins=ins)
    assert await Entry.filter(record_id=record.id).count() == 3


async def test_a_closed_record_purged_after_ten_years_is_not_opened_again(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    await set_state(record.id, RecordStatus.CLOSED, clock.now())
    clock.shift(timedelta(days=365 * 10 + 3))
    assert (await purge()).closed == 1
    insurer = Caller(client, token=await insurer_token())
    again = (await insurer.gql(IMPORT, {"items": _items(record.ins, 1)})).ok()["importCareHistory"]
    assert again["accepted"] == 0 and [r["code"] for r in again["rejected"]] == ["FORBIDDEN"]
    assert not await Record.filter(ins=record.ins).exists()
