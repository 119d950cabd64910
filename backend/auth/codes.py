"""Six-digit one-time codes: stored hashed, single use, 10 minutes, 5 tries, daily cap.

Every try is counted in the database before the code is compared (DESIGN §5).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from functools import lru_cache
from typing import Any

from backend import clock, sql
from backend.auth import limits
from backend.auth.contacts import mask_email, mask_phone
from backend.auth.secrets_util import code_digest, new_code, same
from backend.domain.enums import CodeChannel, CodePurpose
from backend.models import Account, LoginAttempt, OneTimeCode
from backend.notify.outbox import enqueue_email, enqueue_sms

VALIDITY = timedelta(minutes=10)
MAX_TRIES = 5

# Each code's subject names the service, as the notices' subjects do (« DMP : … »).
_WORDING = {
    CodePurpose.LOGIN: ("DMP : votre code de connexion", "pour vous connecter"),
    CodePurpose.VERIFY_CONTACT: ("DMP : vérifiez votre adresse", "pour vérifier ce moyen de contact"),
    CodePurpose.PASSWORD_RESET: (
        "DMP : réinitialisation du mot de passe", "pour choisir un nouveau mot de passe"
    ),
    CodePurpose.FRESH_FACTOR: ("DMP : confirmez votre identité", "pour confirmer une modification sensible"),
}


# Hand-written (backend/sql.py): every sign-in runs these, and the ORM's statement building
# cost more than the statements themselves (docs/benchmarks.md, step 35).
# The earlier live codes of the account and purpose, and of the same attempt or session
# when the new code is bound to one (`_BOUND_TO`, the fourth parameter).
_RETIRE = (
    'UPDATE "one_time_code" SET "used_at" = $1'
    ' WHERE "account_id" = $2 AND "purpose" = $3 AND "used_at" IS NULL'
)
_BOUND_TO = {column: f'{_RETIRE} AND "{column}" = $4' for column in ("attempt_id", "session_id")}
_BY_CHANNEL = f'{_RETIRE} AND "channel" = $4'
_SESSION_AND_CHANNEL = f'{_RETIRE} AND "session_id" = $4 AND "channel" = $5'


def _salt(row_id: uuid.UUID | str, bound_to: str | None) -> str:
    """What a code's digest is bound to: its row, and for a contact change the address or
    number it was sent to."""
    return str(row_id) if bound_to is None else f"{row_id}:{bound_to}"


async def retire_all(account_id: uuid.UUID, purpose: CodePurpose) -> None:
    """End every live code of the account for a purpose (a password reset asked earlier,
    once the password has changed)."""
    await sql.execute(_RETIRE, [clock.now(), account_id, purpose.value])


async def retire_by_channel(account_id: uuid.UUID, purpose: CodePurpose, channel: CodeChannel) -> None:
    """End the account's live codes of a purpose sent on a channel, whatever their session:
    a contact change started anew makes the codes sent for the earlier one useless."""
    await sql.execute(_BY_CHANNEL, [clock.now(), account_id, purpose.value, channel.value])
_INSERT_CODE = (
    'INSERT INTO "one_time_code" ("id", "account_id", "attempt_id", "session_id", "purpose",'
    ' "channel", "code_hash", "tries", "expires_at", "used_at", "created_at")'
    ' VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, NULL, $9)'
)


def _paris_time(sent: datetime, until: datetime) -> str:
    """The moment a code expires, in French time; a change of time between its sending and
    then is named: « 02:05 » read at 02:55 summer time would look past, ten minutes early."""
    before, after = sent.astimezone(clock.SERVICE_ZONE), until.astimezone(clock.SERVICE_ZONE)
    said = f"{after:%H:%M} (heure de Paris"
    offset_before, offset_after = before.utcoffset(), after.utcoffset()
    if offset_before is not None and offset_after is not None and offset_after != offset_before:
        said += ", après le passage à l'heure " + ("d'hiver" if offset_after < offset_before else "d'été")
    return said + ")"


async def send_code(
    account: Account,
    purpose: CodePurpose,
    channel: CodeChannel,
    address: str,
    *,
    attempt: LoginAttempt | None = None,
    session_id: uuid.UUID | None = None,
    for_address: bool = False,
) -> str:
    """Issue a code, replacing earlier live codes of the same binding; returns the masked address.

    `for_address`: the code confirms `address` itself (a contact change), and only it: its
    digest is bound to the address, which `verify` is given again (`bound_to`); a code of the
    same session and purpose sent on the other channel (the other contact's change) stays."""
    now = clock.now()
    retire, params = _RETIRE, [now, account.id, purpose.value]
    if attempt is not None:
        retire, params = _BOUND_TO["attempt_id"], [*params, attempt.id]
    elif session_id is not None and for_address:
        retire, params = _SESSION_AND_CHANNEL, [*params, session_id, channel.value]
    elif session_id is not None:
        retire, params = _BOUND_TO["session_id"], [*params, session_id]
    await sql.execute(retire, params)
    code = new_code()
    row_id = uuid.uuid4()
    code_hash = code_digest(code, _salt(row_id, address if for_address else None))
    await sql.execute(_INSERT_CODE, [
        row_id, account.id, attempt.id if attempt else None, session_id, purpose.value,
        channel.value, code_hash, now + VALIDITY, now,
    ])
    subject, why = _WORDING[purpose]
    # The moment it expires, not "in 10 minutes": a message may arrive minutes after it was
    # written (the outbox never sends it once expired).
    text = (
        f"Votre code DMP {why} : {code}\n"
        f"Il expire à {_paris_time(now, now + VALIDITY)}. Ne le communiquez à personne.\n"
    )
    # Urgent: the code lives 10 minutes, and must not wait behind a bulk of notices.
    if channel == CodeChannel.SMS:
        await enqueue_sms(address, text, account_id=account.id, urgent=True)
        return mask_phone(address)
    await enqueue_email(address, subject, text, account_id=account.id, urgent=True)
    return mask_email(address)


class Outcome(Enum):
    OK = "ok"
    WRONG = "wrong"  # counted; the code may be tried again
    EXHAUSTED = "exhausted"  # no tries left on this code, or no live code
    RESETS_USED_UP = "resets used up"  # a reset code: today's reset tries are used up
    LOCKED = "locked"  # the account's code login is locked for today or until unlocked


@dataclass
class Verdict:
    outcome: Outcome
    code: OneTimeCode | None = None
    locked_now: bool = False  # this try reached the daily cap and locked the account


_LIVE_CODE = (
    'SELECT * FROM "one_time_code" WHERE "purpose" = $1 AND "used_at" IS NULL AND "expires_at" > $2'
)
_COUNT_TRY = (
    'UPDATE "one_time_code" SET "tries" = "tries" + 1'
    ' WHERE "id" = $1 AND "used_at" IS NULL AND "expires_at" > $2 AND "tries" < $3'
)
_USE = 'UPDATE "one_time_code" SET "used_at" = $2 WHERE "id" = $1 AND "used_at" IS NULL'
_LOCKED = 'SELECT 1 FROM "account" WHERE "id" = $1 AND "locked_at" IS NOT NULL'


@lru_cache(maxsize=8)
def _live_code_sql(attempt: bool, session: bool, channel: bool) -> str:
    """The newest live code of a purpose, narrowed by the bindings given (parameters from $3)."""
    text, n = _LIVE_CODE, 3
    for given, column in ((attempt, "attempt_id"), (session, "session_id"), (channel, "channel")):
        if given:
            text, n = f'{text} AND "{column}" = ${n}', n + 1
    return f'{text} ORDER BY "created_at" DESC LIMIT 1'


async def live_code(
    purpose: CodePurpose, *, attempt_id: uuid.UUID | None = None, session_id: uuid.UUID | None = None,
    channel: CodeChannel | None = None,
) -> OneTimeCode | None:
    statement = _live_code_sql(attempt_id is not None, session_id is not None, channel is not None)
    params: list[Any] = [purpose.value, clock.now()]
    bindings = (attempt_id, session_id, channel.value if channel else None)
    params += [value for value in bindings if value is not None]
    return await sql.first(OneTimeCode, statement, params)


async def verify(
    row: OneTimeCode | None, code: str, *, bound_to: str | None = None,
    reset_budgets: tuple[str, str | None] | None = None,
) -> Verdict:
    """Count the try, then compare. Safe under parallel requests and several processes.

    `bound_to`: the address or number a contact change's code must have been sent to.
    `reset_budgets`: for a reset code, the daily budgets its tries spend (`limits.take_reset_try`:
    the identifier typed, then the account); the account's alone by default."""
    given = "".join(ch for ch in code if ch.isdigit())
    if row is None:
        code_digest(given, str(uuid.uuid4()))
        return Verdict(Outcome.EXHAUSTED)
    account_id: uuid.UUID = row.account_id  # type: ignore[attr-defined]
    if not await sql.execute(_COUNT_TRY, [row.id, clock.now(), MAX_TRIES]):
        # A code whose tries are used up once its account is locked: « start again » would
        # send no code (a locked account's sign-in sends none), the lock is what to say. Only
        # codes actually sent get here, never a decoy's; a reset code never meets the lock.
        if row.purpose != CodePurpose.PASSWORD_RESET and await sql.fetch(_LOCKED, [account_id]):
            return Verdict(Outcome.LOCKED)
        return Verdict(Outcome.EXHAUSTED)
    if row.purpose == CodePurpose.PASSWORD_RESET:
        # Anyone who knows an identifier may ask for a reset code: its tries count on a daily
        # budget of their own, which ends resets for the day but never locks sign-in. Past the
        # account's, while the identifier's own is not used up, the try is answered as a wrong
        # code without a compare, as an unknown identifier's decoy answers it.
        taken = await limits.take_reset_try(*(reset_budgets or (str(account_id), None)))
        if taken == limits.ResetTry.USED_UP:
            return Verdict(Outcome.RESETS_USED_UP)
        if taken == limits.ResetTry.ACCOUNT_USED_UP:
            code_digest(given, _salt(row.id, bound_to))
            return Verdict(Outcome.WRONG)
        if not same(row.code_hash, code_digest(given, _salt(row.id, bound_to))):
            return Verdict(Outcome.WRONG)
    elif (day := await limits.reserve_failure(account_id)) is None:
        locked_now = await limits.lock_if_capped(account_id)
        return Verdict(Outcome.LOCKED, locked_now=locked_now)
    elif not same(row.code_hash, code_digest(given, _salt(row.id, bound_to))):
        # The day the failure was counted on, though the try may end after midnight.
        return Verdict(Outcome.WRONG, locked_now=await limits.lock_if_capped(account_id, day))
    else:
        await limits.release_failure(account_id, day)
    # Single use: of two right answers racing, only one marks the code.
    if not await sql.execute(_USE, [row.id, clock.now()]):
        return Verdict(Outcome.EXHAUSTED)
    return Verdict(Outcome.OK, row)
