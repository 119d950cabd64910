"""The world of the partner guide (docs/api.md): the actors and records its examples use.

Made through the provisioning path and the real server's API, so the guide's responses
come from what a partner would meet. Placeholders ($INS, $TOKEN, …) name its values.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from backend import accounts
from backend.auth.sessions import create_session
from backend.config import settings
from backend.domain.enums import Profession, Role, Section
from backend.models import Account, Grant, Practitioner
from tests import factories
from tests.care_items import cip13
from tests.document_samples import pdf

INSURER = "Assurance Maladie"
GRANTED = [Section.MEDICATIONS, Section.ALLERGIES, Section.LAB_RESULTS, Section.VACCINATIONS,
           Section.DOCUMENTS]


@dataclass
class World:
    origin: str
    tokens: dict[str, str]  # actor -> bearer token
    patient_session: str
    values: dict[str, str] = field(default_factory=dict)  # placeholder name -> value

    def headers(self, actor: str) -> dict[str, str]:
        if actor == "patient":
            return {"origin": self.origin}
        if actor == "anonymous":
            return {}
        return {"authorization": f"Bearer {self.tokens[actor]}"}

    def cookies(self, actor: str) -> dict[str, str]:
        return {settings().session_cookie: self.patient_session} if actor == "patient" else {}

    def request(self, actor: str, query: str, variables: dict[str, Any] | None = None) -> httpx.Response:
        with httpx.Client(base_url=self.origin, cookies=self.cookies(actor), timeout=30) as c:
            return c.post("/graphql", json={"query": query, "variables": variables or {}},
                          headers=self.headers(actor))

    def post(self, actor: str, query: str, variables: dict[str, Any] | None = None) -> Any:
        return self.request(actor, query, variables).json()


async def _practitioner(first: str, last: str, city: str, profession: Profession,
                        regulator: bool = False) -> tuple[Account, Practitioner, str]:
    rpps = factories.new_rpps()
    account = await accounts.create_account(accounts.NewAccount(
        role=Role.PRACTITIONER, email=f"{first}.{last}@example.test".lower(),
        password=factories.PASSWORD, first_name=first, last_name=last, rpps=rpps,
        profession=profession, city=city, regulator=regulator,
    ))
    practitioner = await Practitioner.get(account_id=account.id)
    _, token = await accounts.create_token(f"Cabinet {last}", ["practitioner"], practitioner_rpps=rpps)
    return account, practitioner, token


def _care_item(ins: str, n: int, section: str, title: str, days_ago: int, **extra: Any) -> dict[str, Any]:
    return {
        "ins": ins, "firstName": "Alice", "lastName": "Martin", "birthDate": "1985-06-12",
        "externalId": f"AM-2024-{n:06d}", "section": section, "title": title,
        "date": (dt.date.today() - dt.timedelta(days=days_ago)).isoformat(), **extra,
    }


def _medicine(ins: str, n: int, title: str, days_ago: int, atc: str, dose: str) -> dict[str, Any]:
    return _care_item(ins, n, "MEDICATIONS", title, days_ago, code=cip13(n),
                      details={"cip13": cip13(n), "atc": atc, "dose": dose, "quantity": 1})


IMPORT = """mutation ($items: [CareItemInput!]!) {
  importCareHistory(items: $items) { created rejected { index message } }
}"""
ADD_ALLERGY = """mutation ($input: AddEntryInput!) { addEntry(input: $input) { entry { id } } }"""
UPLOAD = """mutation ($file: Upload!, $ins: String) {
  uploadDocument(file: $file, title: "Compte rendu de consultation", ins: $ins) { entry { id } }
}"""
FIRST_PAGE = """query ($ins: String!) {
  patientRecord(ins: $ins) { medications(first: 2) { pageInfo { endCursor } } }
}"""


async def build(origin: str) -> World:
    """Alice (granted to Dr Bernard), Bob (no grant), a regulator, the insurer, tokens."""
    _, alice_record = await factories.patient(email="alice.martin@example.test",
                                               first_name="Alice", last_name="Martin")
    alice = await Account.get(id=alice_record.owner_id)  # type: ignore[attr-defined]
    _, bob_record = await factories.patient(email="bob.durand@example.test",
                                            first_name="Bob", last_name="Durand")
    _, bernard, doctor_token = await _practitioner("Claire", "Bernard", "Lyon", Profession.MEDECIN)
    _, samu, regulator_token = await _practitioner("Marc", "Lefort", "Lyon", Profession.MEDECIN,
                                                   regulator=True)
    await Grant.create(record_id=alice_record.id, practitioner_id=bernard.id,
                       sections=[s.value for s in GRANTED])
    _, insurer_token = await accounts.create_token("CNAM import", ["insurer:import"],
                                                   organization=INSURER)
    _, session = await create_session(alice)
    world = World(origin, {"practitioner": doctor_token, "regulator": regulator_token,
                           "insurer": insurer_token}, session)

    ins = alice_record.ins
    items = [
        _medicine(ins, 1, "Doliprane 1000 mg, 8 comprimés", 40, "N02BE01", "1 comprimé 3 fois par jour"),
        _medicine(ins, 2, "Amoxicilline 1 g, 6 comprimés", 30, "J01CA04", "1 comprimé matin et soir"),
        _medicine(ins, 3, "Ventoline 100 µg, inhalateur", 20, "R03AC02", "2 bouffées si besoin"),
        _care_item(ins, 4, "LAB_RESULTS", "Hémoglobine glyquée", 15, code="4548-4",
                   details={"analyte": "HbA1c", "loinc": "4548-4", "value": "6.1", "unit": "%",
                            "referenceRange": "4.0-6.0", "abnormal": True}),
        {**_care_item(bob_record.ins, 5, "MEDICATIONS", "Kardegic 75 mg, 30 sachets", 10,
                      code=cip13(5), details={"cip13": cip13(5), "atc": "B01AC06"}),
         "firstName": "Bob", "lastName": "Durand"},
    ]
    imported = world.post("insurer", IMPORT, {"items": items})
    assert imported["data"]["importCareHistory"]["created"] == len(items), imported
    allergy = world.post("practitioner", ADD_ALLERGY, {"input": {
        "ins": ins, "section": "ALLERGIES", "title": "Allergie à la pénicilline",
        "date": (dt.date.today() - dt.timedelta(days=30)).isoformat(),
        "allergy": {"substance": "Pénicilline", "reaction": "Urticaire", "severity": "modérée"},
    }})
    assert "errors" not in allergy, allergy
    with httpx.Client(base_url=origin, timeout=30) as c:
        uploaded = c.post(
            "/graphql",
            data={"operations": json.dumps({"query": UPLOAD, "variables": {"file": None, "ins": ins}}),
                  "map": json.dumps({"0": ["variables.file"]})},
            files={"0": ("compte-rendu.pdf", pdf(), "application/pdf")},
            headers={**world.headers("practitioner"), "x-dmp-client": "guide-tests"},
        ).json()
    assert "errors" not in uploaded, uploaded
    page = world.post("practitioner", FIRST_PAGE, {"ins": ins})
    world.values = {
        "INS": ins,
        "EMERGENCY_INS": bob_record.ins,
        "NEW_INS": factories.new_ins(),
        "RPPS": bernard.rpps,
        "PRACTITIONER_ID": str(bernard.id),
        "ALLERGY_ID": allergy["data"]["addEntry"]["entry"]["id"],
        "DOCUMENT_ID": uploaded["data"]["uploadDocument"]["entry"]["id"],
        "CURSOR": page["data"]["patientRecord"]["medications"]["pageInfo"]["endCursor"],
        "TODAY": dt.date.today().isoformat(),
        "DMP_URL": origin,
    }
    return world
