"""Enums, the Entry interface and one concrete type per section (DESIGN §6)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import strawberry

from backend import sql
from backend.domain import enums
from backend.models import Entry as EntryModel

# The domain enums are the GraphQL enums (strawberry.enum registers the class itself).
for _enum in (
    enums.Section, enums.AccessMode, enums.RecordStatus, enums.EntrySource, enums.Role,
    enums.AccessAction, enums.EmergencyKind, enums.ReviewState, enums.CodeChannel,
):
    strawberry.enum(_enum)

Section = enums.Section
AccessMode = enums.AccessMode
RecordStatus = enums.RecordStatus
EntrySource = enums.EntrySource
Role = enums.Role
AccessAction = enums.AccessAction
EmergencyKind = enums.EmergencyKind
ReviewState = enums.ReviewState
CodeChannel = enums.CodeChannel


@strawberry.type
class Author:
    display_name: str
    profession: str | None


@strawberry.interface
class Entry:
    id: strawberry.ID
    section: Section
    title: str
    code: str
    date: dt.date
    source: EntrySource
    author: Author | None
    created_at: dt.datetime
    supersedes: strawberry.ID | None
    superseded: bool
    masked: bool | None = strawberry.field(
        description="Whether the patient masked this entry; only the owner is told."
    )

    def __getattr__(self, name: str) -> Any:
        """A field of an entry made by `to_entry` that is read from the stored entry it keeps
        on first use: `created_at`, `author`, or its details fields (all of them at once).
        The stored entry is dropped once all are read. Any other missing name is missing."""
        values = self.__dict__
        source = values.get(_PENDING)
        details = _DETAIL_NAMES.get(type(self))
        if source is None or details is None:
            raise AttributeError(name)
        read = _READ_LATER.get(name)
        if read is not None:
            values[name] = read(source)
        elif name in details:
            values.update(_DETAILS[type(self)](_details_of(source), source))
        else:
            raise AttributeError(name)
        if all(later in values for later in _READ_LATER) and (not details or next(iter(details)) in values):
            del values[_PENDING]
        return values[name]


# Kept in an entry made by `to_entry` until its details and the fields of `_READ_LATER`
# are read: the stored entry.
_PENDING = "_dmp_stored_entry"
# A page row's details are the column's JSON text, its `created_at` the driver's value:
# read as the ORM reads them.
_decode_details = sql.driver_reader(EntryModel, "details")
# Made on first use: it reads the ORM's time zone, set when the ORM starts.
_read_created_at: Callable[[Any], Any] | None = None


@strawberry.type
class MedicationEntry(Entry):
    cip13: str | None
    atc: str | None
    dose: str | None
    prescriber: str | None
    quantity: int | None


@strawberry.type
class MedicalDeviceEntry(Entry):
    lpp_code: str | None
    quantity: int | None


@strawberry.type
class ProcedureEntry(Entry):
    ccam_code: str | None
    performer: str | None


@strawberry.type
class ImagingEntry(Entry):
    ccam_code: str | None
    modality: str | None
    body_site: str | None
    report: str | None


@strawberry.type
class LabResultEntry(Entry):
    analyte: str | None
    loinc: str | None
    value: str | None
    unit: str | None
    reference_range: str | None
    abnormal: bool | None
    file_name: str | None = strawberry.field(description="An attached lab report, if any.")
    content_type: str | None
    download_url: str | None


@strawberry.type
class HospitalStayEntry(Entry):
    facility: str | None
    admission_date: dt.date | None
    discharge_date: dt.date | None


@strawberry.type
class MedicalHistoryEntry(Entry):
    condition: str | None
    icd10: str | None
    notes: str | None


@strawberry.type
class AllergyEntry(Entry):
    substance: str | None
    reaction: str | None
    severity: str | None


@strawberry.type
class VaccinationEntry(Entry):
    vaccine: str | None
    lot: str | None
    dose_number: int | None


@strawberry.type
class DocumentEntry(Entry):
    document_type: str | None
    description: str | None
    file_name: str | None
    content_type: str | None
    size: int | None
    download_url: str | None


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return str(value) if value is not None and value != "" else None


class StoredEntry(Protocol):
    """What `to_entry` reads: an `Entry` model, or a page's `EntryRow` (resolvers/entry_pages.py).

    `supersedes_id` and `file_id` are read by name too (a model has them at run time only).
    """

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def section(self) -> enums.Section: ...
    @property
    def title(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def care_date(self) -> dt.date: ...
    @property
    def source(self) -> enums.EntrySource: ...
    @property
    def author_name(self) -> str: ...
    @property
    def author_profession(self) -> str | None: ...
    @property
    def created_at(self) -> dt.datetime | str: ...  # a page row's: the driver's value
    @property
    def superseded(self) -> bool: ...
    @property
    def masked(self) -> bool: ...
    @property
    def details(self) -> dict[str, Any] | str: ...  # a page row's: the column's JSON text


# Members by value, as `enums.SECTION_BY_VALUE` (a dict look-up takes members too).
_SOURCES: dict[str, enums.EntrySource] = {s.value: s for s in enums.EntrySource}


_T = TypeVar("_T")


def made_of(cls: type[_T], fields: dict[str, Any]) -> _T:
    """An instance of a strawberry type that only stores its fields, from their values,
    without the dataclass `__init__`: its `__dict__` is `fields` itself. Through the
    constructor's keyword arguments building one took half as long again; entries and their
    edges are made once per entry of every page (`tests/test_entry_rows.py` checks that the
    instances equal those the constructors build)."""
    made: _T = object.__new__(cls)
    made.__dict__ = fields
    return made


def to_entry(entry: StoredEntry, show_masked_flag: bool) -> Entry:
    """The concrete GraphQL type of a stored entry.

    Its details (the fields of its section's type: a medication's `dose`, an allergy's
    `substance`…) are read from the stored JSON only when one of them is first read, and its
    `created_at` and `author` when they are read: a consultation selects `id title date` of
    each entry, and reading the others for every entry it shows was about a twentieth of its
    instructions (docs/benchmarks.md, steps 28, 29 and 32). Until its details are read,
    the entry holds the one they are read from.
    """
    # Foreign-key columns Tortoise adds at run time, read by name.
    supersedes_id = getattr(entry, "supersedes_id", None)
    s = enums.SECTION_BY_VALUE[entry.section]
    return made_of(_TYPE_OF.get(s, DocumentEntry), {
        "id": str(entry.id),  # strawberry.ID is str at run time
        "section": s,
        "title": entry.title,
        "code": entry.code,
        "date": entry.care_date,
        "source": _SOURCES[entry.source],
        "supersedes": str(supersedes_id) if supersedes_id else None,
        "superseded": entry.superseded,
        "masked": entry.masked if show_masked_flag else None,
        _PENDING: entry,
    })


def _author_of(entry: StoredEntry) -> Author | None:
    if not entry.author_name:
        return None
    return Author(display_name=entry.author_name, profession=entry.author_profession)


def _created_at_of(entry: StoredEntry) -> dt.datetime:
    """The entry's creation time: a model's is the ORM's, a page row's the driver's value."""
    global _read_created_at
    value = entry.created_at
    if isinstance(value, dt.datetime) and isinstance(entry, EntryModel):
        return value
    if _read_created_at is None:
        _read_created_at = sql.driver_reader(EntryModel, "created_at")
    created: dt.datetime = _read_created_at(value)
    return created


