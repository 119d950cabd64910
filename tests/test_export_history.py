"""exportMyRecord carries the record's access history (DESIGN §4, the right of access): the
JSON export lists it as `accessHistory`, the FHIR Bundle holds one AuditEvent per event, both
oldest first, with what the patient's history shows of each event and nothing more."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import uuid
from typing import Any

import httpx
import pytest
from fhir.resources.R4B.auditevent import AuditEvent
from fhir.resources.R4B.bundle import Bundle

from backend import clock
from backend.audit.writer import Actor, PendingEvent, append
from backend.domain.enums import AccessAction, AccessMode, Profession, RecordStatus, Role, Section
from backend.models import AccessEvent, Account, Grant, Practitioner, Record
from backend.resolvers import export as export_module
from backend.resolvers import fhir, history
from tests import factories
from tests.conftest import Caller, session_for
from tests.history_helpers import READ, setup

EXPORT = """
mutation ($format: ExportFormat!) {
  exportMyRecord(format: $format) { content }
}"""
HISTORY = """query($after: String) {
  myAccessHistory(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { id seq at actorId actorName actorProfession actorRole action mode sections
                   entryId reason emergency } }
  }
}"""
BREAK_GLASS = "mutation($ins: String!, $r: String!) { openBreakGlass(ins: $ins, reason: $r) { mode } }"
# What an exported event holds: myAccessHistory's fields but the actor's account id and the
# entry's id, which the patient's history screen does not show.
EVENT_KEYS = {"id", "seq", "at", "actorName", "actorProfession", "actorRole", "action", "mode",
              "sections", "reason", "emergency"}


async def exported(caller: Caller, fmt: str) -> Any:
    return json.loads((await caller.gql(EXPORT, {"format": fmt})).ok()["exportMyRecord"]["content"])


async def history_as_shown(caller: Caller) -> list[dict[str, Any]]:
    """Every event myAccessHistory gives the patient, oldest first."""
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await caller.gql(HISTORY, {"after": after})).ok()["myAccessHistory"]
        nodes += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes[::-1]
        after = page["pageInfo"]["endCursor"]


def as_exported(node: dict[str, Any]) -> dict[str, Any]:
    shown = {k: v for k, v in node.items() if k in EVENT_KEYS}
    shown["at"] = dt.datetime.fromisoformat(shown["at"])
    return shown


def same_times(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**e, "at": dt.datetime.fromisoformat(e["at"])} for e in events]


def audit_events(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [item["resource"] for item in bundle["entry"] if item["resource"]["resourceType"] == "AuditEvent"]


def seq_of(resource: dict[str, Any]) -> int:
    (seq,) = [x["valueInteger"] for x in resource["extension"] if x["url"] == fhir.SEQ_EXTENSION]
    return int(seq)


async def a_history(client: httpx.AsyncClient) -> dict[str, Any]:
    """A granted doctor's two reads, a nurse's break-glass and read, the patient's own change."""
    s = await setup(client)
    record = s["record"]
    for _ in range(2):
        (await s["as_pro"].gql(READ, {"ins": record.ins})).ok()
    nurse_account, _ = await factories.practitioner(Profession.INFIRMIER)
    s["as_nurse"] = Caller(client, session=await session_for(nurse_account))
    s["nurse_account"] = nurse_account
    (await s["as_nurse"].gql(BREAK_GLASS, {"ins": record.ins, "r": "Patient inconscient aux urgences"})).ok()
    (await s["as_nurse"].gql(READ, {"ins": record.ins})).ok()
    owner = s["patient"]
    await append(Actor(owner.id, owner.display_name, None, Role.PATIENT.value),
                 PendingEvent(record.id, AccessAction.EMERGENCY_PROFILE_UPDATED, AccessMode.OWNER,
                              {Section.EMERGENCY}))
    return s


async def test_the_json_export_lists_the_history_as_the_patient_reads_it(client: httpx.AsyncClient) -> None:
    s = await a_history(client)
    record = s["record"]
    shown = await history_as_shown(s["as_patient"])
    assert len(shown) >= 5 and [n["seq"] for n in shown] == list(range(1, len(shown) + 1))
    data = await exported(s["as_patient"], "JSON")
    events = data["accessHistory"]
    assert all(set(e) == EVENT_KEYS for e in events)
    assert same_times(events) == [as_exported(n) for n in shown]  # oldest first, as the history shows them
    assert {e["action"] for e in events} >= {"RECORD_READ", "BREAK_GLASS_OPENED", "EMERGENCY_PROFILE_UPDATED"}
    (opened,) = [e for e in events if e["action"] == "BREAK_GLASS_OPENED"]
    assert opened["emergency"] is True and opened["reason"] == "Patient inconscient aux urgences"
    assert opened["actorName"] == s["nurse_account"].display_name and opened["actorProfession"] == "infirmier"
    # Nothing the history screen does not show: no MAC, no account id.
    rows = await AccessEvent.filter(record_id=record.id)
    text = json.dumps(data)
    assert not any(row.mac in text for row in rows)
    assert str(s["pro_account"].id) not in text and str(s["nurse_account"].id) not in text
    # The export's own event is written once the export is built: in the next one, not in it.
    assert len(rows) == len(shown) + 1 and max(rows, key=lambda r: r.seq).action == "RECORD_EXPORTED"
    again = (await exported(s["as_patient"], "JSON"))["accessHistory"]
    assert len(again) == len(shown) + 1
    assert {k: again[-1][k] for k in ("action", "mode", "actorRole", "reason")} == {
        "action": "RECORD_EXPORTED", "mode": "OWNER", "actorRole": "PATIENT", "reason": "format JSON"}


