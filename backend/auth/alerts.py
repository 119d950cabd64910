"""Security notices to the account holder: changes to how they sign in (DESIGN §5)."""

from __future__ import annotations

from datetime import datetime

from backend import clock
from backend.models import Account
from backend.notify.notices import when
from backend.notify.outbox import enqueue_email

FOOTER = ("\nSi vous n'êtes pas à l'origine de cette opération, changez votre mot de passe et "
          "contactez le support du DMP.\n")


def _moment(at: datetime) -> str:
    """`when(at)`; in the hour that happens twice when Paris goes back to winter time, which
    of the two: « 02:30 » alone names two moments an hour apart."""
    said = when(at)
    local = at.astimezone(clock.SERVICE_ZONE)
    other = local.replace(fold=1 - local.fold)
    offset, other_offset = local.utcoffset(), other.utcoffset()
    if offset is not None and other_offset is not None and offset != other_offset:
        which = "heure d'été" if offset > other_offset else "heure d'hiver"
        said = said.replace("(heure de Paris)", f"(heure de Paris, {which})")
    return said


async def notify(
    account: Account, subject: str, text: str, *, to: str | None = None, using_db: object = None
) -> None:
    """`text`, with when it happened (a notice may be read hours later), and what to do if
    the holder did not do it; queued in the caller's transaction when given (`using_db`)."""
    address = to or account.email
    if address:
        done = f"Date : le {_moment(clock.now())}.\n"
        await enqueue_email(address, subject, text + done + FOOTER, account_id=account.id,
                            using_db=using_db)
