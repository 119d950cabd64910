"""The server's logs hold nothing sensitive (DESIGN §4-§5): a whole journey runs through the
API against a real `dmp serve` whose output is captured, then the log is searched for every
secret and every piece of identity or medical text the journey used."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import time
from typing import Any

import httpx

from backend import accounts
from backend.domain.enums import Profession, Role
from tests import factories
from tests.conftest import TEST_DIR, session_for
from tests.document_samples import UPLOAD, pdf
from tests.server import dmp_server
from tests.smtp import ACTIVATION, SIX_DIGITS, SmtpServer

PATIENT_PASSWORD = "Saule-pleureur-Quimper-1987"
DOCTOR_PASSWORD = "Tournesol-Cevennes-Arpege-55"
PATIENT_FIRST, PATIENT_LAST = "Ysoline", "Kerbrat-Vasseur"
DOCTOR_FIRST, DOCTOR_LAST = "Hippolyte", "Zanzibarre"
URGENT_FIRST, URGENT_LAST = "Eulalie", "Quintavalle"
TITLE = "Compte-rendu opératoire Xanthome"
ENTRY_TITLE = "Amoxicilline Zerbinette 500"
REASON = "Inconsciente aux urgences, suspicion de choc anaphylactique Wolframine"
BYTES_MARKER = "PDFMARKER-7f3a9c"


class Api:
    def __init__(self, client: httpx.AsyncClient, origin: str) -> None:
        self.client = client
        self.origin = origin

    async def gql(self, name: str, query: str, variables: dict[str, Any] | None = None,
                  session: str | None = None) -> dict[str, Any]:
        self.client.cookies.clear()
        if session:
            self.client.cookies.set("dmp_session", session)
        response = await self.client.post("/graphql", headers={"origin": self.origin}, json={
            "query": query, "variables": variables or {}, "operationName": name})
        body = response.json()
        assert not body.get("errors"), (name, body)
        data = body["data"]
        assert isinstance(data, dict)
        return data

    def session_of(self) -> str:
        value = self.client.cookies.get("dmp_session")
        assert value
        return value


async def mailed(smtp: SmtpServer, address: str, pattern: re.Pattern[str], seen: set[str]) -> str:
    """The newest code mailed to `address` not used yet (the server's worker or ours delivers)."""
    deadline = time.monotonic() + 20
    while True:
        await smtp.deliver()
        for message in reversed(smtp.to(address)):
            found = pattern.search(message.body)
            if found and found.group(1) not in seen:
                seen.add(found.group(1))
                return found.group(1)
        assert time.monotonic() < deadline, f"no new code mailed to {address}"
        await asyncio.sleep(0.1)


async def login(api: Api, smtp: SmtpServer, identifier: str, password: str, email: str,
                seen: set[str], secrets: list[str]) -> str:
    started = await api.gql("StartLogin", """mutation StartLogin($i: String!, $p: String!) {
        startLogin(identifier: $i, password: $p) { attemptToken } }""", {"i": identifier, "p": password})
    token = started["startLogin"]["attemptToken"]
    code = await mailed(smtp, email, SIX_DIGITS, seen)
    await api.gql("CompleteLogin", """mutation CompleteLogin($t: String!, $c: String!) {
        completeLogin(attemptToken: $t, code: $c) { me { id } } }""", {"t": token, "c": code})
    session = api.session_of()
    secrets += [token, code, session]
    return session


async def test_a_whole_journey_leaves_nothing_sensitive_in_the_log(smtp_server: SmtpServer) -> None:
    secrets: list[str] = [PATIENT_PASSWORD, DOCTOR_PASSWORD, PATIENT_FIRST, PATIENT_LAST,
                          DOCTOR_FIRST, DOCTOR_LAST, URGENT_FIRST, URGENT_LAST, TITLE, ENTRY_TITLE,
                          REASON, BYTES_MARKER]
    seen: set[str] = set()
    await accounts.create_account(accounts.NewAccount(
        role=Role.PRACTITIONER, email="hz@cabinet.test", password=DOCTOR_PASSWORD,
        first_name=DOCTOR_FIRST, last_name=DOCTOR_LAST, rpps=factories.new_rpps(),
        profession=Profession.MEDECIN, city="Brest"))
    urgentist = await accounts.create_account(accounts.NewAccount(
        role=Role.PRACTITIONER, email="eq@chu.test", password=DOCTOR_PASSWORD,
        first_name=URGENT_FIRST, last_name=URGENT_LAST, rpps=factories.new_rpps(),
        profession=Profession.MEDECIN, city="Brest"))
    urgent_session = await session_for(urgentist)
    ins = factories.new_ins()
    secrets += [ins, urgent_session]
    patient_email = "ysoline@patient.test"

    with dmp_server(**smtp_server.env) as origin:
        port = origin.rsplit(":", 1)[1]
        async with httpx.AsyncClient(base_url=origin, timeout=30) as client:
            api = Api(client, origin)
            doc_session = await login(api, smtp_server, "hz@cabinet.test", DOCTOR_PASSWORD,
                                      "hz@cabinet.test", seen, secrets)
            # Activation: opened at the point of care, created and verified online.
            opened = await api.gql("OpenRecord", """mutation OpenRecord($input: OpenRecordInput!) {
                openRecordForPatient(input: $input) { activationCode } }""", {"input": {
                "ins": ins, "firstName": PATIENT_FIRST, "lastName": PATIENT_LAST,
                "birthDate": "1987-03-14", "email": patient_email}}, session=doc_session)
            activation = opened["openRecordForPatient"]["activationCode"]
            secrets.append(activation)
            seen.add(await mailed(smtp_server, patient_email, ACTIVATION, set()))
            created = await api.gql("CreateRecord", """mutation CreateRecord($input: CreateRecordInput!) {
                createRecord(input: $input) { attemptToken } }""", {"input": {
                "ins": ins, "activationCode": activation, "email": patient_email,
                "password": PATIENT_PASSWORD}})
            attempt = created["createRecord"]["attemptToken"]
            code = await mailed(smtp_server, patient_email, SIX_DIGITS, seen)
            await api.gql("VerifyContact", """mutation VerifyContact($t: String!, $c: String!) {
                verifyContact(attemptToken: $t, code: $c) { me { id } } }""", {"t": attempt, "c": code})
            secrets += [attempt, code, api.session_of()]
            # Login by INS.
            patient = await login(api, smtp_server, ins, PATIENT_PASSWORD, patient_email, seen, secrets)
            found = await api.gql("Directory", """query Directory($s: String!) {
                practitionerDirectory(search: $s) { id } }""", {"s": DOCTOR_LAST}, session=patient)
            await api.gql("Grant", """mutation Grant($p: ID!) {
                grantAccess(practitionerId: $p, sections: [MEDICATIONS, DOCUMENTS]) {
                  sharing { __typename } } }""",
                {"p": found["practitionerDirectory"][0]["id"]}, session=patient)
            await api.gql("AddEntry", """mutation AddEntry($input: AddEntryInput!) {
                addEntry(input: $input) { entry { id } } }""", {"input": {
                "ins": ins, "section": "MEDICATIONS", "title": ENTRY_TITLE,
                "date": dt.date.today().isoformat()}}, session=doc_session)
            # Upload (multipart, with the X-DMP-Client header).
            client.cookies.clear()
            client.cookies.set("dmp_session", patient)
            uploaded = await client.post("/graphql", headers={"origin": origin, "x-dmp-client": "web"},
                data={"operations": json.dumps({"query": UPLOAD, "variables": {
                    "file": None, "title": TITLE, "section": "DOCUMENTS"}}),
                    "map": json.dumps({"0": ["variables.file"]})},
                files={"0": ("compte-rendu-kerbrat.pdf", pdf(BYTES_MARKER), "application/pdf")})
            entry_id = uploaded.json()["data"]["uploadDocument"]["entry"]["id"]
            # The practitioner reads what was granted, then downloads the document.
            read = await api.gql("ReadRecord", """query ReadRecord($ins: String!) {
                patientRecord(ins: $ins) { firstName lastName
                  medications { edges { node { title } } } documents { edges { node { title } } } } }""",
                {"ins": ins}, session=doc_session)
            assert read["patientRecord"]["lastName"] == PATIENT_LAST
            client.cookies.clear()
            client.cookies.set("dmp_session", doc_session)
            downloaded = await client.get(f"/files/{entry_id}")
            assert downloaded.status_code == 200 and BYTES_MARKER.encode() in downloaded.content
            # Break-glass by an emergency doctor, then the patient's export.
            await api.gql("BreakGlass", """mutation BreakGlass($ins: String!, $r: String!) {
                openBreakGlass(ins: $ins, reason: $r) { record { lastName } } }""",
                {"ins": ins, "r": REASON}, session=urgent_session)
            exported = await api.gql("Export", """mutation Export {
                exportMyRecord { content } }""", session=patient)
            assert TITLE in exported["exportMyRecord"]["content"]
            # A mistake on the way: a wrong code is refused, and its text is not logged either.
            bad = 'completeLogin(attemptToken: "tok-Vermillon", code: "000000") { me { id } }'
            await client.post("/graphql", headers={"origin": origin},
                              json={"query": f"mutation Bad {{ {bad} }}"})
            secrets.append("tok-Vermillon")
        await smtp_server.deliver()

    log = (TEST_DIR / f"serve-{port}.log").read_text()
    lines = [line for line in log.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines if line.startswith("{")]
    requests = [r for r in records if r.get("logger") == "dmp.http" and r.get("msg") == "request"]
    assert len(requests) >= 15
    for request in requests:
        assert len(request["request_id"]) == 32 and isinstance(request["duration_ms"], float | int)
    assert len({r["request_id"] for r in requests}) == len(requests)
    # The refusals answered with HTTP 200 (the wrong code) are named by their codes alone.
    coded = [r for r in requests if "error_codes" in r]
    assert coded and all(
        r["error_codes"] and all(re.fullmatch("[A-Z][A-Z0-9_]{0,40}", c) for c in r["error_codes"])
        for r in coded
    )
    operations = {r.get("operation") for r in requests}
    assert {"StartLogin", "CompleteLogin", "CreateRecord", "ReadRecord", "BreakGlass",
            "Export", "Upload"} <= operations
    lowered = log.lower()
    leaks = [s for s in secrets if s.lower() in lowered]
    assert leaks == []
    # Codes and INS never appear, even as bare digits anywhere in the log.
    assert not any(code in log for code in seen)
    assert ins[:13] not in log
