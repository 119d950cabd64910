"""The patient's notices: who, when and how — never any medical content (DESIGN §4).

Each notice is queued in the outbox, in the caller's transaction when it passes one, and
points to the access history page rather than describing anything medical.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, cast

from backend import clock
from backend.config import settings
from backend.domain.enums import AccessAction, AccessMode, Profession, Role
from backend.models import AccessEvent, Account, OutboxMessage, Record
from backend.notify.outbox import enqueue_email

# Actions by which a professional actually reaches a record (a refusal is not one). An
# emergency opening has its own notice, sent at once by the emergency path: it is not
# repeated here, and as the actor's earlier event it silences this one for the reads after.
ACCESS_ACTIONS = frozenset({
    AccessAction.RECORD_READ,
    AccessAction.ENTRY_ADDED,
    AccessAction.DOCUMENT_DOWNLOADED,
})

HOW = {
    AccessMode.TREATING_PHYSICIAN.value: "en tant que médecin traitant",
    AccessMode.GRANTED.value: "avec l'autorisation que vous avez donnée",
    AccessMode.EMERGENCY_REGULATOR.value: "en accès d'urgence du SAMU (régulation)",
    AccessMode.BREAK_GLASS.value: "en accès d'urgence (bris de glace)",
}


def history_link() -> str:
    return f"{settings().public_origin}/historique"


def sharing_link() -> str:
    return f"{settings().public_origin}/partage"


# What the patient can do about a professional they do not recognize, by the mode of the access,
# as the sharing page offers it: the treating physician cannot be blocked (DESIGN §3), only
# replaced or no longer named; a grant can be withdrawn.
IF_UNKNOWN = {
    AccessMode.TREATING_PHYSICIAN.value: "changer de médecin traitant, ou ne plus en avoir,",
    AccessMode.GRANTED.value: "retirer son accès ou bloquer ce professionnel",
}


def _if_unknown(mode: str | None) -> str:
    what = IF_UNKNOWN.get(mode or "", "bloquer ce professionnel")
    return (f"Si vous ne reconnaissez pas cet accès, vous pouvez {what} sur la page Partage : "
            f"{sharing_link()}\n")


def _profession(code: str) -> str:
    """The profession as the patient reads it; an unknown code as it was stored."""
    try:
        return Profession(code).label
    except ValueError:
        return code


# The service's zone, as `clock.service_today` reads it: the patient reads the time of an
# access as the clocks in France show it, summer time included, not in UTC.
PARIS = clock.SERVICE_ZONE


def when(at: datetime, *, zone_named: bool = True) -> str:
    """A moment as a message gives it: « 07/12/2026 à 06:37 (heure de Paris) ». The zone is
    named, as a patient in Réunion or abroad reads it too, except where the message must be
    short (`zone_named=False`: a text message). A time without a zone is in UTC, as the service
    stores them."""
    moment = at.replace(tzinfo=UTC) if at.tzinfo is None else at
    said = moment.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")
    return f"{said} (heure de Paris)" if zone_named else said


async def _owner_email(record_id: uuid.UUID, using_db: Any) -> tuple[uuid.UUID, str] | None:
    rows = await Record.filter(id=record_id).using_db(using_db).values_list("owner_id", flat=True)
    owner_id = cast(uuid.UUID | None, rows[0] if rows else None)
    if owner_id is None:
        return None
    emails = await Account.filter(id=owner_id).using_db(using_db).values_list("email", flat=True)
    email = emails[0] if emails else None
    return (owner_id, str(email)) if email else None


async def after_event(
    event: AccessEvent, *, using_db: Any = None, seen_before: bool | None = None
) -> OutboxMessage | None:
    """The first access by a professional new to this record e-mails the patient.

    `seen_before`: whether the actor accessed the record before, when the caller knows.
    """
    if event.actor_role != Role.PRACTITIONER.value or event.actor_id is None:
        return None
    if event.action not in ACCESS_ACTIONS:
        return None
    earlier = seen_before if seen_before is not None else await (
        AccessEvent.filter(record_id=event.record_id, actor_id=event.actor_id, seq__lt=event.seq)  # type: ignore[attr-defined]
        .exclude(action__in=[AccessAction.ACCESS_DENIED.value, AccessAction.RECORD_OPENED.value])
        .using_db(using_db)
        .exists()
    )
    if earlier:
        return None
    owner = await _owner_email(event.record_id, using_db)  # type: ignore[attr-defined]
    if owner is None:
        return None
    account_id, email = owner
    who = event.actor_name + (f" ({_profession(event.actor_profession)})" if event.actor_profession else "")
    how = HOW.get(event.mode or "", "")
    body = (
        "Bonjour,\n\n"
        f"Un professionnel de santé a accédé à votre dossier médical partagé pour la première "
        f"fois :\n- qui : {who}\n- quand : le {when(event.at)}\n"
        + (f"- comment : {how}\n" if how else "")
        + f"\nConsultez l'historique des accès : {history_link()}\n\n"
        + _if_unknown(event.mode)
    )
    return await enqueue_email(
        email,
        "DMP : un nouveau professionnel a accédé à votre dossier",
        body,
        account_id=account_id,
        record_id=event.record_id,  # type: ignore[attr-defined]
        using_db=using_db,
    )


async def notify_new_document(record_id: uuid.UUID, *, using_db: Any = None) -> OutboxMessage | None:
    """A new document in the record, if the patient asked to be told (record.notify_new_documents)."""
    rows = await Record.filter(id=record_id).using_db(using_db).values_list(
        "notify_new_documents", flat=True
    )
    if not rows or not rows[0]:
        return None
    owner = await _owner_email(record_id, using_db)
    if owner is None:
        return None
    account_id, email = owner
    body = (
        "Bonjour,\n\n"
        f"Un nouveau document a été ajouté à votre dossier médical partagé le "
        f"{when(clock.now())}.\n\n"
        f"Consultez votre dossier et l'historique des accès : {history_link()}\n"
    )
    return await enqueue_email(
        email, "DMP : un nouveau document dans votre dossier", body,
        account_id=account_id, record_id=record_id, using_db=using_db,
    )


async def notify_security(account: Account, what: str, *, using_db: Any = None) -> OutboxMessage | None:
    """A change to the account's security (`what`, e.g. "mot de passe modifié"); no secrets."""
    if not account.email:
        return None
    body = (
        "Bonjour,\n\n"
        f"Une modification de sécurité a eu lieu sur votre compte DMP le {when(clock.now())} :\n"
        f"- {what}\n\n"
        "Si vous n'êtes pas à l'origine de cette modification, contactez le support sans tarder.\n"
        f"Historique des accès : {history_link()}\n"
    )
    return await enqueue_email(
        account.email, "DMP : modification de sécurité sur votre compte", body,
        account_id=account.id, using_db=using_db,
    )
