"""The FHIR export keeps what each entry says: its own code with its system, in every section,
and the details a resource has no field for."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
from fhir.resources.R4B.bundle import Bundle

from backend.domain.enums import Section
from backend.models import Entry
from tests import factories
from tests.care_items import IMPORT, cip13, insurer_token, medication_item
from tests.conftest import Caller, session_for
from tests.document_samples import png, upload

EXPORT = "mutation { exportMyRecord(format: FHIR) { content } }"

CIP13 = "https://smt.esante.gouv.fr/terminologie-cip_13"
ATC = "http://www.whocc.no/atc"
LPP = "https://smt.esante.gouv.fr/terminologie-lpp"
CCAM = "https://smt.esante.gouv.fr/terminologie-ccam"
LOINC = "http://loinc.org"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
LOCAL = "urn:dmp:code"


async def _bundle(caller: Caller) -> dict[str, Any]:
    content = (await caller.gql(EXPORT)).ok()["exportMyRecord"]["content"]
    bundle = Bundle.model_validate(json.loads(content))
    return {item.resource.id: item.resource for item in bundle.entry}


def _codings(concept: Any) -> list[tuple[str | None, str | None]]:
    return [(c.system, c.code) for c in concept.coding or []]


async def test_every_entrys_code_is_in_its_resource_with_its_system(client: httpx.AsyncClient) -> None:
    owner, record = await factories.patient()
    # The insurer's dispensation: its CIP13 is the item's code, its ATC class in the details.
    imported = (await Caller(client, token=await insurer_token()).gql(
        IMPORT, {"items": [medication_item(record.ins, 1, code=cip13(42))]})).ok()
    assert imported["importCareHistory"]["created"] == 1
    (dispensed,) = await Entry.filter(record_id=record.id, section=Section.MEDICATIONS)
    coded: dict[str, tuple[Section, str]] = {
        "atc": (Section.MEDICATIONS, "C09AA05"),
        "lpp": (Section.MEDICAL_DEVICES, "1234567"),
        "ccam": (Section.PROCEDURES, "HHFA016"),
        "imaging": (Section.IMAGING, "ZBQK002"),
        "loinc": (Section.LAB_RESULTS, "2345-7"),
        "icd10": (Section.MEDICAL_HISTORY, "E11.9"),
        "allergy": (Section.ALLERGIES, "PEN-01"),
        "vaccine": (Section.VACCINATIONS, "DTP 3"),
        "document": (Section.DOCUMENTS, "CR-OP"),
        "emergency": (Section.EMERGENCY, "PACEMAKER"),
    }
    ids = {}
    for name, (section, code) in coded.items():
        entry = await factories.entry(record, section, title=name.title())
        await Entry.filter(id=entry.id).update(code=code)
        ids[name] = str(entry.id)
    resources = await _bundle(Caller(client, session=await session_for(owner)))

    medicine = resources[str(dispensed.id)].medicationCodeableConcept
    assert _codings(medicine) == [(CIP13, cip13(42)), (ATC, "N02BE01")]
    assert _codings(resources[ids["atc"]].medicationCodeableConcept) == [(ATC, "C09AA05")]
    (device,) = resources[ids["lpp"]].contained
    assert _codings(device.type) == [(LPP, "1234567")]
    assert _codings(resources[ids["ccam"]].code) == [(CCAM, "HHFA016")]
    assert _codings(resources[ids["imaging"]].procedureCode[0]) == [(CCAM, "ZBQK002")]
    assert _codings(resources[ids["loinc"]].code) == [(LOINC, "2345-7")]
    assert _codings(resources[ids["icd10"]].code) == [(ICD10, "E11.9")]
    # Sections without a coding system keep their free code under the service's own system.
    assert _codings(resources[ids["allergy"]].code) == [(LOCAL, "PEN-01")]
    assert _codings(resources[ids["vaccine"]].vaccineCode) == [(LOCAL, "DTP 3")]
    assert _codings(resources[ids["document"]].type) == [(LOCAL, "CR-OP")]
    assert _codings(resources[ids["emergency"]].code) == [(LOCAL, "PACEMAKER")]


async def test_a_code_in_the_details_too_is_given_once(client: httpx.AsyncClient) -> None:
    owner, record = await factories.patient()
    entry = await factories.entry(record, Section.LAB_RESULTS, title="Glycémie", loinc="2345-7",
                                  value="5.4", unit="mmol/L")
    await Entry.filter(id=entry.id).update(code="2345-7")
    resources = await _bundle(Caller(client, session=await session_for(owner)))
    assert _codings(resources[str(entry.id)].code) == [(LOINC, "2345-7")]


async def test_a_prescribed_medicine_keeps_its_prescriber_and_quantity(client: httpx.AsyncClient) -> None:
    owner, record = await factories.patient()
    doctor, _ = await factories.practitioner()
    statement = await factories.entry(record, Section.MEDICATIONS, title="Amoxicilline", author=doctor,
                                      dose="1 g x3", prescriber="Dr Martin", quantity=3)
    device = await factories.entry(record, Section.MEDICAL_DEVICES, title="Capteur", quantity=0)
    resources = await _bundle(Caller(client, session=await session_for(owner)))
    notes = [n.text for n in resources[str(statement.id)].note or []]
    assert notes == ["Prescripteur : Dr Martin", "Quantité : 3"]
    assert [n.text for n in resources[str(device.id)].note or []] == ["Quantité : 0"]


async def test_a_lab_value_is_not_rounded_to_a_float(client: httpx.AsyncClient) -> None:
    """A numeric result becomes a Quantity with the number written, not its nearest float
    (its trailing zeros too: tests/test_fhir_decimals.py)."""
    owner, record = await factories.patient()
    values = ["5.4", "9007199254740993", "12345678901234567891"]
    ids = [
        str((await factories.entry(record, Section.LAB_RESULTS, title="Dosage", value=v, unit="UI/L")).id)
        for v in values
    ]
    content = (await Caller(client, session=await session_for(owner)).gql(EXPORT)).ok()[
        "exportMyRecord"]["content"]
    # Read as written: a JSON number parsed to a float would hide the difference.
    by_id = {
        item["resource"]["id"]: item["resource"]
        for item in json.loads(content, parse_float=Decimal, parse_int=Decimal)["entry"]
    }
    assert [by_id[i]["valueQuantity"]["value"] for i in ids] == [Decimal(v) for v in values]
    assert all(by_id[i]["valueQuantity"]["unit"] == "UI/L" for i in ids)


async def test_each_resource_says_where_its_entry_came_from(client: httpx.AsyncClient) -> None:
    """The source of every entry, an import's external id with its organization, and the
    author in the resources that have a field for one."""
    owner, record = await factories.patient()
    insurer = Caller(client, token=await insurer_token())
    (await insurer.gql(IMPORT, {"items": [medication_item(record.ins, 7, externalId="DISP-7")]})).ok()
    (dispensed,) = await Entry.filter(record_id=record.id, section=Section.MEDICATIONS)
    doctor, _ = await factories.practitioner()
    device = await factories.entry(record, Section.MEDICAL_DEVICES, title="Capteur", author=doctor)
    note = await factories.entry(record, Section.EMERGENCY, title="Pacemaker", author=doctor)
    caller = Caller(client, session=await session_for(owner))
    resources = await _bundle(caller)

    def source(resource: Any) -> list[str]:
        return [t.code for t in resource.meta.tag if t.system == "urn:dmp:source"]

    assert source(resources[str(dispensed.id)]) == ["INSURER"]
    assert source(resources[str(device.id)]) == ["PRACTITIONER"]
    identifiers = {(i.system, i.value): i for i in resources[str(dispensed.id)].identifier}
    external = identifiers[("urn:dmp:external-id", "DISP-7")]
    assert external.assigner.display == "Assurance Maladie"
    assert [p.actor.display for p in resources[str(dispensed.id)].performer] == ["Assurance Maladie"]
    assert resources[str(device.id)].source.display == doctor.display_name
    assert resources[str(note.id)].author.display == doctor.display_name
    # Entries the patient or a practitioner added have no external id.
    assert [i.system for i in resources[str(device.id)].identifier] == ["urn:dmp:entry"]


async def test_a_lab_report_keeps_its_document_type_and_description(client: httpx.AsyncClient) -> None:
    owner, record = await factories.patient()
    caller = Caller(client, session=await session_for(owner))
    (await upload(caller, png("bilan"), "bilan.png", "image/png", title="Bilan de mars",
                  section="LAB_RESULTS", documentType="Bilan sanguin", description="À jeun")).ok()
    (entry,) = await Entry.filter(record_id=record.id)
    report = (await _bundle(caller))[str(entry.id)]
    assert report.get_resource_type() == "DiagnosticReport"
    assert report.code.text == "Bilan de mars"
    assert [c.text for c in report.category] == ["Laboratory", "Bilan sanguin"]
    assert report.conclusion == "À jeun"
    assert (report.presentedForm[0].title, report.presentedForm[0].contentType) == ("bilan.png", "image/png")
