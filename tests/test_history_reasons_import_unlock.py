"""Two events the patient read without their reason, now written with one (backend/audit/reasons.py):

- an import's items refused by an existing record: the denied attempt says why — the record
  closed, its deletion requested, or another birth date than the record's;
- `dmp unlock-account` on a patient's account: one event in the record's history, by the
  operator (SUPPORT_ACTION, « déblocage de la connexion par l'exploitant »), written with the
  unlock and before its notice, in the same transaction; nothing for an account without a
  record, nor for a refused command."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from backend import accounts, clock, config
from backend.audit import reasons
from backend.audit import verify as verifying
from backend.models import AccessEvent, Account, OutboxMessage, Record
from tests import factories
from tests.care_items import IMPORT, insurer_token, medication_item
from tests.conftest import Caller, session_for
from tests.server import run_dmp

CLOSE = "mutation { closeMyRecord { status } }"
DELETE = "mutation { requestRecordDeletion { status } }"
HISTORY = """{ myAccessHistory(first: 20) {
  edges { node { action mode reason actorName actorRole actorId sections } } } }"""


async def _events(record_id: uuid.UUID) -> list[AccessEvent]:
    return list(await AccessEvent.filter(record_id=record_id).order_by("seq"))


async def _chain_valid() -> None:
    report = await verifying.verify(config.settings().audit_key)
    assert report.ok, report.problems[:5]


async def _history(caller: Caller) -> list[dict[str, Any]]:
    return [e["node"] for e in (await caller.gql(HISTORY)).ok()["myAccessHistory"]["edges"]]


# --- an import's refused items -------------------------------------------------------------


async def test_each_refusing_record_reads_why_the_import_was_refused(client: httpx.AsyncClient) -> None:
    closed_owner, closed = await factories.patient()
    deleting_owner, deleting = await factories.patient()
    other_owner, other_birth = await factories.patient()
    assert (await Caller(client, session=await session_for(closed_owner)).gql(CLOSE)).ok()
    assert (await Caller(client, session=await session_for(deleting_owner)).gql(DELETE)).ok()
    items = [
        medication_item(closed.ins, 1),
        medication_item(deleting.ins, 2),
        medication_item(other_birth.ins, 4, birthDate="1990-01-01"),  # another birth date
    ]
    insurer = Caller(client, token=await insurer_token())
    payload = (await insurer.gql(IMPORT, {"items": items})).ok()["importCareHistory"]
    assert [(r["index"], r["code"]) for r in payload["rejected"]] == [
        (0, "FORBIDDEN"), (1, "FORBIDDEN"), (2, "BAD_USER_INPUT"),
    ]
    assert (await _events(closed.id))[-1].reason == "import refusé : dossier fermé"
    assert (await _events(deleting.id))[-1].reason == "import refusé : suppression du dossier demandée"
    assert [(e.action, e.reason) for e in await _events(other_birth.id)] == [
        ("ACCESS_DENIED", "import refusé : date de naissance différente"),
    ]
    for record_id, reason in ((closed.id, reasons.IMPORT_REFUSED_CLOSED),
                              (deleting.id, reasons.IMPORT_REFUSED_DELETION),
                              (other_birth.id, reasons.IMPORT_REFUSED_IDENTITY)):
        denied = [e for e in await _events(record_id) if e.action == "ACCESS_DENIED"]
        assert [(e.mode, e.sections, e.reason) for e in denied] == [("INSURER", ["MEDICATIONS"], reason)]
    await _chain_valid()

    # The owners read it so in their history (a closed record's too).
    for account, reason in ((closed_owner, reasons.IMPORT_REFUSED_CLOSED),
                            (other_owner, reasons.IMPORT_REFUSED_IDENTITY)):
        nodes = await _history(Caller(client, session=await session_for(account)))
        assert [(n["action"], n["reason"]) for n in nodes if n["actorRole"] == "INSURER"
                and n["action"] == "ACCESS_DENIED"] == [("ACCESS_DENIED", reason)]


async def test_a_record_opened_by_the_batch_still_writes_no_denied_attempt(client: httpx.AsyncClient) -> None:
    new_ins = factories.new_ins()
    items = [medication_item(new_ins, 1), medication_item(new_ins, 2, birthDate="1990-01-01")]
    insurer = Caller(client, token=await insurer_token())
    (await insurer.gql(IMPORT, {"items": items})).ok()
    opened = await Record.get(ins=new_ins)
    assert [(e.action, e.reason) for e in await _events(opened.id)] == [
        ("ENTRIES_IMPORTED", reasons.OPENED_BY_IMPORT)
    ]


# --- the operator's unlock -----------------------------------------------------------------

REASON = "too many wrong codes"


async def _lock(account: Account) -> None:
    await Account.filter(id=account.id).update(
        locked_at=clock.now(), lock_reason=REASON, failure_count=10, failure_day=clock.now().date())


async def test_a_patients_unlock_by_the_operator_is_in_their_history(client: httpx.AsyncClient) -> None:
    patient, record = await factories.patient(email="lea.history@test.dmp")
    await _lock(patient)
    before = await _events(record.id)
    done = run_dmp("unlock-account", "lea.history@test.dmp")
    assert done.returncode == 0, done.stderr
    assert (await Account.get(id=patient.id)).locked_at is None
    assert await OutboxMessage.filter(account_id=patient.id).count() == 1
    after = await _events(record.id)
    assert after[:len(before)] == before
    (event,) = after[len(before):]
    assert (event.action, event.mode, event.reason, event.actor_id, event.actor_name, event.sections) == (
        "SUPPORT_ACTION", None, "déblocage de la connexion par l'exploitant", None, accounts.OPERATOR, [],
    )
    assert (await Record.get(id=record.id)).event_seq == event.seq
    await _chain_valid()

    nodes = await _history(Caller(client, session=await session_for(patient)))
    assert [(n["action"], n["reason"], n["actorName"], n["actorId"]) for n in nodes
            if n["action"] == "SUPPORT_ACTION"] == [
        ("SUPPORT_ACTION", reasons.OPERATOR_UNLOCKED, accounts.OPERATOR, None)
    ]


async def test_a_refused_unlock_command_writes_nothing() -> None:
    patient, record = await factories.patient(email="free.history@test.dmp")
    events = await AccessEvent.all().count()
    done = run_dmp("unlock-account", "free.history@test.dmp")  # not locked
    assert done.returncode == 1 and "is not locked" in done.stderr
    done = run_dmp("unlock-account", "nobody.history@test.dmp")
    assert done.returncode == 1 and "no account" in done.stderr
    assert await AccessEvent.all().count() == events
    assert await OutboxMessage.all().count() == 0
    assert (await Record.get(id=record.id)).event_seq == len(await _events(record.id))


async def test_an_account_without_a_record_gets_its_unlock_and_no_event() -> None:
    doctor, _ = await factories.practitioner()
    await _lock(doctor)
    events = await AccessEvent.all().count()
    assert await accounts.unlock_by_operator(doctor) is True
    assert (await Account.get(id=doctor.id)).locked_at is None
    assert await OutboxMessage.filter(account_id=doctor.id).count() == 1
    assert await AccessEvent.all().count() == events


async def test_the_event_is_written_before_the_notice_in_one_transaction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    patient, record = await factories.patient()
    await _lock(patient)
    seen: list[list[str]] = []
    original = accounts.notify_security

    async def notice(account: Account, what: str, *, using_db: Any = None) -> Any:
        rows = await AccessEvent.filter(record_id=record.id).using_db(using_db).order_by("seq")
        seen.append([e.reason for e in rows])
        return await original(account, what, using_db=using_db)

    monkeypatch.setattr("backend.accounts.notify_security", notice)
    assert await accounts.unlock_by_operator(patient) is True
    assert len(seen) == 1 and seen[0][-1] == reasons.OPERATOR_UNLOCKED


async def test_an_operator_unlock_whose_notice_fails_writes_no_event(monkeypatch: pytest.MonkeyPatch) -> None:
    patient, record = await factories.patient()
    await _lock(patient)
    before = await _events(record.id)

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr("backend.accounts.notify_security", broken)
    with pytest.raises(RuntimeError):
        await accounts.unlock_by_operator(patient)
    assert (await Account.get(id=patient.id)).locked_at is not None
    assert await _events(record.id) == before
    assert (await Record.get(id=record.id)).event_seq == len(before)
    await _chain_valid()


async def test_an_account_unlocked_meanwhile_is_not_written_twice() -> None:
    patient, record = await factories.patient()
    await _lock(patient)
    read_locked = await Account.get(id=patient.id)
    await Account.filter(id=patient.id).update(locked_at=None, lock_reason=None)  # support was first
    before = await _events(record.id)
    assert await accounts.unlock_by_operator(read_locked) is False
    assert await _events(record.id) == before
    assert await OutboxMessage.all().count() == 0
