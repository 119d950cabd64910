"""The record as a FHIR R4 Bundle (type collection), validated with fhir.resources R4B.

One resource per entry, chosen by section:
MEDICATIONS → MedicationDispense (insurer) / MedicationStatement (others);
MEDICAL_DEVICES → DeviceUseStatement (with its Device contained);
PROCEDURES → Procedure; IMAGING → ImagingStudy;
LAB_RESULTS → Observation, or DiagnosticReport when the entry carries a file
(R4 Observations cannot hold an attachment; the report's presentedForm can);
HOSPITAL_STAYS → Encounter; MEDICAL_HISTORY → Condition; ALLERGIES → AllergyIntolerance;
VACCINATIONS → Immunization; DOCUMENTS → DocumentReference (file as base64 data);
EMERGENCY entries → Basic.
Every entry resource is tagged `urn:dmp:section|<SECTION>` and identified by
`urn:dmp:entry|<id>`, tagged with its source (`urn:dmp:source|INSURER`, `PRACTITIONER` or
`PATIENT`); an imported entry also carries its external id (`urn:dmp:external-id`, assigned
by its organization); masked entries carry the security label R (restricted). The entry's own
code is the first coding of the resource's main concept, in its section's system (CIP13 or
ATC, LPP, CCAM, LOINC, ICD-10), or `urn:dmp:code` in the sections whose code is free text.
The emergency profile gives the Patient's contacts, a blood-group Observation and an
advance-directives DocumentReference, tagged `urn:dmp:section|EMERGENCY_PROFILE`.
The sharing summary is not clinical content; it is in the JSON export only.
The record's access history follows, oldest first: one AuditEvent per event (`audit_event`),
built to the same models but not validated on each export (`history_entries` says why).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import orjson
from fhir.resources.R4B.bundle import Bundle

from backend import clock
from backend.domain.codes import CHECKS, SECTION_CODES
from backend.domain.enums import AccessAction, AccessMode, EntrySource, Role, Section
from backend.models import AccessEvent, Entry
from backend.resolvers.history import event_id, is_emergency
from backend.resolvers.spliced import Spliced

if TYPE_CHECKING:
    from backend.resolvers.export import Attachment, Snapshot

SECTION_TAG = "urn:dmp:section"
STATE_TAG = "urn:dmp:state"  # "superseded": an entry replaced by a correction
UNREADABLE_EXTENSION = "urn:dmp:unreadable"  # an attachment whose stored file could not be opened
# An attachment whose entry, and file, were deleted after the moment the export shows.
DELETED_EXTENSION = "urn:dmp:deleted-during-export"
ENTRY_SYSTEM = "urn:dmp:entry"
SOURCE_TAG = "urn:dmp:source"  # INSURER, PRACTITIONER or PATIENT
EXTERNAL_ID_SYSTEM = "urn:dmp:external-id"  # an imported entry's id at its organization
INS_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"  # INS-NIR
CIP13 = "https://smt.esante.gouv.fr/terminologie-cip_13"
ATC = "http://www.whocc.no/atc"
LPP = "https://smt.esante.gouv.fr/terminologie-lpp"
CCAM = "https://smt.esante.gouv.fr/terminologie-ccam"
LOINC = "http://loinc.org"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
LOCAL_CODE = "urn:dmp:code"  # an entry's code in a section without a coding system (free text)
SYSTEMS = {"cip13": CIP13, "atc": ATC, "lpp": LPP, "ccam": CCAM, "loinc": LOINC, "icd10": ICD10}

Json = dict[str, Any]


def _str(details: Json, key: str) -> str | None:
    value = details.get(key)
    return str(value) if value not in (None, "") else None


def _codeable(text: str, *codings: tuple[str, str | None] | Json | None) -> Json:
    """A CodeableConcept: its codings in order, each (system, code) once."""
    coding: list[Json] = []
    for one in codings:
        if isinstance(one, tuple):
            one = {"system": one[0], "code": one[1]} if one[1] else None
        if one and not any(c["system"] == one["system"] and c.get("code") == one.get("code") for c in coding):
            coding.append(one)
    return {"text": text, **({"coding": coding} if coding else {})}


def _own_code(entry: Entry) -> Json | None:
    """The entry's own code as a Coding, in the system its section's codes are checked against;
    a free-text code (or one no system recognises) under `urn:dmp:code`."""
    code = entry.code or ""
    if not code.strip():
        return None
    for system in SECTION_CODES.get(Section(entry.section), ()):
        if CHECKS[system][0](code):
            return {"system": SYSTEMS[system], "code": code}
    # A FHIR code holds no leading, trailing or doubled whitespace: the text as typed is the display.
    token = " ".join(code.split())
    return {"system": LOCAL_CODE, "code": token, **({"display": code} if token != code else {})}


def _who(entry: Entry) -> Json | None:
    return {"display": entry.author_name} if entry.author_name else None


def _notes(*texts: str | None) -> list[Json] | None:
    notes = [{"text": t} for t in texts if t]
    return notes or None


def _attachment(a: Attachment, creation: str | None = None) -> Json:
    out: Json = {"contentType": a.content_type, "title": a.filename, "size": a.size}
    if a.base64 is not None:
        out["data"] = a.base64
    else:  # the stored file could not be opened, or is gone: said, not left out without a word
        out["extension"] = [{"url": DELETED_EXTENSION if a.deleted else UNREADABLE_EXTENSION,
                             "valueBoolean": True}]
    if creation:
        out["creation"] = creation
    return out


def _medication(entry: Entry, d: Json, subject: Json, _: Attachment | None) -> Json:
    medication = _codeable(
        entry.title, _own_code(entry), (CIP13, _str(d, "cip13")), (ATC, _str(d, "atc"))
    )
    dose = _str(d, "dose")
    prescriber = f"Prescripteur : {d['prescriber']}" if _str(d, "prescriber") else None
    if entry.source == EntrySource.INSURER:
        quantity = d.get("quantity")
        return {
            "resourceType": "MedicationDispense",
            "status": "completed",
            "medicationCodeableConcept": medication,
            "subject": subject,
            "performer": [{"actor": _who(entry)}] if entry.author_name else None,
            "whenHandedOver": entry.care_date.isoformat(),
            "quantity": {"value": quantity} if isinstance(quantity, int) else None,
            "dosageInstruction": [{"text": dose}] if dose else None,
            "note": _notes(prescriber),
        }
    return {
        "resourceType": "MedicationStatement",
        "status": "completed",
        "medicationCodeableConcept": medication,
        "subject": subject,
        "effectiveDateTime": entry.care_date.isoformat(),
        "informationSource": _who(entry),
        "dosage": [{"text": dose}] if dose else None,
        # A statement has no quantity of its own.
        "note": _notes(prescriber, _quantity(d)),
    }


def _quantity(d: Json) -> str | None:
    quantity = d.get("quantity")
    return f"Quantité : {quantity}" if quantity is not None and quantity != "" else None


def _device(entry: Entry, d: Json, subject: Json, _: Attachment | None) -> Json:
    return {
        "resourceType": "DeviceUseStatement",
        "status": "completed",
        "contained": [{
            "resourceType": "Device",
            "id": "device",
            "type": _codeable(entry.title, _own_code(entry), (LPP, _str(d, "lppCode"))),
        }],
        "subject": subject,
        "source": _who(entry),
        "device": {"reference": "#device"},
        "timingDateTime": entry.care_date.isoformat(),
        "note": _notes(_quantity(d)),
    }


def _procedure(entry: Entry, d: Json, subject: Json, _: Attachment | None) -> Json:
    performer = _str(d, "performer")
    return {
        "resourceType": "Procedure",
        "status": "completed",
        "code": _codeable(entry.title, _own_code(entry), (CCAM, _str(d, "ccamCode"))),
        "subject": subject,
        "performedDateTime": entry.care_date.isoformat(),
        "recorder": _who(entry),
        "performer": [{"actor": {"display": performer}}] if performer else None,
    }


def _imaging(entry: Entry, d: Json, subject: Json, _: Attachment | None) -> Json:
    modality = _str(d, "modality")
    body_site = _str(d, "bodySite")
    return {
        "resourceType": "ImagingStudy",
        "status": "available",
        "subject": subject,
        "started": entry.care_date.isoformat(),
        "modality": [{"system": DICOM, "code": modality}]
        if modality and re.fullmatch(r"[A-Z]{2,3}", modality)
        else None,
        "procedureCode": [_codeable(entry.title, _own_code(entry), (CCAM, _str(d, "ccamCode")))],
        "description": entry.title[:300],
        "note": _notes(
            f"Localisation : {body_site}" if body_site else None,
            _str(d, "report"),
            f"Modalité : {modality}" if modality and not re.fullmatch(r"[A-Z]{2,3}", modality) else None,
        ),
    }


def _lab(entry: Entry, d: Json, subject: Json, file: Attachment | None) -> Json:
    code = _codeable(_str(d, "analyte") or entry.title, _own_code(entry), (LOINC, _str(d, "loinc")))
    if file is not None:
        return {
            "resourceType": "DiagnosticReport",
            "status": "final",
            "category": [
                _codeable("Laboratory", ("http://terminology.hl7.org/CodeSystem/v2-0074", "LAB")),
                # The kind of document the patient or practitioner said it is (a report has no type).
                *([{"text": kind}] if (kind := _str(d, "documentType")) else []),
            ],
            "code": code,
            "subject": subject,
            "effectiveDateTime": entry.care_date.isoformat(),
            "performer": [_who(entry)] if entry.author_name else None,
            "conclusion": _str(d, "description"),
            "presentedForm": [_attachment(file, entry.care_date.isoformat())],
        }
    value = _str(d, "value")
    unit = _str(d, "unit")
    abnormal = d.get("abnormal")
    observation: Json = {
        "resourceType": "Observation",
        "status": "final",
        "category": [_codeable(
            "Laboratory", ("http://terminology.hl7.org/CodeSystem/observation-category", "laboratory")
        )],
        "code": code,
        "subject": subject,
        "effectiveDateTime": entry.care_date.isoformat(),
        "performer": [_who(entry)] if entry.author_name else None,
        "referenceRange": [{"text": d["referenceRange"]}] if _str(d, "referenceRange") else None,
        "interpretation": [_codeable(
            "abnormal" if abnormal else "normal",
            ("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "A" if abnormal else "N"),
        )] if isinstance(abnormal, bool) else None,
    }
    if value and unit and re.fullmatch(r"-?\d+(\.\d+)?", value):
        # The number as written, digits and trailing zeros (bundle_json keeps them).
        observation["valueQuantity"] = {"value": Decimal(value), "unit": unit}
    elif value:
        observation["valueString"] = f"{value} {unit}" if unit else value
    return observation


def _stay(entry: Entry, d: Json, subject: Json, _: Attachment | None) -> Json:
    start = _str(d, "admissionDate") or entry.care_date.isoformat()
    end = _str(d, "dischargeDate")
    facility = _str(d, "facility")
    return {
        "resourceType": "Encounter",
        "status": "finished",
        "class": {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": "IMP",
            "display": "inpatient encounter",
        },
        "type": [{"text": entry.title}],
        "subject": subject,
        "period": {"start": start, **({"end": end} if end else {})},
        # The stay's diagnosis, an ICD-10 code (the entry's own code in this section).
        "reasonCode": [_codeable(entry.title, _own_code(entry))] if entry.code else None,
        "serviceProvider": {"display": facility} if facility else None,
    }


def _history(entry: Entry, d: Json, subject: Json, _: Attachment | None) -> Json:
    return {
        "resourceType": "Condition",
        "code": _codeable(_str(d, "condition") or entry.title, _own_code(entry), (ICD10, _str(d, "icd10"))),
        "subject": subject,
        "recordedDate": entry.care_date.isoformat(),
        "recorder": _who(entry),
        "note": _notes(_str(d, "notes")),
    }


def _allergy(entry: Entry, d: Json, subject: Json, _: Attachment | None) -> Json:
    reaction = _str(d, "reaction")
    severity = (_str(d, "severity") or "").lower()
    return {
        "resourceType": "AllergyIntolerance",
        # Required unless entered in error (R4 rule ait-1): an allergy recorded is active.
        "clinicalStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active",
        }]},
        "code": _codeable(_str(d, "substance") or entry.title, _own_code(entry)),
        "patient": subject,
        "recordedDate": entry.care_date.isoformat(),
        "recorder": _who(entry),
        "reaction": [{
            "manifestation": [{"text": reaction}],
            "severity": severity if severity in ("mild", "moderate", "severe") else None,
            "description": _str(d, "severity") if severity not in ("mild", "moderate", "severe") else None,
        }] if reaction else None,
    }


def _vaccination(entry: Entry, d: Json, subject: Json, _: Attachment | None) -> Json:
    dose = d.get("doseNumber")
    return {
        "resourceType": "Immunization",
        "status": "completed",
        "vaccineCode": _codeable(_str(d, "vaccine") or entry.title, _own_code(entry)),
        "patient": subject,
        "occurrenceDateTime": entry.care_date.isoformat(),
        "lotNumber": _str(d, "lot"),
        "performer": [{"actor": _who(entry)}] if entry.author_name else None,
        "protocolApplied": [{"doseNumberPositiveInt": dose}]
        if isinstance(dose, int) and not isinstance(dose, bool) and dose > 0
        else None,
    }


def _document(entry: Entry, d: Json, subject: Json, file: Attachment | None) -> Json:
    attachment = _attachment(file, entry.care_date.isoformat()) if file else {"title": entry.title}
    description = _str(d, "description")
    return {
        "resourceType": "DocumentReference",
        "status": "superseded" if entry.superseded else "current",
        "type": _codeable(_str(d, "documentType") or entry.title, _own_code(entry)),
        "subject": subject,
        "date": entry.created_at.isoformat(),  # when the reference was made (an instant)
        "author": [_who(entry)] if entry.author_name else None,
        "description": f"{entry.title} — {description}" if description else entry.title,
        "content": [{"attachment": attachment}],
        # The date of care the document is about.
        "context": {"period": {"start": entry.care_date.isoformat()}},
    }


def _emergency(entry: Entry, d: Json, subject: Json, _: Attachment | None) -> Json:
    return {
        "resourceType": "Basic",
        "code": _codeable(entry.title, _own_code(entry)),
        "subject": subject,
        "created": entry.care_date.isoformat(),
        "author": _who(entry),
    }


MAPPERS: dict[Section, Callable[[Entry, Json, Json, Attachment | None], Json]] = {
    Section.MEDICATIONS: _medication,
    Section.MEDICAL_DEVICES: _device,
    Section.PROCEDURES: _procedure,
    Section.IMAGING: _imaging,
    Section.LAB_RESULTS: _lab,
    Section.HOSPITAL_STAYS: _stay,
    Section.MEDICAL_HISTORY: _history,
    Section.ALLERGIES: _allergy,
    Section.VACCINATIONS: _vaccination,
    Section.DOCUMENTS: _document,
    Section.EMERGENCY: _emergency,
}


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


def _meta(section: str, entry: Entry | None = None) -> Json:
    tags = [{"system": SECTION_TAG, "code": section}]
    meta: Json = {"tag": tags}
    if entry is not None:
        tags.append({"system": SOURCE_TAG, "code": str(entry.source)})
    if entry is not None and entry.supersedes_id:  # type: ignore[attr-defined]
        tags.append({"system": "urn:dmp:supersedes", "code": str(entry.supersedes_id)})  # type: ignore[attr-defined]
    if entry is not None and entry.superseded:  # corrected since: kept as history, not current
        tags.append({"system": STATE_TAG, "code": "superseded", "display": "replaced by a correction"})
    if entry is not None and entry.masked:
        meta["security"] = [{
            "system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
            "code": "R",
            "display": "restricted (masked by the patient)",
        }]
    return meta


def entry_resource(entry: Entry, subject: Json, file: Attachment | None) -> Json:
    section = Section(entry.section)
    resource = MAPPERS[section](entry, entry.details or {}, subject, file)
    resource["id"] = str(entry.id)
    resource["meta"] = _meta(section.value, entry)
    resource["identifier"] = [{"system": ENTRY_SYSTEM, "value": str(entry.id)}]
    if entry.external_id:
        resource["identifier"].append({
            "system": EXTERNAL_ID_SYSTEM, "value": entry.external_id,
            "assigner": {"display": entry.organization} if entry.organization else None,
        })
    return resource


def _patient(snapshot: Snapshot) -> Json:
    record = snapshot.record
    contacts = [
        {
            "relationship": [{"text": c.get("relation")}] if c.get("relation") else None,
            "name": {"text": c.get("name")} if c.get("name") else None,
            "telecom": [{"system": "phone", "value": c.get("phone")}] if c.get("phone") else None,
        }
        for c in (record.emergency_contacts or [])
        if isinstance(c, dict) and (c.get("name") or c.get("phone"))
    ]
    return {
        "resourceType": "Patient",
        "id": str(record.id),
        "identifier": [{"system": INS_SYSTEM, "value": record.ins}],
        "name": [{"family": record.last_name, "given": [record.first_name]}],
        "birthDate": record.birth_date.isoformat(),
        "contact": contacts or None,
    }


def _emergency_profile(snapshot: Snapshot, subject: Json) -> list[Json]:
    record = snapshot.record
    out: list[Json] = []
    if record.blood_group:
        out.append({
            "resourceType": "Observation",
            "id": str(uuid.uuid5(record.id, "blood-group")),
            "meta": _meta("EMERGENCY_PROFILE"),
            "status": "final",
            "code": _codeable("ABO and Rh group", (LOINC, "882-1")),
            "subject": subject,
            "valueString": record.blood_group,
        })
    if record.advance_directives:
        out.append({
            "resourceType": "DocumentReference",
            "id": str(uuid.uuid5(record.id, "advance-directives")),
            "meta": _meta("EMERGENCY_PROFILE"),
            "status": "current",
            "type": _codeable("Advance directives", (LOINC, "42348-3")),
            "subject": subject,
            "content": [{"attachment": {
                "contentType": "text/plain; charset=utf-8",
                "title": "Directives anticipées",
                "data": base64.b64encode(record.advance_directives.encode()).decode(),
            }}],
        })
    return out


# The access history's AuditEvents (R4): what happened, who did it, in which mode, to whom.
ACTION_SYSTEM = "urn:dmp:access-action"  # the event's action, as the patient's history names it
MODE_SYSTEM = "urn:dmp:access-mode"  # the mode the access was allowed in (OWNER, GRANTED, …)
ROLE_SYSTEM = "urn:dmp:role"  # the actor's role: PATIENT, PRACTITIONER, SUPPORT or INSURER
EVENT_EXTENSION = "urn:dmp:access-event"  # the event's id, as myAccessHistory gives it
SEQ_EXTENSION = "urn:dmp:access-event-seq"  # its number in the record's history, from 1
EMERGENCY_TAG = {"system": "urn:dmp:access-event", "code": "emergency",
                 "display": "break-glass or regulator access"}
_PATIENT_RECORD = {"system": DICOM, "code": "110110", "display": "Patient Record"}
_ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
_EMERGENCY_PURPOSE = {
    AccessMode.BREAK_GLASS.value: {"system": _ACT_REASON, "code": "BTG", "display": "break the glass"},
    AccessMode.EMERGENCY_REGULATOR.value: {"system": _ACT_REASON, "code": "ETREAT",
                                           "display": "emergency treatment"},
}
# R4's AuditEventAction (create, read, update, delete, execute). A refusal did nothing: it has
# none, and its outcome is a failure that ended the action.
_C, _R, _U, _D, _E = "C", "R", "U", "D", "E"
EVENT_ACTIONS: dict[str, str | None] = {
    AccessAction.RECORD_READ: _R,
    AccessAction.ACCESS_DENIED: None,
    AccessAction.ENTRY_ADDED: _C,
    AccessAction.ENTRIES_IMPORTED: _C,
    AccessAction.DOCUMENT_DOWNLOADED: _R,
    AccessAction.BREAK_GLASS_OPENED: _E,
    AccessAction.REGULATOR_ACCESS: _E,
    AccessAction.SHARING_CHANGED: _U,
    AccessAction.ENTRY_MASKED: _U,
    AccessAction.ENTRY_UNMASKED: _U,
    AccessAction.ENTRY_DELETED: _D,
    AccessAction.EMERGENCY_PROFILE_UPDATED: _U,
    AccessAction.RECORD_OPENED: _C,
    AccessAction.RECORD_ACTIVATED: _U,
    AccessAction.RECORD_CLOSED: _U,
    AccessAction.RECORD_REOPENED: _U,
    AccessAction.DELETION_REQUESTED: _U,
    AccessAction.DELETION_CANCELLED: _U,
    AccessAction.RECORD_EXPORTED: _R,
    AccessAction.EMERGENCY_REVIEWED: _U,
    AccessAction.SUPPORT_ACTION: _E,
    AccessAction.SECURITY_CHANGED: _U,
}
_SOURCE = {
    "observer": {"display": "DMP"},
    "type": [{"system": "http://terminology.hl7.org/CodeSystem/security-source-type", "code": "4",
              "display": "Application Server"}],
}
_ENTITY_PERSON = {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "1",
                  "display": "Person"}
_ENTITY_PATIENT = {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1",
                   "display": "Patient"}


def _shown(text: str | None) -> str | None:
    """A text FHIR takes as a string: none for a blank one (FHIR has no empty string, and no
    string of other blanks than spaces, tabs and line breaks)."""
    return text if text and text.strip() else None


def instant(at: dt.datetime) -> str:
    """An event's time as an instant, which needs its offset (times are stored in UTC)."""
    return (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).isoformat()


