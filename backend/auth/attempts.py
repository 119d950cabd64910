"""Login attempts: the opaque token a client holds between the two steps of a login.

An attempt that cannot succeed (unknown identifier, wrong password, locked account) looks
and behaves like a real one: same token, same answers, its tries counted the same way.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from backend import clock
from backend.auth import limits
from backend.auth.codes import MAX_TRIES, Outcome, Verdict, live_code, verify
from backend.auth.secrets_util import code_digest, digest, new_token
from backend.domain.enums import CodePurpose
from backend.models import Account, LoginAttempt

VALIDITY = timedelta(minutes=10)


async def start(account: Account | None, purpose: CodePurpose, *, live: bool) -> tuple[LoginAttempt, str]:
    """A new attempt; `live` is False for decoys, which never get a code."""
    token = new_token()
    attempt = await LoginAttempt.create(
        id=uuid.uuid4(),
        token_hash=digest(token),
        account_id=account.id if account else None,
        purpose=purpose,
        password_ok=live,
        expires_at=clock.now() + VALIDITY,
    )
    return attempt, token


async def find(token: str, purpose: CodePurpose) -> LoginAttempt | None:
    return await LoginAttempt.filter(
        token_hash=digest(token.strip()), purpose=purpose, completed_at=None, expires_at__gt=clock.now()
    ).first()


async def check_code(attempt: LoginAttempt, code: str) -> Verdict:
    """Try the code of an attempt; decoys count their tries like real codes and never succeed."""
    if not attempt.password_ok:
        if not await limits.take(f"attempt:{attempt.id}", attempt.expires_at, MAX_TRIES):
            return Verdict(Outcome.EXHAUSTED)
        code_digest(code, str(attempt.id))
        return Verdict(Outcome.WRONG)
    return await verify(await live_code(attempt.purpose, attempt_id=attempt.id), code)


async def complete(attempt: LoginAttempt) -> bool:
    """Mark the attempt used; False if a parallel request completed it first."""
    return bool(await LoginAttempt.filter(id=attempt.id, completed_at=None).update(
        completed_at=clock.now()
    ))
