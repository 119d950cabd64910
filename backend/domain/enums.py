"""The names of the domain (DESIGN §2–§4).

Every enum here is a `StrEnum`: `str(member)` is its value, as a plain `str`. The paths every
request runs use it instead of `member.value`, a property that costs two Python calls.
"""

from __future__ import annotations

from enum import StrEnum


class Section(StrEnum):
    MEDICATIONS = "MEDICATIONS"
    MEDICAL_DEVICES = "MEDICAL_DEVICES"
    PROCEDURES = "PROCEDURES"
    IMAGING = "IMAGING"
    LAB_RESULTS = "LAB_RESULTS"
    HOSPITAL_STAYS = "HOSPITAL_STAYS"
    MEDICAL_HISTORY = "MEDICAL_HISTORY"
    ALLERGIES = "ALLERGIES"
    VACCINATIONS = "VACCINATIONS"
    DOCUMENTS = "DOCUMENTS"
    EMERGENCY = "EMERGENCY"


# Members by value: a dict look-up costs a tenth of calling the enum (`Section(value)`), on
# paths that run for every section of every request.
SECTION_BY_VALUE: dict[str, Section] = {s.value: s for s in Section}


class Role(StrEnum):
    PATIENT = "PATIENT"
    PRACTITIONER = "PRACTITIONER"
    SUPPORT = "SUPPORT"
    INSURER = "INSURER"


class Profession(StrEnum):
    MEDECIN = "medecin"
    PHARMACIEN = "pharmacien"
    INFIRMIER = "infirmier"
    SAGE_FEMME = "sage-femme"
    CHIRURGIEN_DENTISTE = "chirurgien-dentiste"
    KINESITHERAPEUTE = "kinesitherapeute"
    BIOLOGISTE = "biologiste"
    RADIOLOGUE = "radiologue"

    @property
    def label(self) -> str:
        """The profession as patients read it, in French."""
        return PROFESSION_LABELS[self]


PROFESSION_LABELS = {
    Profession.MEDECIN: "médecin",
    Profession.PHARMACIEN: "pharmacien",
    Profession.INFIRMIER: "infirmier",
    Profession.SAGE_FEMME: "sage-femme",
    Profession.CHIRURGIEN_DENTISTE: "chirurgien-dentiste",
    Profession.KINESITHERAPEUTE: "kinésithérapeute",
    Profession.BIOLOGISTE: "biologiste",
    Profession.RADIOLOGUE: "radiologue",
}


class RecordStatus(StrEnum):
    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    CLOSED = "CLOSED"
    DELETED = "DELETED"


class AccessMode(StrEnum):
    OWNER = "OWNER"
    TREATING_PHYSICIAN = "TREATING_PHYSICIAN"
    GRANTED = "GRANTED"
    EMERGENCY_REGULATOR = "EMERGENCY_REGULATOR"
    BREAK_GLASS = "BREAK_GLASS"
    SUPPORT = "SUPPORT"
    INSURER = "INSURER"


class EntrySource(StrEnum):
    INSURER = "INSURER"
    PRACTITIONER = "PRACTITIONER"
    PATIENT = "PATIENT"


class EmergencyKind(StrEnum):
    BREAK_GLASS = "BREAK_GLASS"
    REGULATOR = "REGULATOR"


class ReviewState(StrEnum):
    PENDING = "PENDING"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    REPORTED = "REPORTED"


class AccessAction(StrEnum):
    RECORD_READ = "RECORD_READ"
    ACCESS_DENIED = "ACCESS_DENIED"
    ENTRY_ADDED = "ENTRY_ADDED"
    ENTRIES_IMPORTED = "ENTRIES_IMPORTED"
    DOCUMENT_DOWNLOADED = "DOCUMENT_DOWNLOADED"
    BREAK_GLASS_OPENED = "BREAK_GLASS_OPENED"
    REGULATOR_ACCESS = "REGULATOR_ACCESS"
    SHARING_CHANGED = "SHARING_CHANGED"
    ENTRY_MASKED = "ENTRY_MASKED"
    ENTRY_UNMASKED = "ENTRY_UNMASKED"
    ENTRY_DELETED = "ENTRY_DELETED"
    EMERGENCY_PROFILE_UPDATED = "EMERGENCY_PROFILE_UPDATED"
    RECORD_OPENED = "RECORD_OPENED"
    RECORD_ACTIVATED = "RECORD_ACTIVATED"
    RECORD_CLOSED = "RECORD_CLOSED"
    RECORD_REOPENED = "RECORD_REOPENED"
    DELETION_REQUESTED = "DELETION_REQUESTED"
    DELETION_CANCELLED = "DELETION_CANCELLED"
    RECORD_EXPORTED = "RECORD_EXPORTED"
    EMERGENCY_REVIEWED = "EMERGENCY_REVIEWED"
    SUPPORT_ACTION = "SUPPORT_ACTION"
    SECURITY_CHANGED = "SECURITY_CHANGED"


class CodeChannel(StrEnum):
    EMAIL = "EMAIL"
    SMS = "SMS"


class CodePurpose(StrEnum):
    LOGIN = "LOGIN"
    VERIFY_CONTACT = "VERIFY_CONTACT"
    PASSWORD_RESET = "PASSWORD_RESET"  # noqa: S105 — a purpose, not a password
    FRESH_FACTOR = "FRESH_FACTOR"


class OutboxChannel(StrEnum):
    EMAIL = "EMAIL"
    SMS = "SMS"
