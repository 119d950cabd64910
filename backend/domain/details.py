"""The structured details of an entry, per section: allowed keys, their types and codes.

Details are stored as JSON with these camelCase keys (read by `schema/types.to_entry`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from backend.domain.codes import InvalidCode, normalize_code
from backend.domain.enums import Section
from backend.domain.reasons import Reason, Refused

# kind: "str" (short text), "text" (long text), "int", "bool", "date", or a code system name.
FieldSpec = tuple[str, int]

SHORT = 200
LONG = 10_000

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
        "vaccine": ("str", SHORT), "lot": ("str", SHORT), "doseNumber": ("int", 100),
    },
    Section.DOCUMENTS: {"documentType": ("str", SHORT), "description": ("text", LONG)},
}


class InvalidDetails(Refused):
    """Details that do not fit their section."""


def _field(key: str, kind: str, limit: int, value: Any, today: dt.date) -> Any:
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
    if kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidDetails(
                f"details.{key} must be an integer", Reason.FIELD_INVALID, field=f"details.{key}"
            )
        if not 0 <= value <= limit:
            raise InvalidDetails(
                f"details.{key} must be between 0 and {limit}", Reason.OUT_OF_RANGE,
                field=f"details.{key}", min=0, max=limit,
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
        return day.isoformat()
    if not isinstance(value, str):
        raise InvalidDetails(f"details.{key} must be a string", Reason.FIELD_INVALID, field=f"details.{key}")
    try:
        return normalize_code(kind, value)
    except InvalidCode as exc:
        raise InvalidDetails(f"details.{key}: {exc}", Reason.CODE_INVALID, field=f"details.{key}") from None


def normalize_details(section: Section, details: Any, today: dt.date) -> dict[str, Any]:
    """The details of one entry, checked and normalized; empty and null values dropped."""
    if details is None:
        return {}
    if not isinstance(details, dict):
        raise InvalidDetails("details must be an object", Reason.FIELD_INVALID, field="details")
    spec = DETAIL_FIELDS.get(section, {})
    unknown = sorted(set(details) - set(spec))
    if unknown:
        raise InvalidDetails(
            f"unknown details for {section.value}: {', '.join(unknown)}",
            Reason.DETAILS_UNKNOWN,
            fields=unknown,
        )
    clean: dict[str, Any] = {}
    for key, (kind, limit) in spec.items():
        value = details.get(key)
        if value is None or value == "":
            continue
        clean[key] = _field(key, kind, limit, value, today)
    admission, discharge = clean.get("admissionDate"), clean.get("dischargeDate")
    if admission and discharge and discharge < admission:
        raise InvalidDetails(
            "details.dischargeDate is before details.admissionDate", Reason.DATES_REVERSED,
            field="details.dischargeDate",
        )
    return clean
