"""The patient's review of an emergency access names the access in their history.

Each EMERGENCY_REVIEWED event's reason gives the state chosen, then the access reviewed — its
kind, its opening time (UTC, to the second), the practitioner as the sharing reasons name them
(« Name (profession, RPPS n) ») — then the patient's comment, if any: « Accès d'urgence
examiné » says which access. Never the practitioner's stated reason (often medical). Events
written before keep their text (« REPORTED: comment »): the page reads both.
"""

from __future__ import annotations

import datetime as dt

import httpx

from backend.domain.enums import EmergencyKind, Profession
from backend.models import AccessEvent
from tests import factories
from tests.conftest import Caller, session_for
from tests.history_helpers import break_glass

ACK = "mutation($id: ID!) { acknowledgeEmergencyAccess(id: $id) { reviewState } }"
REPORT = "mutation($id: ID!, $c: String) { reportEmergencyAccess(id: $id, comment: $c) { reviewState } }"
HISTORY = """{ myAccessHistory(first: 10, filter: {actions: [EMERGENCY_REVIEWED]}) {
  edges { node { action actorId mode entryId reason emergency } } } }"""
STATED = "Patient inconscient, allergie à la pénicilline suspectée"


async def test_each_review_names_the_access_it_reviews(client: httpx.AsyncClient) -> None:
    patient, record = await factories.patient()
    as_patient = Caller(client, session=await session_for(patient))
    doctor_account, doctor = await factories.practitioner(Profession.MEDECIN)
    nurse_account, nurse = await factories.practitioner(Profession.INFIRMIER)
    glass = await break_glass(record, doctor, reason=STATED)
    regulator_account, regulator_pro = await factories.practitioner(Profession.MEDECIN, regulator=True)
    regulator = await break_glass(
        record, regulator_pro, kind=EmergencyKind.REGULATOR, minutes=30, reason=STATED)
    nursed = await break_glass(record, nurse, reason=STATED)
    opened = dt.datetime(2026, 11, 3, 8, 15, 42, 654321, tzinfo=dt.UTC)
    for session in (glass, regulator, nursed):
        session.opened_at = opened
        await session.save(update_fields=["opened_at"])

    (await as_patient.gql(ACK, {"id": str(glass.id)})).ok()
    (await as_patient.gql(REPORT, {"id": str(regulator.id), "c": "Je n'ai pas appelé le 15"})).ok()
    (await as_patient.gql(REPORT, {"id": str(nursed.id)})).ok()

    events = await AccessEvent.filter(record_id=record.id, action="EMERGENCY_REVIEWED").order_by("seq")
    at = "2026-11-03T08:15:42Z"
    assert [(e.entry_id, e.reason, e.actor_id) for e in events] == [
        (str(glass.id),
         f"ACKNOWLEDGED BREAK_GLASS {at} {doctor_account.display_name} (médecin, RPPS {doctor.rpps})",
         str(patient.id)),
        (str(regulator.id),
         f"REPORTED REGULATOR {at} {regulator_account.display_name} (médecin, RPPS {regulator_pro.rpps})"
         ": Je n'ai pas appelé le 15", str(patient.id)),
        (str(nursed.id),
         f"REPORTED BREAK_GLASS {at} {nurse_account.display_name} (infirmier, RPPS {nurse.rpps})",
         str(patient.id)),
    ]
    assert not any(STATED in e.reason for e in events)
    # The patient reads them so, newest first, as their own changes.
    shown = (await as_patient.gql(HISTORY)).ok()["myAccessHistory"]["edges"]
    assert [e["node"] for e in shown] == [
        {"action": "EMERGENCY_REVIEWED", "actorId": str(patient.id), "mode": "OWNER",
         "entryId": str(e.entry_id), "reason": e.reason, "emergency": False}
        for e in reversed(events)
    ]