# The entry fields besides the details that `to_entry` leaves to be read from the stored
# entry on first use, and how each is read.
_READ_LATER: dict[str, Callable[[StoredEntry], Any]] = {"created_at": _created_at_of, "author": _author_of}


def _details_of(entry: StoredEntry) -> dict[str, Any]:
    """The entry's details: a model's are decoded, a page row's are the column's JSON text."""
    d = entry.details
    if isinstance(d, str):
        d = _decode_details(d)
    return d or {}


def _medication(d: dict[str, Any], entry: StoredEntry) -> dict[str, Any]:
    return {
        "cip13": _str(d.get("cip13")), "atc": _str(d.get("atc")), "dose": _str(d.get("dose")),
        "prescriber": _str(d.get("prescriber")), "quantity": _int(d.get("quantity")),
    }


def _medical_device(d: dict[str, Any], entry: StoredEntry) -> dict[str, Any]:
    return {"lpp_code": _str(d.get("lppCode")), "quantity": _int(d.get("quantity"))}


def _procedure(d: dict[str, Any], entry: StoredEntry) -> dict[str, Any]:
    return {"ccam_code": _str(d.get("ccamCode")), "performer": _str(d.get("performer"))}


def _imaging(d: dict[str, Any], entry: StoredEntry) -> dict[str, Any]:
    return {
        "ccam_code": _str(d.get("ccamCode")), "modality": _str(d.get("modality")),
        "body_site": _str(d.get("bodySite")), "report": _str(d.get("report")),
    }


