"""exportMyRecord: the whole record for its owner, as JSON and as a valid FHIR R4 Bundle."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fhir.resources.R4B.bundle import Bundle

from backend import clock
from backend.domain.enums import AccessAction, Profession, RecordStatus, Section
from backend.models import AccessEvent, Account, BlockedPractitioner, Grant, Record
from tests import factories
from tests.audit_faults import access_event_writes_fail
from tests.conftest import Caller, session_for
from tests.document_samples import pdf, png, upload

EXPORT = """
mutation ($format: ExportFormat!) {
  exportMyRecord(format: $format) { fileName contentType content }
}"""

# The resource type(s) each section's entries become in the Bundle.
FHIR_TYPES = {
    "MEDICATIONS": {"MedicationDispense", "MedicationStatement"},
    "MEDICAL_DEVICES": {"DeviceUseStatement"},
    "PROCEDURES": {"Procedure"},
    "IMAGING": {"ImagingStudy"},
    "LAB_RESULTS": {"Observation", "DiagnosticReport"},
    "HOSPITAL_STAYS": {"Encounter"},
    "MEDICAL_HISTORY": {"Condition"},
    "ALLERGIES": {"AllergyIntolerance"},
    "VACCINATIONS": {"Immunization"},
    "DOCUMENTS": {"DocumentReference"},
    "EMERGENCY": {"Basic"},
}


async def full_record(client: httpx.AsyncClient) -> tuple[Account, Record, Caller, dict[str, bytes]]:
    """A record with entries in every section, a masked one, files, sharing and an emergency profile."""
    owner, record = await factories.patient()
    doctor, doctor_pro = await factories.practitioner()
    _, nurse = await factories.practitioner(Profession.INFIRMIER)
    _, blocked = await factories.practitioner(Profession.KINESITHERAPEUTE)
    await Grant.create(record=record, practitioner=nurse, sections=["DOCUMENTS", "MEDICATIONS"])
    await BlockedPractitioner.create(record=record, practitioner=blocked)
    await Record.filter(id=record.id).update(
        treating_physician_id=doctor_pro.id, blood_group="O+", advance_directives="Pas d'acharnement",
        emergency_contacts=[{"name": "Bob", "phone": "+33600000000", "relation": "frère"}],
    )
    e = factories.entry
    await e(record, Section.MEDICATIONS, title="Doliprane 1000", cip13="3400930000001", atc="N02BE01",
            quantity=2)
    await e(record, Section.MEDICATIONS, title="Amoxicilline", author=doctor, dose="1 g x3")
    await e(record, Section.MEDICAL_DEVICES, title="Lecteur de glycémie", lppCode="1234567")
    await e(record, Section.PROCEDURES, title="Appendicectomie", ccamCode="HHFA016", performer="Dr X")
    await e(record, Section.IMAGING, title="IRM du genou", modality="MR", bodySite="genou",
            report="RAS")
    await e(record, Section.IMAGING, title="Échographie", modality="écho")
    await e(record, Section.LAB_RESULTS, title="Glycémie", analyte="Glucose", loinc="2345-7",
            value="5.4", unit="mmol/L", referenceRange="3.9-5.5", abnormal=False)
    await e(record, Section.LAB_RESULTS, title="CRP", value="élevée", abnormal=True)
    await e(record, Section.HOSPITAL_STAYS, title="Séjour chirurgie", facility="CHU",
            admissionDate="2024-01-02", dischargeDate="2024-01-05")
    await e(record, Section.MEDICAL_HISTORY, title="Diabète", condition="Diabète de type 2",
            icd10="E11", author=doctor)
    await e(record, Section.ALLERGIES, title="Pénicilline", substance="Pénicilline",
            reaction="Urticaire", severity="moderate", author=doctor)
    await e(record, Section.ALLERGIES, title="Arachide", substance="Arachide", masked=True,
            author=doctor)
    await e(record, Section.VACCINATIONS, title="DTP", vaccine="DTPolio", lot="AB12", doseNumber=3)
    await e(record, Section.EMERGENCY, title="Porteur de pacemaker")
    caller = Caller(client, session=await session_for(owner))
    files = {"DOCUMENTS": pdf("compte rendu"), "LAB_RESULTS": png("bilan")}
    for section, content in files.items():
        (await upload(caller, content, f"{section}.bin", section=section)).ok()
    return owner, record, caller, files


async def export(caller: Caller, fmt: str) -> dict[str, Any]:
    result = await caller.gql(EXPORT, {"format": fmt})
    return dict(result.ok()["exportMyRecord"])


async def section_counts(record: Record) -> Counter[str]:
    from backend.models import Entry

    return Counter(str(s) for s in await Entry.filter(record_id=record.id).values_list("section", flat=True))


async def test_json_export_holds_the_whole_record(client: httpx.AsyncClient) -> None:
    _, record, caller, files = await full_record(client)
    payload = await export(caller, "JSON")
    assert payload["contentType"] == "application/json"
    assert payload["fileName"].startswith("dmp-export-") and payload["fileName"].endswith(".json")
    data = json.loads(payload["content"])
    assert data["identity"]["ins"] == record.ins
    assert data["identity"]["birthDate"] == "1985-06-12"
    counts = await section_counts(record)
    assert {s: len(v) for s, v in data["sections"].items() if v} == dict(counts)
    assert set(data["sections"]) == {s.value for s in Section}
    masked = [e for e in data["sections"]["ALLERGIES"] if e["masked"]]
    assert [e["title"] for e in masked] == ["Arachide"]
    for section, content in files.items():
        (entry,) = [e for e in data["sections"][section] if e["file"]]
        assert base64.b64decode(entry["file"]["data"]) == content
        assert entry["file"]["size"] == len(content)
    assert data["emergencyProfile"] == {
        "bloodGroup": "O+",
        "emergencyContacts": [{"name": "Bob", "phone": "+33600000000", "relation": "frère"}],
        "advanceDirectives": "Pas d'acharnement",
    }
    sharing = data["sharing"]
    assert [g["sections"] for g in sharing["grants"]] == [["DOCUMENTS", "MEDICATIONS"]]
    assert sharing["treatingPhysician"]["profession"] == "medecin"
    assert [b["profession"] for b in sharing["blockedPractitioners"]] == ["kinesitherapeute"]
    assert sharing["allowBreakGlass"] is True
    event = await AccessEvent.filter(record_id=record.id).order_by("-seq").first()
    assert event is not None
    assert event.action == AccessAction.RECORD_EXPORTED.value
    assert event.mode == "OWNER"


async def test_fhir_export_is_a_valid_r4_bundle_with_one_resource_per_entry(
    client: httpx.AsyncClient,
) -> None:
    _, record, caller, files = await full_record(client)
    payload = await export(caller, "FHIR")
    assert payload["contentType"] == "application/fhir+json"
    bundle = Bundle.model_validate(json.loads(payload["content"]))
    assert bundle.type == "collection"
    resources = [item.resource for item in bundle.entry]
    by_type = Counter(r.get_resource_type() for r in resources)
    counts = await section_counts(record)

    def tagged(section: str) -> list[Any]:
        return [r for r in resources if r.meta and any(t.code == section for t in r.meta.tag or [])]

    for section, types in FHIR_TYPES.items():
        in_section = tagged(section)
        assert len(in_section) == counts[section], section
        assert {r.get_resource_type() for r in in_section} <= types, section
    # Types that only entries produce: their counts equal their sections' counts.
    assert by_type["Patient"] == 1
    assert by_type["MedicationDispense"] + by_type["MedicationStatement"] == counts["MEDICATIONS"]
    assert by_type["MedicationDispense"] == 1  # the insurer's dispensation
    assert by_type["DeviceUseStatement"] == counts["MEDICAL_DEVICES"]
    assert by_type["Procedure"] == counts["PROCEDURES"]
    assert by_type["ImagingStudy"] == counts["IMAGING"]
    assert by_type["Encounter"] == counts["HOSPITAL_STAYS"]
    assert by_type["Condition"] == counts["MEDICAL_HISTORY"]
    assert by_type["AllergyIntolerance"] == counts["ALLERGIES"]
    assert by_type["Immunization"] == counts["VACCINATIONS"]
    assert by_type["Basic"] == counts["EMERGENCY"]
    # LAB_RESULTS: an Observation per result, a DiagnosticReport per attached lab report;
    # the emergency profile adds one blood-group Observation and one advance-directives document.
    assert by_type["Observation"] + by_type["DiagnosticReport"] == counts["LAB_RESULTS"] + 1
    assert by_type["DocumentReference"] == counts["DOCUMENTS"] + 1

    (patient,) = [r for r in resources if r.get_resource_type() == "Patient"]
    assert patient.identifier[0].value == record.ins
    assert patient.contact[0].telecom[0].value == "+33600000000"
    (document,) = tagged("DOCUMENTS")
    attachment = document.content[0].attachment
    assert attachment.contentType == "application/pdf"
    # fhir.resources decodes base64Binary on validation; the wire form is base64.
    assert attachment.data == files["DOCUMENTS"]
    assert base64.b64encode(files["DOCUMENTS"]).decode() in payload["content"]
    (report,) = [r for r in resources if r.get_resource_type() == "DiagnosticReport"]
    assert report.presentedForm[0].data == files["LAB_RESULTS"]
    assert report.presentedForm[0].contentType == "image/png"
    masked = [r for r in resources if r.meta and r.meta.security]
    assert [r.code.text for r in masked] == ["Arachide"]
    # R4's rule ait-1: an allergy's clinical status, unless entered in error.
    assert all(r.clinicalStatus.coding[0].code == "active" for r in tagged("ALLERGIES"))
    # The document's date of care, and its title beside its description.
    assert str(document.context.period.start) == str(attachment.creation)
    assert document.description.startswith("Compte rendu")


async def test_fhir_export_marks_corrections_codes_and_unreadable_files(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backend.models import Entry
    from backend.resolvers import export as export_module

    owner, record = await factories.patient()
    caller = Caller(client, session=await session_for(owner))
    stay = await factories.entry(record, Section.HOSPITAL_STAYS, title="Appendicectomie — CHU")
    await Entry.filter(id=stay.id).update(code="K35.8")
    old = await factories.entry(record, Section.MEDICAL_HISTORY, title="Hypertension", icd10="I10")
    new = await factories.entry(record, Section.MEDICAL_HISTORY, title="Hypertension (corrigé)",
                                icd10="I15.0")
    await Entry.filter(id=old.id).update(superseded=True)
    await Entry.filter(id=new.id).update(supersedes_id=old.id)
    (await upload(caller, pdf("illisible"), "cr.pdf")).ok()

    async def unreadable(*_args: Any, **_kwargs: Any) -> bytes:
        raise OSError("the stored file is gone")

    monkeypatch.setattr(export_module.storage, "read", unreadable)
    bundle = Bundle.model_validate(json.loads((await export(caller, "FHIR"))["content"]))
    by_id = {item.resource.id: item.resource for item in bundle.entry}

    (reason,) = by_id[str(stay.id)].reasonCode
    assert [(c.system, c.code) for c in reason.coding] == [("http://hl7.org/fhir/sid/icd-10", "K35.8")]

    def state(resource: Any) -> list[str]:
        return [t.code for t in resource.meta.tag if t.system == "urn:dmp:state"]

    assert state(by_id[str(old.id)]) == ["superseded"] and state(by_id[str(new.id)]) == []
    (document,) = [r for r in by_id.values() if r.get_resource_type() == "DocumentReference"
                   and r.content[0].attachment.contentType == "application/pdf"]
    attachment = document.content[0].attachment
    assert attachment.data is None
    assert [(x.url, x.valueBoolean) for x in attachment.extension] == [("urn:dmp:unreadable", True)]


async def test_owner_exports_a_closed_record(client: httpx.AsyncClient) -> None:
    owner, record = await factories.patient()
    await factories.entry(record, Section.VACCINATIONS, title="ROR")
    await Record.filter(id=record.id).update(status=RecordStatus.CLOSED)
    caller = Caller(client, session=await session_for(owner))
    data = json.loads((await export(caller, "JSON"))["content"])
    assert data["identity"]["status"] == "CLOSED"
    assert [e["title"] for e in data["sections"]["VACCINATIONS"]] == ["ROR"]
    bundle = Bundle.model_validate(json.loads((await export(caller, "FHIR"))["content"]))
    assert [i.resource.get_resource_type() for i in bundle.entry] == ["Patient", "Immunization", "AuditEvent"]
    actions = await AccessEvent.filter(record_id=record.id).values_list("action", flat=True)
    assert actions == [AccessAction.RECORD_EXPORTED.value] * 2


async def test_owner_exports_during_the_deletion_grace_period(client: httpx.AsyncClient) -> None:
    """Export is the patient's at any time (DESIGN §2): after asking for deletion too, to keep
    a copy before the purge, without cancelling it (which would give practitioners back
    their access)."""
    owner, record = await factories.patient()
    await factories.entry(record, Section.VACCINATIONS, title="ROR")
    requested = clock.now()
    await Record.filter(id=record.id).update(status=RecordStatus.DELETED, deletion_requested_at=requested)
    caller = Caller(client, session=await session_for(owner))
    data = json.loads((await export(caller, "JSON"))["content"])
    assert data["identity"]["status"] == "DELETED"
    # When it was asked for: the copy says how long the record was to stay.
    assert datetime.fromisoformat(data["identity"]["deletionRequestedAt"]) == requested
    assert [e["title"] for e in data["sections"]["VACCINATIONS"]] == ["ROR"]
    actions = await AccessEvent.filter(record_id=record.id).values_list("action", flat=True)
    assert actions == [AccessAction.RECORD_EXPORTED.value]
    assert (await Record.get(id=record.id)).status == RecordStatus.DELETED


async def test_only_the_owner_exports(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    doctor, doctor_pro = await factories.practitioner()
    await Record.filter(id=record.id).update(treating_physician_id=doctor_pro.id)
    practitioner = await Caller(client, session=await session_for(doctor)).gql(EXPORT, {"format": "JSON"})
    anonymous = await Caller(client).gql(EXPORT, {"format": "FHIR"})
    assert practitioner.codes == ["FORBIDDEN"]
    assert anonymous.codes == ["UNAUTHENTICATED"]
    assert practitioner.data is None and anonymous.data is None
    assert await AccessEvent.filter(record_id=record.id).count() == 0


async def test_no_content_when_the_export_event_cannot_be_written(client: httpx.AsyncClient) -> None:
    owner, record = await factories.patient()
    await factories.entry(record, Section.ALLERGIES, title="Latex")
    caller = Caller(client, session=await session_for(owner))
    async with access_event_writes_fail():
        result = await caller.gql(EXPORT, {"format": "JSON"})
    assert result.codes == ["INTERNAL"]
    assert result.data is None
    assert "Latex" not in result.response.text
    assert await AccessEvent.filter(record_id=record.id).count() == 0


async def _export_queries(caller: Caller, caplog: pytest.LogCaptureFixture) -> int:
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
        await export(caller, "FHIR")
    return len([r for r in caplog.records if r.name == "tortoise.db_client"])


async def test_export_costs_the_same_queries_for_a_small_and_a_large_record(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    owner, record = await factories.patient()
    caller = Caller(client, session=await session_for(owner))
    await factories.entry(record, Section.ALLERGIES, title="Latex")
    (await upload(caller, pdf(), section="DOCUMENTS")).ok()
    _, nurse = await factories.practitioner(Profession.INFIRMIER)
    await Grant.create(record=record, practitioner=nurse, sections=["DOCUMENTS"])
    # The hour's export counter is made by the first export (one statement more than later).
    await _export_queries(caller, caplog)
    small = await _export_queries(caller, caplog)
    assert small >= 5  # session, record, grants, entries, files, …
    for n in range(30):
        await factories.entry(record, list(Section)[n % len(Section)], title=f"Entry {n}")
    for _ in range(3):
        (await upload(caller, png(), section="LAB_RESULTS")).ok()
    for _ in range(3):
        _, pro = await factories.practitioner()
        await Grant.create(record=record, practitioner=pro, sections=["MEDICATIONS"])
    assert await _export_queries(caller, caplog) == small


async def test_exports_asked_at_once_are_built_one_at_a_time(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An export holds the record's documents in memory several times over: exports asked at
    the same moment take turns, so their memory does not add up."""
    from backend.resolvers import export as export_module

    building = 0
    most = 0
    load = export_module.load_snapshot

    async def counted(record: Record) -> export_module.Snapshot:
        nonlocal building, most
        building += 1
        most = max(most, building)
        try:
            await asyncio.sleep(0.05)  # others ask meanwhile
            return await load(record)
        finally:
            building -= 1

    monkeypatch.setattr(export_module, "load_snapshot", counted)
    callers = []
    for _ in range(3):
        owner, record = await factories.patient()
        await factories.entry(record, Section.VACCINATIONS, title="ROR")
        callers.append(Caller(client, session=await session_for(owner)))
    answers = await asyncio.gather(*(export(caller, "JSON") for caller in callers))
    assert all(json.loads(a["content"])["sections"]["VACCINATIONS"] for a in answers)
    assert most == 1


async def test_the_file_is_named_after_the_day_in_france(client: httpx.AsyncClient) -> None:
    """At half past midnight in Paris it is still the day before in UTC: the file bears the
    patient's day, as every date the service gives when none was typed."""
    owner, _ = await factories.patient()
    clock.shift(datetime(2026, 12, 7, 23, 30, tzinfo=UTC) - clock.now())  # 00:30 on the 8th in Paris
    caller = Caller(client, session=await session_for(owner))
    assert (await export(caller, "JSON"))["fileName"] == "dmp-export-2026-12-08.json"
    assert (await export(caller, "FHIR"))["fileName"] == "dmp-export-2026-12-08.fhir.json"
