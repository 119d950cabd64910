"""Login attempts: the opaque token a client holds between the two steps of a login.

An attempt that cannot succeed (unknown identifier, wrong password, locked account) looks
and behaves like a real one: same token, same answers, its tries counted the same way.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from backend import clock, sql
from backend.auth import limits
from backend.auth.codes import MAX_TRIES, Outcome, Verdict, live_code, verify
from backend.auth.secrets_util import code_digest, digest, new_token
from backend.domain.enums import CodePurpose
from backend.models import Account, LoginAttempt

VALIDITY = timedelta(minutes=10)


# Hand-written (backend/sql.py): every sign-in runs these (docs/benchmarks.md, step 35).
_INSERT = (
    'INSERT INTO "login_attempt" ("id", "token_hash", "account_id", "purpose", "password_ok",'
    ' "expires_at", "completed_at", "created_at", "budget")'
    ' VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8) RETURNING *'
)
_FIND = (
    'SELECT * FROM "login_attempt" WHERE "token_hash" = $1 AND "purpose" = $2'
    ' AND "completed_at" IS NULL AND "expires_at" > $3 LIMIT 1'
)
_COMPLETE = 'UPDATE "login_attempt" SET "completed_at" = $2 WHERE "id" = $1 AND "completed_at" IS NULL'
_END_LOGINS_AND_RESETS = (
    'UPDATE "login_attempt" SET "completed_at" = $2 WHERE "account_id" = $1'
    ' AND "completed_at" IS NULL AND "purpose" IN ($3, $4)'
)


async def start(
    account: Account | None, purpose: CodePurpose, *, live: bool, named: str | None = None
) -> tuple[LoginAttempt, str]:
    """A new attempt; `live` is False for decoys, which never get a code. `named` is the keyed
    hash of the identifier a reset was asked with, whose daily budget its code tries spend."""
    token = new_token()
    now = clock.now()
    attempt = await sql.inserted(LoginAttempt, _INSERT, [
        uuid.uuid4(), digest(token), account.id if account else None, purpose.value, live,
        now + VALIDITY, now, named,
    ])
    return attempt, token


def _reset_budgets(attempt: LoginAttempt) -> tuple[str, str | None]:
    """The daily budgets of reset tries a reset's code tries spend: the identifier typed (its
    keyed hash, kept with the attempt), then its account's, if it names one (whichever of its
    identifiers was typed). An attempt that kept no identifier spends its account's alone."""
    account_id: uuid.UUID | None = attempt.account_id  # type: ignore[attr-defined]
    if attempt.budget:
        return "id:" + attempt.budget, str(account_id) if account_id is not None else None
    return str(account_id or attempt.id), None


async def find(token: str, purpose: CodePurpose) -> LoginAttempt | None:
    return await sql.first(LoginAttempt, _FIND, [digest(token.strip()), purpose.value, clock.now()])


async def check_code(attempt: LoginAttempt, code: str) -> Verdict:
    """Try the code of an attempt; decoys count their tries like real codes and never succeed."""
    if not attempt.password_ok:
        if not await limits.take(f"attempt:{attempt.id}", attempt.expires_at, MAX_TRIES):
            return Verdict(Outcome.EXHAUSTED)
        # A real reset code's tries also count on daily budgets (`codes.verify`): so do a
        # decoy's, or ten wrong tries would tell a real account from an unknown identifier.
        # (A login decoy needs none: a real login code is only sent after the password.)
        if attempt.purpose == CodePurpose.PASSWORD_RESET and await limits.take_reset_try(
            *_reset_budgets(attempt)
        ) == limits.ResetTry.USED_UP:
            return Verdict(Outcome.RESETS_USED_UP)
        code_digest(code, str(attempt.id))
        return Verdict(Outcome.WRONG)
    budgets = _reset_budgets(attempt) if attempt.purpose == CodePurpose.PASSWORD_RESET else None
    return await verify(await live_code(attempt.purpose, attempt_id=attempt.id), code, reset_budgets=budgets)


async def complete(attempt: LoginAttempt) -> bool:
    """Mark the attempt used; False if a parallel request completed it first."""
    return bool(await sql.execute(_COMPLETE, [attempt.id, clock.now()]))


async def end_password_steps(account_id: uuid.UUID) -> None:
    """Close the account's open logins and resets: once the password has changed, a login
    whose password was checked against the old one, or a reset asked before, never completes
    (whoever knew the old password may be waiting on its code)."""
    await sql.execute(_END_LOGINS_AND_RESETS, [
        account_id, clock.now(), CodePurpose.LOGIN.value, CodePurpose.PASSWORD_RESET.value,
    ])
