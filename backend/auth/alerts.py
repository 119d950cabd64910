"""Security notices to the account holder: changes to how they sign in (DESIGN §5)."""

from __future__ import annotations

from backend import clock
from backend.models import Account
from backend.notify.notices import when
from backend.notify.outbox import enqueue_email

FOOTER = ("\nSi vous n'êtes pas à l'origine de cette opération, changez votre mot de passe et "
          "contactez le support du DMP.\n")


async def notify(account: Account, subject: str, text: str, *, to: str | None = None) -> None:
    """`text`, with when it happened (a notice may be read hours later), and what to do if
    the holder did not do it."""
    address = to or account.email
    if address:
        done = f"Date : le {when(clock.now())}.\n"
        await enqueue_email(address, subject, text + done + FOOTER, account_id=account.id)
