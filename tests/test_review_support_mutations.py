"""A support session may call no mutation that reads or changes a patient's record: each is
refused, returns nothing medical, and leaves the record, its entries, its emergency reviews
and its history as they were (support's own fields apart)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx

from backend import clock
from backend.domain.enums import EmergencyKind, Section
from backend.models import AccessEvent, EmergencySession, Entry, Grant, OutboxMessage, Record
from tests import factories
from tests.conftest import Caller, session_for

SECRET_REASON = "douleur thoracique suspicion infarctus"
TITLE = "Metformine 850 mg"


async def test_a_support_session_changes_and_reads_nothing_of_a_record_through_mutations(
    client: httpx.AsyncClient,
) -> None:
    patient, record = await factories.patient(email="lea.mut@test.dmp")
    entry = await factories.entry(record, Section.MEDICATIONS, title=TITLE)
    doctor, pro = await factories.practitioner()
    session = await EmergencySession.create(
        record=record, practitioner=pro, kind=EmergencyKind.BREAK_GLASS, reason=SECRET_REASON,
        opened_at=clock.now(), expires_at=clock.now() + dt.timedelta(hours=1))
    support = Caller(client, session=await session_for(await factories.support()))
    ins, entry_id, pro_id = record.ins, str(entry.id), str(pro.id)
    calls: list[tuple[str, dict[str, Any]]] = [
        ("mutation($id: ID!) { maskEntry(id: $id) { id title } }", {"id": entry_id}),
        ("mutation($id: ID!) { unmaskEntry(id: $id) { id title } }", {"id": entry_id}),
        ("mutation($id: ID!) { deleteEntry(id: $id) }", {"id": entry_id}),
        ("mutation { maskAllEntries }", {}),
        ("mutation($id: ID!) { acknowledgeEmergencyAccess(id: $id) { reviewState reason } }",
         {"id": str(session.id)}),
        ("mutation($id: ID!) { reportEmergencyAccess(id: $id, comment: \"x\") { reviewState reason } }",
         {"id": str(session.id)}),
        ("mutation($i: AddEntryInput!) { addEntry(input: $i) { entry { id title } } }",
         {"i": {"ins": ins, "section": "MEDICATIONS", "title": "x", "date": "2024-01-01"}}),
        ("mutation($i: EmergencyProfileInput!) { updateEmergencyProfile(input: $i) { __typename } }",
         {"i": {"ins": ins, "bloodGroup": "A+"}}),
        ("mutation($p: ID!) { grantAccess(practitionerId: $p, sections: [MEDICATIONS]) { __typename } }",
         {"p": pro_id}),
        ("mutation($p: ID!) { setTreatingPhysician(practitionerId: $p) { __typename } }", {"p": pro_id}),
        ("mutation($p: ID!) { blockPractitioner(practitionerId: $p) { __typename } }", {"p": pro_id}),
        ("mutation { setEmergencyPreferences(allowRegulatorAccess: false, allowBreakGlass: false) "
         "{ __typename } }", {}),
        ("mutation($ins: String!) { openBreakGlass(ins: $ins, reason: \"support\") { __typename } }",
         {"ins": ins}),
        ("mutation($ins: String!) { regulatorAccess(ins: $ins, reason: \"support\") { __typename } }",
         {"ins": ins}),
        ("mutation($i: OpenRecordInput!) { openRecordForPatient(input: $i) { activationCode } }",
         {"i": {"ins": ins, "firstName": record.first_name, "lastName": record.last_name,
                "birthDate": str(record.birth_date)}}),
        ("mutation($items: [CareItemInput!]!) { importCareHistory(items: $items) { __typename } }",
         {"items": [{"ins": ins, "firstName": record.first_name, "lastName": record.last_name,
                     "birthDate": str(record.birth_date), "externalId": "x1", "section": "MEDICATIONS",
                     "title": "x", "date": "2024-01-01"}]}),
        ("mutation { exportMyRecord { __typename } }", {}),
        ("mutation { closeMyRecord { status } }", {}),
        ("mutation { requestRecordDeletion { __typename } }", {}),
    ]
    before = (await Record.get(id=record.id), await AccessEvent.filter(record_id=record.id).count())
    for document, variables in calls:
        result = await support.gql(document, variables)
        name = document.split("{", 2)[1].split("(")[0].strip()
        assert result.errors, (name, result.data)
        assert result.codes[0] in ("FORBIDDEN", "NOT_FOUND", "UNAUTHENTICATED"), (name, result.errors)
        text = json.dumps(result.response.json())
        for secret in (SECRET_REASON, TITLE, ins):
            assert secret not in text, (name, secret)
    after = await Record.get(id=record.id)
    assert (after.status, after.treating_physician_id) == (  # type: ignore[attr-defined]
        before[0].status, before[0].treating_physician_id)  # type: ignore[attr-defined]
    assert (after.allow_break_glass, after.allow_regulator) == (
        before[0].allow_break_glass, before[0].allow_regulator)
    kept = await Entry.get(id=entry.id)
    assert (kept.masked, await Entry.filter(record_id=record.id).count()) == (False, 1)
    assert (await EmergencySession.get(id=session.id)).review_state == session.review_state
    assert await Grant.filter(record_id=record.id).count() == 0
    assert await EmergencySession.filter(record_id=record.id).count() == 1
    assert await OutboxMessage.filter(account_id=patient.id).count() == 0
    actions = await AccessEvent.filter(record_id=record.id).values_list("action", flat=True)
    assert len(actions) - before[1] == sum(1 for a in actions if a == "ACCESS_DENIED"), actions