def audit_event(event: AccessEvent, subject: Json, record_id: uuid.UUID, owner_id: str | None) -> Json:
    """One event of the record's access history as an R4 AuditEvent, with what the patient's
    history shows of it: when, who (name, profession, role), action, mode, sections, reason.
    The patient is the entity; the patient is also the agent of their own changes."""
    action = str(event.action)
    mode = event.mode or None
    name = _shown(event.actor_name)
    own = event.actor_role == Role.PATIENT.value and event.actor_id is not None and event.actor_id == owner_id
    who: Json | None = {**subject, "display": name} if own else {"display": name} if name else None
    details = [{"type": "section", "valueString": str(s)} for s in event.sections or []]
    if _shown(event.reason):
        details.append({"type": "reason", "valueString": event.reason})
    purpose = [{"system": MODE_SYSTEM, "code": mode}] if mode else []
    if mode in _EMERGENCY_PURPOSE:
        purpose.append(_EMERGENCY_PURPOSE[mode])
    ident = event_id(record_id, event.seq)
    # Built without empty elements (`_given` at each level that may have one), rather than
    # copied once more by `_without_none`: a history holds thousands of events.
    return _given({
        "resourceType": "AuditEvent",
        # The event's id as myAccessHistory and the JSON export give it: the same in every
        # export of the record.
        "id": ident,
        "meta": {"tag": [EMERGENCY_TAG]} if is_emergency(event) else None,
        "extension": [
            {"url": EVENT_EXTENSION, "valueString": ident},
            {"url": SEQ_EXTENSION, "valueInteger": event.seq},
        ],
        "type": _PATIENT_RECORD,
        "subtype": [{"system": ACTION_SYSTEM, "code": action}],
        "action": EVENT_ACTIONS.get(action),
        "recorded": instant(event.at),
        "outcome": "8" if action == AccessAction.ACCESS_DENIED else "0",
        "purposeOfEvent": [{
            "coding": purpose,
            "text": mode,
        }] if mode else None,
        "agent": [_given({
            "type": {"coding": [{"system": ROLE_SYSTEM, "code": event.actor_role}], "text": event.actor_role},
            "role": [{"text": event.actor_profession}] if _shown(event.actor_profession) else None,
            "who": who,
            "name": name,
            "requestor": True,
        })],
        "source": _SOURCE,
        "entity": [_given({
            "what": subject,
            "type": _ENTITY_PERSON,
            "role": _ENTITY_PATIENT,
            "detail": details or None,
        })],
    })


