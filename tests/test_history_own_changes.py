"""The patient's own changes are theirs in the history: mode OWNER, whatever the change.

The history page shows « · Vous » after the patient's name by the event's mode, and its filter
« Vous » asks for mode OWNER: the activation of the record, a change to how the account signs
in and the review of an emergency access are the patient's own changes, as sharing is."""

from __future__ import annotations

import httpx

from backend.models import AccessEvent, Account, Record
from tests import factories
from tests.auth_flows import CHANGE_PASSWORD, NEW_PASSWORD
from tests.conftest import Caller, session_for
from tests.history_helpers import break_glass
from tests.smtp import SmtpServer

OPEN = """mutation($input: OpenRecordInput!) {
  openRecordForPatient(input: $input) { activationCode } }"""
CREATE = """mutation($input: CreateRecordInput!) { createRecord(input: $input) { attemptToken } }"""
REPORT = """mutation($id: ID!) { reportEmergencyAccess(id: $id, comment: "Je ne le connais pas") {
  reviewState } }"""
MINE = """query($filter: AccessHistoryFilter) {
  myAccessHistory(first: 50, filter: $filter) { edges { node { action mode actorRole } } } }"""
PASSWORD = "un mot de passe long et rare 42"


async def test_activation_security_and_review_events_are_the_owners(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    doctor_account, doctor = await factories.practitioner()
    as_doctor = Caller(client, session=await session_for(doctor_account))
    ins = factories.new_ins()
    code = (await as_doctor.gql(OPEN, {"input": {
        "ins": ins, "firstName": "Léa", "lastName": "Martin", "birthDate": "1990-04-02",
    }})).ok()["openRecordForPatient"]["activationCode"]
    (await Caller(client).gql(CREATE, {"input": {
        "ins": ins, "activationCode": code, "email": "lea@test.dmp", "password": PASSWORD,
    }})).ok()
    patient = await Account.get(email="lea@test.dmp")
    record = await Record.get(ins=ins)
    as_patient = Caller(client, session=await session_for(patient))
    (await as_patient.gql(CHANGE_PASSWORD, {"o": PASSWORD, "n": NEW_PASSWORD})).ok()
    session = await break_glass(record, doctor)
    (await as_patient.gql(REPORT, {"id": str(session.id)})).ok()

    own = ["RECORD_ACTIVATED", "SECURITY_CHANGED", "EMERGENCY_REVIEWED"]
    for action in own:
        event = await AccessEvent.get(record_id=record.id, action=action)
        assert (event.actor_role, event.mode) == ("PATIENT", "OWNER"), action
    mine = (await as_patient.gql(MINE, {"filter": {"modes": ["OWNER"]}})).ok()
    actions = {edge["node"]["action"] for edge in mine["myAccessHistory"]["edges"]}
    assert set(own) <= actions
    everyone = (await as_patient.gql(MINE, {"filter": None})).ok()["myAccessHistory"]["edges"]
    assert all(e["node"]["mode"] == "OWNER" for e in everyone if e["node"]["actorRole"] == "PATIENT")
