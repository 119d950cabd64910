"""Server-side sessions: an opaque random token in the cookie, its digest in the database."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from starlette.responses import Response
from tortoise.transactions import in_transaction

from backend import clock, sql
from backend.auth.cookies import set_session_cookie
from backend.auth.secrets_util import digest, new_token
from backend.config import settings
from backend.models import Account, Session

# Hand-written (backend/sql.py): every sign-in runs these (docs/benchmarks.md, step 35).
_INSERT = (
    'INSERT INTO "session" ("id", "token_hash", "account_id", "created_at", "last_seen_at",'
    ' "expires_at", "fresh_factor_at", "user_agent", "revoked_at", "passkey_id")'
    ' VALUES ($1, $2, $3, $4, $4, $5, $6, $7, NULL, $8) RETURNING *'
)
_REVOKE = 'UPDATE "session" SET "revoked_at" = $2 WHERE "id" = $1 AND "revoked_at" IS NULL'
_LOGGED_IN = 'UPDATE "account" SET "last_login_at" = $2 WHERE "id" = $1'
# ...and the account not disabled meanwhile (`dmp disable-account` writes its row first).
_LOGGED_IN_SAME_PASSWORD = f'{_LOGGED_IN} AND "password_hash" = $3 AND "disabled_at" IS NULL'


async def create_session(
    account: Account, *, user_agent: str = "", fresh_factor: bool = True,
    passkey_id: uuid.UUID | None = None,
) -> tuple[Session, str]:
    """A new session after a completed login (`passkey_id`: the passkey it was opened with);
    returns the row and the cookie value."""
    now = clock.now()
    token = new_token()
    session = await sql.inserted(Session, _INSERT, [
        uuid.uuid4(), digest(token), account.id, now,
        now + timedelta(hours=settings().session_absolute_hours),
        now if fresh_factor else None, user_agent[:200], passkey_id,
    ])
    return session, token


async def revoke(session_id: uuid.UUID) -> None:
    await sql.execute(_REVOKE, [session_id, clock.now()])


async def revoke_all(account_id: uuid.UUID, *, using_db: Any = None) -> int:
    return await Session.filter(account_id=account_id, revoked_at=None).using_db(using_db).update(
        revoked_at=clock.now()
    )


async def start_session(
    response: Response | None, account: Account, user_agent: str = "",
    passkey_id: uuid.UUID | None = None, *, password_hash: str | None = None,
) -> Session | None:
    """Finish a login: a new session (renewed at every login), its cookie, the login time.

    With `password_hash` (the password a login was checked against), None and nothing written
    when the account's password is no longer that one, or the account has been disabled since.
    The account's row is written first, in the session's transaction: a reset or change of the
    password in progress, or `dmp disable-account` (which end every session in their own
    transaction, after writing the row), is waited for and then refuses this one, and one that
    begins later sees this session and ends it."""
    if password_hash is None:
        session, token = await create_session(account, user_agent=user_agent, passkey_id=passkey_id)
        await sql.execute(_LOGGED_IN, [account.id, clock.now()])
    else:
        async with in_transaction():
            if not await sql.execute(_LOGGED_IN_SAME_PASSWORD, [account.id, clock.now(), password_hash]):
                return None
            session, token = await create_session(account, user_agent=user_agent, passkey_id=passkey_id)
    if response is not None:
        set_session_cookie(response, token)
    return session
