"""Security notices to the account holder: changes to how they sign in (DESIGN §5)."""

from __future__ import annotations

from backend.models import Account
from backend.notify.outbox import enqueue_email

FOOTER = ("\nSi vous n'êtes pas à l'origine de cette opération, changez votre mot de passe et "
          "contactez le support du DMP.\n")


async def notify(account: Account, subject: str, text: str, *, to: str | None = None) -> None:
    address = to or account.email
    if address:
        await enqueue_email(address, subject, text + FOOTER, account_id=account.id)
