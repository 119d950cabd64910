"""Server-side sessions: an opaque random token in the cookie, its digest in the database."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from starlette.responses import Response

from backend import clock
from backend.auth.cookies import set_session_cookie
from backend.auth.secrets_util import digest, new_token
from backend.config import settings
from backend.models import Account, Session


async def create_session(
    account: Account, *, user_agent: str = "", fresh_factor: bool = True
) -> tuple[Session, str]:
    """A new session after a completed login; returns the row and the cookie value."""
    now = clock.now()
    token = new_token()
    session = await Session.create(
        token_hash=digest(token),
        account=account,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=settings().session_absolute_hours),
        fresh_factor_at=now if fresh_factor else None,
        user_agent=user_agent[:200],
    )
    return session, token


async def revoke(session_id: uuid.UUID) -> None:
    await Session.filter(id=session_id, revoked_at=None).update(revoked_at=clock.now())


async def revoke_all(account_id: uuid.UUID, *, using_db: Any = None) -> int:
    return await Session.filter(account_id=account_id, revoked_at=None).using_db(using_db).update(
        revoked_at=clock.now()
    )


async def start_session(response: Response | None, account: Account, user_agent: str = "") -> Session:
    """Finish a login: a new session (renewed at every login), its cookie, the login time."""
    session, token = await create_session(account, user_agent=user_agent)
    await Account.filter(id=account.id).update(last_login_at=clock.now())
    if response is not None:
        set_session_cookie(response, token)
    return session