def _lab_result(d: dict[str, Any], entry: StoredEntry) -> dict[str, Any]:
    abnormal = d.get("abnormal")
    file_id = getattr(entry, "file_id", None)
    return {
        "analyte": _str(d.get("analyte")), "loinc": _str(d.get("loinc")),
        "value": _str(d.get("value")), "unit": _str(d.get("unit")),
        "reference_range": _str(d.get("referenceRange")),
        "abnormal": abnormal if isinstance(abnormal, bool) else None,
        "file_name": _str(d.get("fileName")) if file_id else None,
        "content_type": _str(d.get("contentType")) if file_id else None,
        "download_url": f"/files/{entry.id}" if file_id else None,
    }


def _hospital_stay(d: dict[str, Any], entry: StoredEntry) -> dict[str, Any]:
    return {
        "facility": _str(d.get("facility")),
        "admission_date": _date(d.get("admissionDate")),
        "discharge_date": _date(d.get("dischargeDate")),
    }


def _medical_history(d: dict[str, Any], entry: StoredEntry) -> dict[str, Any]:
    return {
        "condition": _str(d.get("condition")), "icd10": _str(d.get("icd10")), "notes": _str(d.get("notes")),
    }


def _allergy(d: dict[str, Any], entry: StoredEntry) -> dict[str, Any]:
    return {
        "substance": _str(d.get("substance")), "reaction": _str(d.get("reaction")),
        "severity": _str(d.get("severity")),
    }


def _vaccination(d: dict[str, Any], entry: StoredEntry) -> dict[str, Any]:
    return {
        "vaccine": _str(d.get("vaccine")), "lot": _str(d.get("lot")),
        "dose_number": _int(d.get("doseNumber")),
    }


def _document(d: dict[str, Any], entry: StoredEntry) -> dict[str, Any]:
    return {
        "document_type": _str(d.get("documentType")), "description": _str(d.get("description")),
        "file_name": _str(d.get("fileName")), "content_type": _str(d.get("contentType")),
        "size": _int(d.get("size")),
        "download_url": f"/files/{entry.id}" if getattr(entry, "file_id", None) else None,
    }


# Each section's entry type (documents for the rest), and how each type's details fields are
# read.
_TYPE_OF: dict[enums.Section, type[Entry]] = {
    enums.Section.MEDICATIONS: MedicationEntry,
    enums.Section.MEDICAL_DEVICES: MedicalDeviceEntry,
    enums.Section.PROCEDURES: ProcedureEntry,
    enums.Section.IMAGING: ImagingEntry,
    enums.Section.LAB_RESULTS: LabResultEntry,
    enums.Section.HOSPITAL_STAYS: HospitalStayEntry,
    enums.Section.MEDICAL_HISTORY: MedicalHistoryEntry,
    enums.Section.ALLERGIES: AllergyEntry,
    enums.Section.VACCINATIONS: VaccinationEntry,
}
_DETAILS: dict[type[Entry], Callable[[dict[str, Any], StoredEntry], dict[str, Any]]] = {
    MedicationEntry: _medication,
    MedicalDeviceEntry: _medical_device,
    ProcedureEntry: _procedure,
    ImagingEntry: _imaging,
    LabResultEntry: _lab_result,
    HospitalStayEntry: _hospital_stay,
    MedicalHistoryEntry: _medical_history,
    AllergyEntry: _allergy,
    VaccinationEntry: _vaccination,
    DocumentEntry: _document,
}
# The fields each type reads from the details: those not in `Entry` itself.
_DETAIL_NAMES: dict[type[Entry], frozenset[str]] = {
    cls: frozenset(f.name for f in dataclasses.fields(cls)) - {f.name for f in dataclasses.fields(Entry)}
    for cls in _DETAILS
}


ENTRY_TYPES = [
    MedicationEntry,
    MedicalDeviceEntry,
    ProcedureEntry,
    ImagingEntry,
    LabResultEntry,
    HospitalStayEntry,
    MedicalHistoryEntry,
    AllergyEntry,
    VaccinationEntry,
    DocumentEntry,
]
