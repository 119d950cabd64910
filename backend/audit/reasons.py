"""The reasons the service itself writes in a record's history events.

An event's `reason` is read by the patient in their history. A practitioner's justification of
an emergency access (BREAK_GLASS_OPENED, REGULATOR_ACCESS) is their own text; every other
reason is one of these, written by the service in French (one, the import's, in English). They
are sealed in the history's hash chain and never rewritten: a text here must not change once
written (tests/test_history_reasons.py pins each). The page words each in the reader's language
(frontend/src/lib/history.js, `shownReason`, checked against every reason here by the same test);
a new reason belongs here, with a row there, and the backend writes no other
(tests/test_history_reasons_guard.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

from backend.domain.enums import EmergencyKind, Profession, ReviewState

# RECORD_ACTIVATED: an operator's command created the account and its active record.


def activated_by_operator(command: str) -> str:
    return f"dossier créé et activé par l'exploitant ({command})"


# RECORD_OPENED and ACCESS_DENIED: a practitioner opens a record for a patient at the point of care.
IDENTITY_CHECKED = "identité vérifiée par le professionnel"
EXISTING_RECORD = "ouverture d'un dossier existant"
OTHER_IDENTITY = "ouverture refusée : identité différente"

# ACCESS_DENIED: an emergency access the patient opposes, or to a record closed to it.
EMERGENCY_REFUSED = "accès d'urgence refusé"
# ACCESS_DENIED: a practitioner's read after the patient's report ended their emergency access.
ENDED_BY_REPORT = "accès d'urgence fermé par le signalement du patient"

# ACCESS_DENIED: an import's items the record refused (one event a record and batch). A record's
# state is read once for its batch: all its refused items are refused for the same one reason.
IMPORT_REFUSED_CLOSED = "import refusé : dossier fermé"
IMPORT_REFUSED_DELETION = "import refusé : suppression du dossier demandée"
IMPORT_REFUSED_IDENTITY = "import refusé : date de naissance différente"

# ENTRIES_IMPORTED: the import opened the record. Written in English; the page words it in French.
OPENED_BY_IMPORT = "record opened by the import for this identity"


# RECORD_EXPORTED: the format of the patient's export (ExportFormat's value).
def export_format(fmt: str) -> str:
    return f"format {fmt}"


# SHARING_CHANGED: the patient's sharing choices. A professional is named « Name (profession,
# RPPS n) », the profession in French.
def professional(name: str, profession: Profession, rpps: str) -> str:
    return f"{name} ({profession.label}, RPPS {rpps})"


def granted(who: str) -> str:
    return f"accès accordé à {who}"


def revoked(who: str) -> str:
    return f"accès retiré à {who}"


def blocked(who: str) -> str:
    return f"{who} bloqué"


def unblocked(who: str) -> str:
    return f"{who} débloqué"


PHYSICIAN_REMOVED = "médecin traitant retiré"


def physician_set(who: str) -> str:
    return f"médecin traitant : {who}"


def emergency_preferences(allow_regulator: bool, allow_break_glass: bool) -> str:
    return (
        "préférences d'urgence : accès du régulateur du SAMU "
        + ("autorisé" if allow_regulator else "refusé")
        + ", accès en urgence (bris de glace) "
        + ("autorisé" if allow_break_glass else "refusé")
    )


# SECURITY_CHANGED: the account's sign-in settings.
PASSWORD_RESET = "mot de passe réinitialisé"  # noqa: S105 - a history reason
PASSWORD_CHANGED = "mot de passe modifié"  # noqa: S105 - a history reason
EMAIL_CHANGED = "adresse e-mail modifiée"
PHONE_CHANGED = "numéro de téléphone modifié"
CODES_BY_SMS = "codes de connexion envoyés par SMS"
CODES_BY_EMAIL = "codes de connexion envoyés par e-mail"
PASSKEY_ADDED = "clé d'accès ajoutée"
PASSKEY_REMOVED = "clé d'accès retirée"
PASSKEY_RENAMED = "clé d'accès renommée"
CONTACTS_RENEWED = "coordonnées et mot de passe renouvelés"

# SUPPORT_ACTION: what support did with the account.
SUPPORT_READ = "consultation du compte par le support"
SUPPORT_UNLOCKED = "déblocage du compte par le support"
SUPPORT_RESENT = "renvoi du code d'activation au contact connu"
SUPPORT_RECOVERY = "ouverture d'une récupération de contacts"
# The operator's `dmp unlock-account` (backend/accounts.py unlock_by_operator), as support's.
OPERATOR_UNLOCKED = "déblocage de la connexion par l'exploitant"


# EMERGENCY_REVIEWED, as written until the review named its access: the state the patient
# chose, then their own comment, if any. The page still reads the events written so.
def reviewed(state: ReviewState, comment: str) -> str:
    return state.value + (f": {comment}" if comment else "")


# EMERGENCY_REVIEWED: the state the patient chose, the access reviewed (its kind, its opening
# time in UTC to the second, the practitioner as `professional` names them), then the patient's
# own comment, if any. What the review list shows of it, never its stated reason (often medical).
def reviewed_access(state: ReviewState, kind: EmergencyKind, opened_at: datetime, who: str,
                    comment: str) -> str:
    opened = opened_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{state.value} {kind.value} {opened} {who}" + (f": {comment}" if comment else "")