def _given(element: Json) -> Json:
    """`element` without its keys that have no value (one level)."""
    return {k: v for k, v in element.items() if v is not None}


def _bundle_data(snapshot: Snapshot, spliced: Spliced | None = None) -> Json:
    """The Bundle's tree; with `spliced`, each file's base64 held there, a placeholder in its
    place."""
    patient = _patient(snapshot)
    subject = {"reference": f"urn:uuid:{patient['id']}"}
    resources = [patient]
    resources += [entry_resource(e, subject, snapshot.attachment(e, spliced)) for e in snapshot.entries]
    resources += _emergency_profile(snapshot, subject)
    data = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "collection",
        "timestamp": clock.now().isoformat(),
        "entry": [
            {"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources
        ],
    }
    return _without_none(data)  # type: ignore[no-any-return]


def bundle_json(snapshot: Snapshot) -> str:
    """The Bundle validated and written by fhir.resources, its decimals as they were written.

    fhir.resources (fhir_core 1.1) writes a decimal with a fraction as a float, and has no
    setting to keep it ("5.40" comes out 5.4; GitHub nazrulworld/fhir.resources#203): in FHIR
    a decimal's precision is part of its value (a lab result's trailing zeros say how it was
    measured). Each decimal the Bundle was given is put back, in the library's own JSON, as
    its text (where orjson reads a number too long for a float, an integer of 20 digits or
    more, as a float: it is one of these decimals, replaced).

    The files' base64 is put in once the rest is written (`Spliced`): the Bundle is validated
    with a placeholder, valid base64, in each file's place. Validation decodes base64Binary to
    bytes and writes it again; a file's base64 is made from its bytes by `base64.b64encode`,
    always valid, and passing it through would only copy it three more times."""
    spliced = Spliced()
    data = _bundle_data(snapshot, spliced)
    written = _decimals_as_given(orjson.loads(Bundle.model_validate(data).model_dump_json()), data)
    del data
    history = history_entries(snapshot)
    if history is not None:  # one raw item of the list, which holds them all
        written["entry"].append(history)
    return spliced.into(orjson.dumps(written).decode())


