"""Six-digit one-time codes: stored hashed, single use, 10 minutes, 5 tries, daily cap.

Every try is counted in the database before the code is compared (DESIGN §5).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from tortoise.expressions import F

from backend import clock
from backend.auth import limits
from backend.auth.contacts import mask_email, mask_phone
from backend.auth.secrets_util import code_digest, new_code, same
from backend.domain.enums import CodeChannel, CodePurpose
from backend.models import Account, LoginAttempt, OneTimeCode
from backend.notify.outbox import enqueue_email, enqueue_sms

VALIDITY = timedelta(minutes=10)
MAX_TRIES = 5

_WORDING = {
    CodePurpose.LOGIN: ("Votre code de connexion", "pour vous connecter"),
    CodePurpose.VERIFY_CONTACT: ("Vérifiez votre adresse", "pour vérifier ce moyen de contact"),
    CodePurpose.PASSWORD_RESET: ("Réinitialisation du mot de passe", "pour choisir un nouveau mot de passe"),
    CodePurpose.FRESH_FACTOR: ("Confirmez votre identité", "pour confirmer une modification sensible"),
}


async def send_code(
    account: Account,
    purpose: CodePurpose,
    channel: CodeChannel,
    address: str,
    *,
    attempt: LoginAttempt | None = None,
    session_id: uuid.UUID | None = None,
) -> str:
    """Issue a code, replacing earlier live codes of the same binding; returns the masked address."""
    now = clock.now()
    earlier = OneTimeCode.filter(account_id=account.id, purpose=purpose, used_at=None)
    if attempt is not None:
        earlier = earlier.filter(attempt_id=attempt.id)
    elif session_id is not None:
        earlier = earlier.filter(session_id=session_id)
    await earlier.update(used_at=now)
    code = new_code()
    row_id = uuid.uuid4()
    await OneTimeCode.create(
        id=row_id,
        account_id=account.id,
        attempt_id=attempt.id if attempt else None,
        session_id=session_id,
        purpose=purpose,
        channel=channel,
        code_hash=code_digest(code, str(row_id)),
        expires_at=now + VALIDITY,
    )
    subject, why = _WORDING[purpose]
    text = f"Votre code DMP {why} : {code}\nIl expire dans 10 minutes. Ne le communiquez à personne.\n"
    if channel == CodeChannel.SMS:
        await enqueue_sms(address, text, account_id=account.id)
        return mask_phone(address)
    await enqueue_email(address, subject, text, account_id=account.id)
    return mask_email(address)


class Outcome(Enum):
    OK = "ok"
    WRONG = "wrong"  # counted; the code may be tried again
    EXHAUSTED = "exhausted"  # no tries left on this code, or no live code
    LOCKED = "locked"  # the account's code login is locked for today or until unlocked


@dataclass
class Verdict:
    outcome: Outcome
    code: OneTimeCode | None = None
    locked_now: bool = False  # this try reached the daily cap and locked the account


async def live_code(
    purpose: CodePurpose, *, attempt_id: uuid.UUID | None = None, session_id: uuid.UUID | None = None,
    channel: CodeChannel | None = None,
) -> OneTimeCode | None:
    query = OneTimeCode.filter(purpose=purpose, used_at=None, expires_at__gt=clock.now())
    if attempt_id is not None:
        query = query.filter(attempt_id=attempt_id)
    if session_id is not None:
        query = query.filter(session_id=session_id)
    if channel is not None:
        query = query.filter(channel=channel)
    return await query.order_by("-created_at").first()


async def verify(row: OneTimeCode | None, code: str) -> Verdict:
    """Count the try, then compare. Safe under parallel requests and several processes."""
    given = "".join(ch for ch in code if ch.isdigit())
    if row is None:
        code_digest(given, str(uuid.uuid4()))
        return Verdict(Outcome.EXHAUSTED)
    now = clock.now()
    counted = await OneTimeCode.filter(
        id=row.id, used_at=None, expires_at__gt=now, tries__lt=MAX_TRIES
    ).update(tries=F("tries") + 1)
    if not counted:
        return Verdict(Outcome.EXHAUSTED)
    account_id: uuid.UUID = row.account_id  # type: ignore[attr-defined]
    if not await limits.reserve_failure(account_id):
        locked_now = await limits.lock_if_capped(account_id)
        return Verdict(Outcome.LOCKED, locked_now=locked_now)
    if not same(row.code_hash, code_digest(given, str(row.id))):
        return Verdict(Outcome.WRONG, locked_now=await limits.lock_if_capped(account_id))
    await limits.release_failure(account_id)
    # Single use: of two right answers racing, only one marks the code.
    if not await OneTimeCode.filter(id=row.id, used_at=None).update(used_at=clock.now()):
        return Verdict(Outcome.EXHAUSTED)
    return Verdict(Outcome.OK, row)
