"""The structured details of an entry, per section: allowed keys, their types and codes.

Details are stored as JSON with these camelCase keys (read by `schema/types.to_entry`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from backend.domain.codes import CHECKS, InvalidCode, normalize_code
from backend.domain.enums import Section
from backend.domain.reasons import Reason, Refused
from backend.domain.text import without_invisible

# kind: "str" (short text), "text" (long text), "int" (a whole number from 0 to its limit),
# "positive" (from 1: a dose number counts from the first, and FHIR's doseNumberPositiveInt,
# which the export writes, refuses 0), "bool", "date", or a code system name.
FieldSpec = tuple[str, int]

SHORT = 200
LONG = 10_000
# No care is dated before this day, as the date of an entry (DATE_TOO_OLD).
OLDEST_CARE_DATE = dt.date(1900, 1, 1)
# The unknown keys a refusal names, each cut to a few characters: the refusal does not grow
# with what the caller sent.
UNKNOWN_NAMED = 10
UNKNOWN_NAME_CHARS = 40

DETAIL_FIELDS: dict[Section, dict[str, FieldSpec]] = {
    Section.MEDICATIONS: {
        "cip13": ("cip13", 0), "atc": ("atc", 0), "dose": ("str", SHORT),
        "prescriber": ("str", SHORT), "quantity": ("int", 10_000),
    },
    Section.MEDICAL_DEVICES: {"lppCode": ("lpp", 0), "quantity": ("int", 10_000)},
    Section.PROCEDURES: {"ccamCode": ("ccam", 0), "performer": ("str", SHORT)},
    Section.IMAGING: {
        "ccamCode": ("ccam", 0), "modality": ("str", SHORT), "bodySite": ("str", SHORT),
        "report": ("text", LONG),
    },
    Section.LAB_RESULTS: {
        "analyte": ("str", SHORT), "loinc": ("loinc", 0), "value": ("str", SHORT),
        "unit": ("str", SHORT), "referenceRange": ("str", SHORT), "abnormal": ("bool", 0),
    },
    Section.HOSPITAL_STAYS: {
        "facility": ("str", SHORT), "admissionDate": ("date", 0), "dischargeDate": ("date", 0),
    },
    Section.MEDICAL_HISTORY: {
        "condition": ("str", SHORT), "icd10": ("icd10", 0), "notes": ("text", LONG),
    },
    Section.ALLERGIES: {
        "substance": ("str", SHORT), "reaction": ("str", SHORT), "severity": ("str", SHORT),
    },
    Section.VACCINATIONS: {
        "vaccine": ("str", SHORT), "lot": ("str", SHORT), "doseNumber": ("positive", 100),
    },
    Section.DOCUMENTS: {"documentType": ("str", SHORT), "description": ("text", LONG)},
}


class InvalidDetails(Refused):
    """Details that do not fit their section."""


def _field(key: str, kind: str, limit: int, value: Any, today: dt.date, earliest: dt.date,
           born: dt.date | None) -> Any:
    if kind in ("str", "text"):
        if not isinstance(value, str):
            raise InvalidDetails(
                f"details.{key} must be a string", Reason.FIELD_INVALID, field=f"details.{key}"
            )
        value = value.strip()
        if len(value) > limit:
            raise InvalidDetails(
                f"details.{key} is longer than {limit} characters", Reason.FIELD_TOO_LONG,
                field=f"details.{key}", max=limit,
            )
        return value
    if kind in ("int", "positive"):
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidDetails(
                f"details.{key} must be an integer", Reason.FIELD_INVALID, field=f"details.{key}"
            )
        least = 1 if kind == "positive" else 0
        if not least <= value <= limit:
            raise InvalidDetails(
                f"details.{key} must be between {least} and {limit}", Reason.OUT_OF_RANGE,
                field=f"details.{key}", min=least, max=limit,
            )
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise InvalidDetails(
                f"details.{key} must be true or false", Reason.FIELD_INVALID, field=f"details.{key}"
            )
        return value
    if kind == "date":
        day: dt.date | None
        if isinstance(value, dt.date):
            day = value
        else:
            try:
                day = dt.date.fromisoformat(value) if isinstance(value, str) else None
            except ValueError:
                day = None
        if day is None:
            raise InvalidDetails(
                f"details.{key} must be a date (YYYY-MM-DD)", Reason.FIELD_INVALID, field=f"details.{key}"
            )
        if day > today:
            raise InvalidDetails(
                f"details.{key} is in the future", Reason.DATE_IN_FUTURE, field=f"details.{key}"
            )
        if day < earliest:
            raise InvalidDetails(
                f"details.{key} is too far in the past", Reason.DATE_TOO_OLD, field=f"details.{key}"
            )
        if born is not None and day < born:
            raise InvalidDetails(
                f"details.{key} is before the patient's birth", Reason.DATE_BEFORE_BIRTH,
                field=f"details.{key}",
            )
        return day.isoformat()
    if not isinstance(value, str):
        raise InvalidDetails(f"details.{key} must be a string", Reason.FIELD_INVALID, field=f"details.{key}")
    try:
        return normalize_code(kind, value)
    except InvalidCode:
        # Not quoted back (normalize_code says why).
        raise InvalidDetails(
            f"details.{key} must be {CHECKS[kind][1]}", Reason.CODE_INVALID, field=f"details.{key}"
        ) from None


def _named(keys: list[str]) -> list[str]:
    """The first unknown keys, as a refusal names them: short, on one line, visible."""
    return [without_invisible(" ".join(key.split()))[:UNKNOWN_NAME_CHARS] for key in keys[:UNKNOWN_NAMED]]


def normalize_details(
    section: Section, details: Any, today: dt.date, *, born: dt.date | None = None
) -> dict[str, Any]:
    """The details of one entry, checked and normalized; empty and null values dropped. Dates
    lie between OLDEST_CARE_DATE (and `born`, the patient's birth date, where known) and
    `today`."""
    if details is None:
        return {}
    if not isinstance(details, dict):
        raise InvalidDetails("details must be an object", Reason.FIELD_INVALID, field="details")
    spec = DETAIL_FIELDS.get(section, {})
    unknown = sorted(set(details) - set(spec))
    if unknown:
        named = _named(unknown)
        more = f" and {len(unknown) - len(named)} more" if len(unknown) > len(named) else ""
        raise InvalidDetails(
            f"unknown details for {section.value}: {', '.join(named)}{more}",
            Reason.DETAILS_UNKNOWN,
            fields=named,
        )
    clean: dict[str, Any] = {}
    for key, (kind, limit) in spec.items():
        value = details.get(key)
        if value is None or value == "":
            continue
        clean[key] = _field(key, kind, limit, value, today, OLDEST_CARE_DATE, born)
    admission, discharge = clean.get("admissionDate"), clean.get("dischargeDate")
    if admission and discharge and discharge < admission:
        raise InvalidDetails(
            "details.dischargeDate is before details.admissionDate", Reason.DATES_REVERSED,
            field="details.dischargeDate",
        )
    return clean