def history_entries(snapshot: Snapshot) -> orjson.Fragment | None:
    """The access history's AuditEvents, oldest first, as Bundle entries written one after
    the other (a history holds thousands of events: their trees are not all held at once), to
    end the Bundle's list of entries; None without events.

    Built to fhir.resources' R4B AuditEvent (tests/test_export_history.py validates every
    action, mode and role) but not validated one by one here: the library takes milliseconds
    per resource to validate and write it. Their parts are fixed codes, the event's number and
    time, and its texts (never blank)."""
    record = snapshot.record
    subject = {"reference": f"urn:uuid:{record.id}"}
    owner_id = str(record.owner_id) if record.owner_id else None  # type: ignore[attr-defined]
    written = io.BytesIO()
    for n, event in enumerate(snapshot.history):
        resource = audit_event(event, subject, record.id, owner_id)
        if n:
            written.write(b",")
        written.write(orjson.dumps({"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}))
    return orjson.Fragment(written.getvalue()) if snapshot.history else None


def _decimals_as_given(written: Any, given: Any) -> Any:
    """`written` (the validated Bundle's JSON) where `given` (what it was built from) held a
    Decimal, that decimal's text: the number exactly, trailing zeros kept (leading zeros,
    which JSON does not allow, dropped)."""
    if isinstance(given, Decimal) and isinstance(written, int | float) and not isinstance(written, bool):
        return orjson.Fragment(format(given, "f"))
    if isinstance(given, dict) and isinstance(written, dict):
        return {k: _decimals_as_given(v, given[k]) if k in given else v for k, v in written.items()}
    if isinstance(given, list) and isinstance(written, list) and len(given) == len(written):
        return [_decimals_as_given(w, g) for w, g in zip(written, given, strict=True)]
    return written
