"""Content mutations: the insurer's import, addEntry, masking, deletion, emergency profile."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types.arguments import InputContext
from strawberry.types.base import get_object_definition
from strawberry.utils.str_converters import to_camel_case

from backend.domain import enums
from backend.resolvers import content, imports, records
from backend.resolvers.context import Info
from backend.resolvers.records import RecordView
from backend.schema.record import EmergencyContact, EmergencyProfile
from backend.schema.types import Entry, Section, to_entry

# --- importCareHistory ------------------------------------------------------------------


@strawberry.input(description="One care item the insurer holds for an insured person.")
class CareItemInput:
    ins: str
    first_name: str
    last_name: str
    birth_date: dt.date
    contact_email: str | None = strawberry.field(
        default=None, description="Where the activation code goes if the import opens the record"
    )
    external_id: str = strawberry.field(description="The insurer's id; imports are idempotent on it")
    section: Section = strawberry.field(
        description="MEDICATIONS, MEDICAL_DEVICES, PROCEDURES, IMAGING, LAB_RESULTS or HOSPITAL_STAYS"
    )
    code: str = ""
    title: str
    date: dt.date
    details: JSON | None = None


@strawberry.type
class ImportRejection:
    index: int
    external_id: str
    code: str
    message: str


@strawberry.type
class ImportPayload:
    accepted: int
    created: int
    corrected: int
    unchanged: int
    rejected: list[ImportRejection]


def _care_item_input(cls: type, value: Mapping[str, Any], context: InputContext) -> imports.CareItem:
    """The import's CareItem, built straight from a CareItemInput's validated GraphQL value.

    graphql-core has already coerced every field (dates, the section enum, JSON); the generic
    per-field conversion, then a CareItemInput copied into a CareItem, would cost more than
    the import's own checks on a 5,000-item batch. So the resolver receives CareItems.
    """
    return imports.CareItem(
        ins=value["ins"], first_name=value["firstName"], last_name=value["lastName"],
        birth_date=value["birthDate"], external_id=value["externalId"],
        section=enums.Section(value["section"]), code=value.get("code") or "",
        title=value["title"], date=value["date"], details=value.get("details"),
        contact_email=value.get("contactEmail"),
    )


get_object_definition(CareItemInput, strict=True).from_input = _care_item_input


# --- addEntry ---------------------------------------------------------------------------


@strawberry.input
class MedicationInput:
    cip13: str | None = None
    atc: str | None = None
    dose: str | None = None
    prescriber: str | None = None
    quantity: int | None = None


@strawberry.input
class MedicalDeviceInput:
    lpp_code: str | None = None
    quantity: int | None = None


@strawberry.input
class ProcedureInput:
    ccam_code: str | None = None
    performer: str | None = None


@strawberry.input
class ImagingInput:
    ccam_code: str | None = None
    modality: str | None = None
    body_site: str | None = None
    report: str | None = None


@strawberry.input
class LabResultInput:
    analyte: str | None = None
    loinc: str | None = None
    value: str | None = None
    unit: str | None = None
    reference_range: str | None = None
    abnormal: bool | None = None


@strawberry.input
class HospitalStayInput:
    facility: str | None = None
    admission_date: dt.date | None = None
    discharge_date: dt.date | None = None


@strawberry.input
class MedicalHistoryInput:
    condition: str | None = None
    icd10: str | None = None
    notes: str | None = None


@strawberry.input
class AllergyInput:
    substance: str | None = None
    reaction: str | None = None
    severity: str | None = None


@strawberry.input
class VaccinationInput:
    vaccine: str | None = None
    lot: str | None = None
    dose_number: int | None = None


@strawberry.input
class DocumentInput:
    document_type: str | None = None
    description: str | None = None


@strawberry.input(description="A new entry; give the structured sub-input of its section.")
class AddEntryInput:
    ins: str | None = strawberry.field(
        default=None, description="The patient's INS; omitted by a patient for their own record"
    )
    section: Section
    title: str
    date: dt.date
    code: str | None = None
    supersedes: strawberry.ID | None = strawberry.field(
        default=None,
        description="The entry this one corrects (same record, section and author); an entry holding a "
        "file is corrected with uploadDocument(supersedes) instead",
    )
    medication: MedicationInput | None = None
    medical_device: MedicalDeviceInput | None = None
    procedure: ProcedureInput | None = None
    imaging: ImagingInput | None = None
    lab_result: LabResultInput | None = None
    hospital_stay: HospitalStayInput | None = None
    medical_history: MedicalHistoryInput | None = None
    allergy: AllergyInput | None = None
    vaccination: VaccinationInput | None = None
    document: DocumentInput | None = None


_SUB_INPUTS: dict[str, enums.Section] = {
    "medication": enums.Section.MEDICATIONS,
    "medical_device": enums.Section.MEDICAL_DEVICES,
    "procedure": enums.Section.PROCEDURES,
    "imaging": enums.Section.IMAGING,
    "lab_result": enums.Section.LAB_RESULTS,
    "hospital_stay": enums.Section.HOSPITAL_STAYS,
    "medical_history": enums.Section.MEDICAL_HISTORY,
    "allergy": enums.Section.ALLERGIES,
    "vaccination": enums.Section.VACCINATIONS,
    "document": enums.Section.DOCUMENTS,
}


def _details_of(sub: Any) -> dict[str, Any]:
    """A sub-input as stored details: camelCase keys, unset values left out."""
    return {
        to_camel_case(f.name): getattr(sub, f.name)
        for f in dataclasses.fields(sub)
        if getattr(sub, f.name) is not None
    }


def _new_entry(data: AddEntryInput) -> content.NewEntry:
    structured = [
        (section, _details_of(getattr(data, name)))
        for name, section in _SUB_INPUTS.items()
        if getattr(data, name) is not None
    ]
    return content.NewEntry(
        section=enums.Section(data.section), title=data.title, date=data.date, ins=data.ins,
        code=data.code, supersedes=str(data.supersedes) if data.supersedes else None,
        structured=structured,
    )


@strawberry.type
class AddEntryPayload:
    entry: Entry


# --- the emergency profile --------------------------------------------------------------


@strawberry.input
class EmergencyContactInput:
    name: str
    phone: str
    relation: str | None = None


@strawberry.input(description="Fields left out stay as they are; an empty bloodGroup clears it.")
class EmergencyProfileInput:
    ins: str | None = strawberry.field(
        default=None, description="The patient's INS, for their treating physician"
    )
    blood_group: str | None = None
    emergency_contacts: list[EmergencyContactInput] | None = None
    advance_directives: str | None = None


def _profile_input(cls: type, value: Mapping[str, Any], context: InputContext) -> content.EmergencyUpdate:
    """The update, built straight from an EmergencyProfileInput's validated GraphQL value: the
    contacts stay the dicts graphql-core made (name, phone, relation), which `_contacts` reads
    and counts after the access decision. Converted one by one into EmergencyContactInputs, a
    list of 100,000 contacts sent to be refused cost seconds of the event loop."""
    contacts = value.get("emergencyContacts")
    return content.EmergencyUpdate(
        ins=value.get("ins"), blood_group=value.get("bloodGroup"),
        contacts=list(contacts) if contacts is not None else None,
        advance_directives=value.get("advanceDirectives"),
    )


get_object_definition(EmergencyProfileInput, strict=True).from_input = _profile_input


@strawberry.type
class EmergencyProfilePayload:
    emergency_profile: EmergencyProfile


def _profile(info: Info, view: RecordView) -> EmergencyProfile:
    data = records.emergency_profile(info.context, view)
    return EmergencyProfile(
        blood_group=data["blood_group"],
        emergency_contacts=[
            EmergencyContact(name=str(c.get("name", "")), phone=str(c.get("phone", "")),
                             relation=c.get("relation"))
            for c in data["emergency_contacts"]
            if isinstance(c, dict)
        ],
        advance_directives=data["advance_directives"],
    )


@strawberry.type
class ContentMutation:
    @strawberry.mutation(
        description="The insurer imports care history (at most 5,000 items); idempotent per "
        "external id; per-item failures are listed in `rejected`."
    )
    async def import_care_history(self, info: Info, items: list[CareItemInput]) -> ImportPayload:
        # CareItemInput's from_input gives CareItems (above).
        result = await imports.import_care_history(info.context, cast("list[imports.CareItem]", items))
        return ImportPayload(
            accepted=result.accepted, created=result.created, corrected=result.corrected,
            unchanged=result.unchanged,
            rejected=[ImportRejection(index=r.index, external_id=r.external_id, code=r.code,
                                      message=r.message) for r in result.rejected],
        )

    @strawberry.mutation(description="A practitioner, or the patient in their own record, adds an entry.")
    async def add_entry(self, info: Info, input: AddEntryInput) -> AddEntryPayload:
        entry, view = await content.add_entry(info.context, _new_entry(input))
        return AddEntryPayload(entry=to_entry(entry, view.is_owner))

    @strawberry.mutation(description="The patient masks an entry (and its other versions).")
    async def mask_entry(self, info: Info, id: strawberry.ID) -> Entry:
        entry, _ = await content.set_masked(info.context, str(id), True)
        return to_entry(entry, True)

    @strawberry.mutation(description="The patient unmasks an entry (and its other versions).")
    async def unmask_entry(self, info: Info, id: strawberry.ID) -> Entry:
        entry, _ = await content.set_masked(info.context, str(id), False)
        return to_entry(entry, True)

    @strawberry.mutation(description="The patient masks every entry; returns how many were masked.")
    async def mask_all_entries(self, info: Info) -> int:
        return await content.mask_all(info.context)

    @strawberry.mutation(description="The patient deletes an entry they added themselves.")
    async def delete_entry(self, info: Info, id: strawberry.ID) -> bool:
        return await content.delete_entry(info.context, str(id))

    @strawberry.mutation(description="The patient, or their treating physician, edits the emergency profile.")
    async def update_emergency_profile(
        self, info: Info, input: EmergencyProfileInput
    ) -> EmergencyProfilePayload:
        # EmergencyProfileInput's from_input gives an EmergencyUpdate (above).
        update = cast("content.EmergencyUpdate", input)
        view = await content.update_emergency_profile(info.context, update)
        return EmergencyProfilePayload(emergency_profile=_profile(info, view))


QUERIES: tuple[type, ...] = ()
MUTATIONS: tuple[type, ...] = (ContentMutation,)
