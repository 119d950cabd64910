"""An import's items refused by an existing record: the denied attempt says why — the record
closed, its deletion requested, or another birth date than the record's
(backend/audit/reasons.py)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from backend import config
from backend.audit import reasons
from backend.audit import verify as verifying
from backend.models import AccessEvent, Record
from tests import factories
from tests.care_items import IMPORT, insurer_token, medication_item
from tests.conftest import Caller, session_for

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
        medication_item(other_birth.ins, 3),                          # accepted
        medication_item(other_birth.ins, 4, birthDate="1990-01-01"),  # another birth date
    ]
    insurer = Caller(client, token=await insurer_token())
    payload = (await insurer.gql(IMPORT, {"items": items})).ok()["importCareHistory"]
    assert [(r["index"], r["code"]) for r in payload["rejected"]] == [
        (0, "FORBIDDEN"), (1, "FORBIDDEN"), (3, "BAD_USER_INPUT"),
    ]
    assert (await _events(closed.id))[-1].reason == "import refusé : dossier fermé"
    assert (await _events(deleting.id))[-1].reason == "import refusé : suppression du dossier demandée"
    assert [(e.action, e.reason) for e in await _events(other_birth.id)] == [
        ("ENTRIES_IMPORTED", ""),
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