async def test_the_fhir_export_holds_one_valid_audit_event_per_event(client: httpx.AsyncClient) -> None:
    s = await a_history(client)
    record = s["record"]
    shown = await history_as_shown(s["as_patient"])
    data = await exported(s["as_patient"], "FHIR")
    bundle = Bundle.model_validate(data)  # every AuditEvent too, by fhir.resources' R4B models
    assert sum(1 for item in bundle.entry if item.resource.get_resource_type() == "AuditEvent") == len(shown)
    events = audit_events(data)
    assert [seq_of(r) for r in events] == [n["seq"] for n in shown]
    patient = f"urn:uuid:{record.id}"
    assert any(item["fullUrl"] == patient for item in data["entry"])
    for resource, node in zip(events, shown, strict=True):
        assert resource["type"]["code"] == "110110"
        assert resource["subtype"] == [{"system": fhir.ACTION_SYSTEM, "code": node["action"]}]
        assert dt.datetime.fromisoformat(resource["recorded"]) == dt.datetime.fromisoformat(node["at"])
        (agent,) = resource["agent"]
        assert agent["who"]["display"] == agent["name"] == node["actorName"] and agent["requestor"] is True
        assert agent["type"]["coding"][0]["code"] == node["actorRole"]
        assert agent.get("role", [{}])[0].get("text") == node["actorProfession"]
        (entity,) = resource["entity"]
        assert entity["what"] == {"reference": patient}
        details = [(d["type"], d["valueString"]) for d in entity.get("detail", [])]
        assert details == [("section", x) for x in node["sections"]] + (
            [("reason", node["reason"])] if node["reason"] else [])
        modes = [c["code"] for p in resource.get("purposeOfEvent", []) for c in p["coding"]]
        assert modes[:1] == ([node["mode"]] if node["mode"] else [])
        assert ("tag" in resource.get("meta", {})) is node["emergency"]
        ids = [x["valueString"] for x in resource["extension"] if x["url"] == fhir.EVENT_EXTENSION]
        assert ids == [node["id"]]
    by_action = {r["subtype"][0]["code"]: r for r in events}
    opened = by_action["BREAK_GLASS_OPENED"]
    assert "BTG" in [c["code"] for c in opened["purposeOfEvent"][0]["coding"]]
    assert opened["action"] == "E"
    # The patient's own change names the patient as its agent.
    own = by_action["EMERGENCY_PROFILE_UPDATED"]
    assert own["agent"][0]["who"]["reference"] == patient and own["action"] == "U"
    read = by_action["RECORD_READ"]["agent"][0]
    assert read["who"] == {"display": read["name"]}  # a practitioner: named, not referenced
    text = json.dumps(data)
    assert not any(row.mac in text for row in await AccessEvent.filter(record_id=record.id))
    assert str(s["pro_account"].id) not in text


def test_every_action_mode_and_role_makes_a_valid_r4_audit_event() -> None:
    """The AuditEvents are built, not validated one by one on each export (a history holds
    thousands): every action, in every mode and none, by every role, validates here."""
    assert set(fhir.EVENT_ACTIONS) == set(AccessAction)
    record_id, owner = uuid.uuid4(), str(uuid.uuid4())
    subject = {"reference": f"urn:uuid:{record_id}"}
    roles = itertools.cycle([(r.value, p) for r in Role for p in ("medecin", None)])
    reasons = itertools.cycle(["", "Patient inconscient", "   ", "\u00a0", "a\u00a0b\nc"])
    modes: list[str | None] = [m.value for m in AccessMode] + [None]
    seq = 0
    for action, mode in itertools.product(AccessAction, modes):
        seq += 1
        role, profession = next(roles)
        event = AccessEvent(
            id=seq, seq=seq, at=dt.datetime(2026, 12, 7, 11, 0, seq % 60),
            actor_id=owner if seq % 2 else None,
            actor_name="\u00a0" if seq % 7 == 0 else "Dr Jeanne Martin", actor_profession=profession,
            actor_role=role, action=action.value, mode=mode, sections=["ALLERGIES", "MEDICATIONS"][: seq % 3],
            entry_id=None, reason=next(reasons), mac="0" * 64,
        )
        resource = fhir._without_none(fhir.audit_event(event, subject, record_id, owner))
        parsed = AuditEvent.model_validate(resource)
        # An instant, with its offset.
        assert parsed.recorded is not None and parsed.recorded.tzinfo is not None
        assert parsed.agent[0].requestor is True and parsed.source.observer is not None
        assert (parsed.outcome == "8") is (action == AccessAction.ACCESS_DENIED)


async def _many_events(record: Record, n: int, actor: Account, profession: str) -> None:
    """`n` events as a granted practitioner's reads leave them (MACs aside: the export shows none)."""
    start = clock.now() - dt.timedelta(days=400)
    await AccessEvent.bulk_create([
        AccessEvent(record_id=record.id, seq=seq, at=start + dt.timedelta(hours=seq), actor_id=str(actor.id),
                    actor_name=actor.display_name, actor_profession=profession,
                    actor_role=Role.PRACTITIONER.value, action=AccessAction.RECORD_READ.value,
                    mode=AccessMode.GRANTED.value, sections=["MEDICATIONS"], reason="", mac=f"{seq:064x}")
        for seq in range(1, n + 1)
    ], batch_size=500)
    await Record.filter(id=record.id).update(event_seq=n)


async def test_a_long_history_exports_whole_each_event_read_once(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner, record = await factories.patient()
    pro_account, _ = await factories.practitioner(Profession.PHARMACIEN)
    n = 2500
    await _many_events(record, n, pro_account, "pharmacien")
    caller = Caller(client, session=await session_for(owner))
    read: list[int] = []
    real = history.record_history

    async def counted(*args: Any, **kwargs: Any) -> list[AccessEvent]:
        events = await real(*args, **kwargs)
        read.extend(e.seq for e in events)
        return events

    monkeypatch.setattr(history, "record_history", counted)
    data = await exported(caller, "JSON")
    assert [e["seq"] for e in data["accessHistory"]] == list(range(1, n + 1))
    assert sorted(read) == list(range(1, n + 1))  # each event read once, in one statement
    assert data["accessHistory"][-1]["actorName"] == pro_account.display_name
    read.clear()
    bundle = await exported(caller, "FHIR")
    events = audit_events(bundle)
    # The first export's own event is the last one now.
    assert [seq_of(r) for r in events] == list(range(1, n + 2))
    assert sorted(read) == list(range(1, n + 2))
    for resource in events[:50] + events[-50:]:
        AuditEvent.model_validate(resource)


async def test_the_events_of_removed_accounts_still_export_as_the_history_names_them(
    client: httpx.AsyncClient,
) -> None:
    s = await setup(client)
    record = s["record"]
    (await s["as_pro"].gql(READ, {"ins": record.ins})).ok()
    name = s["pro_account"].display_name
    staff = await factories.support()
    await append(Actor(staff.id, staff.display_name, None, Role.SUPPORT.value),
                 PendingEvent(record.id, AccessAction.SUPPORT_ACTION,
                              reason="consultation du compte par le support"))
    # The practitioner and the support agent are gone from the service.
    await Grant.filter(record_id=record.id).delete()
    await Practitioner.filter(id=s["pro"].id).delete()
    await Account.filter(id__in=[s["pro_account"].id, staff.id]).delete()
    shown = await history_as_shown(s["as_patient"])
    assert [n["actorName"] for n in shown] == [name, staff.display_name]
    data = await exported(s["as_patient"], "JSON")
    assert same_times(data["accessHistory"]) == [as_exported(n) for n in shown]
    events = audit_events(await exported(s["as_patient"], "FHIR"))
    assert [r["agent"][0]["name"] for r in events][:2] == [name, staff.display_name]
    assert events[0]["agent"][0]["role"] == [{"text": "medecin"}]


async def test_the_history_is_that_of_the_snapshots_moment(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An event written after the moment the export shows (a practitioner's read while the
    export is built) is not in it, as an entry added then would not be."""
    s = await setup(client)
    record = s["record"]
    (await s["as_pro"].gql(READ, {"ins": record.ins})).ok()
    load = export_module.load_snapshot
    pro = s["pro_account"]

    async def then_a_read(rec: Record) -> export_module.Snapshot | None:
        snapshot = await load(rec)
        await append(Actor(pro.id, pro.display_name, "medecin", Role.PRACTITIONER.value),
                     PendingEvent(record.id, AccessAction.RECORD_READ, AccessMode.GRANTED,
                                  {Section.ALLERGIES}))
        return snapshot

    monkeypatch.setattr(export_module, "load_snapshot", then_a_read)
    data = await exported(s["as_patient"], "JSON")
    assert [e["seq"] for e in data["accessHistory"]] == [1]
    seqs = await AccessEvent.filter(record_id=record.id).order_by("seq").values_list("action", flat=True)
    assert seqs == ["RECORD_READ", "RECORD_READ", "RECORD_EXPORTED"]


@pytest.mark.parametrize("status", [RecordStatus.CLOSED, RecordStatus.DELETED])
async def test_a_closed_record_and_one_pending_deletion_export_their_history(
    client: httpx.AsyncClient, status: RecordStatus
) -> None:
    s = await setup(client)
    record, owner = s["record"], s["patient"]
    (await s["as_pro"].gql(READ, {"ins": record.ins})).ok()
    action = AccessAction.RECORD_CLOSED if status == RecordStatus.CLOSED else AccessAction.DELETION_REQUESTED
    await append(Actor(owner.id, owner.display_name, None, Role.PATIENT.value),
                 PendingEvent(record.id, action, AccessMode.OWNER))
    await Record.filter(id=record.id).update(
        status=status, closed_at=clock.now() if status == RecordStatus.CLOSED else None,
        deletion_requested_at=clock.now() if status == RecordStatus.DELETED else None,
    )
    data = await exported(s["as_patient"], "JSON")
    assert [e["action"] for e in data["accessHistory"]] == ["RECORD_READ", action.value]
    bundle = await exported(s["as_patient"], "FHIR")
    Bundle.model_validate(bundle)
    assert [r["subtype"][0]["code"] for r in audit_events(bundle)] == ["RECORD_READ", action.value,
                                                                       "RECORD_EXPORTED"]
    assert (await Record.get(id=record.id)).status == status


async def test_a_record_purged_while_its_history_is_read_is_not_exported(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backend.purge import purge_record

    s = await setup(client)
    record = s["record"]
    (await s["as_pro"].gql(READ, {"ins": record.ins})).ok()
    await Record.filter(id=record.id).update(status=RecordStatus.DELETED, deletion_requested_at=clock.now())
    load = export_module.load_snapshot

    async def then_purged(rec: Record) -> export_module.Snapshot | None:
        snapshot = await load(rec)
        await purge_record(await Record.get(id=record.id))
        return snapshot

    monkeypatch.setattr(export_module, "load_snapshot", then_purged)
    result = await s["as_patient"].gql(EXPORT, {"format": "JSON"})
    assert result.codes == ["NOT_FOUND"] and result.data is None
    assert await AccessEvent.filter(record_id=record.id).count() == 0


async def test_no_one_exports_another_records_history(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    record = s["record"]
    (await s["as_pro"].gql(READ, {"ins": record.ins})).ok()
    before = await AccessEvent.filter(record_id=record.id).count()
    # The practitioner who read it: refused as today, nothing written in the record's history.
    refused = await s["as_pro"].gql(EXPORT, {"format": "JSON"})
    assert refused.codes == ["FORBIDDEN"] and refused.data is None
    assert s["pro_account"].display_name not in refused.response.text
    staff = Caller(client, session=await session_for(await factories.support()))
    by_support = await staff.gql(EXPORT, {"format": "FHIR"})
    assert by_support.codes == ["FORBIDDEN"] and by_support.data is None
    assert await AccessEvent.filter(record_id=record.id).count() == before
    # Another patient's export holds their own history only.
    other, _ = await factories.patient()
    other_caller = Caller(client, session=await session_for(other))
    data = await exported(other_caller, "JSON")
    assert data["accessHistory"] == []
    # (Its first export's own event, in the second.)
    (own,) = audit_events(await exported(other_caller, "FHIR"))
    assert own["subtype"][0]["code"] == "RECORD_EXPORTED" and own["agent"][0]["name"] == other.display_name
    assert await AccessEvent.filter(record_id=record.id).count() == before


async def test_two_exports_at_once_each_hold_the_history_of_their_moment(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    record = s["record"]
    for _ in range(3):
        (await s["as_pro"].gql(READ, {"ins": record.ins})).ok()
    answers = await asyncio.gather(exported(s["as_patient"], "JSON"), exported(s["as_patient"], "FHIR"))
    seqs = [[e["seq"] for e in answers[0]["accessHistory"]], [seq_of(r) for r in audit_events(answers[1])]]
    for one in seqs:  # the whole history of its moment, never its own event
        assert one in ([1, 2, 3], [1, 2, 3, 4])
    assert [1, 2, 3] in seqs
    actions = await AccessEvent.filter(record_id=record.id).order_by("seq").values_list("action", flat=True)
    assert actions == ["RECORD_READ"] * 3 + ["RECORD_EXPORTED"] * 2
