"""Who is calling: resolved once per request from the session cookie or a bearer token."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from starlette.requests import HTTPConnection

from backend import clock, sql
from backend.auth.secrets_util import digest
from backend.config import settings
from backend.domain.enums import Profession, Role
from backend.models import Account, ApiToken, Practitioner, Session
from backend.models.accounts import display_name_of


@dataclass(frozen=True)
class Viewer:
    account_id: uuid.UUID | None = None
    role: Role | None = None
    display_name: str = ""
    practitioner_id: uuid.UUID | None = None
    profession: Profession | None = None
    is_regulator: bool = False
    session_id: uuid.UUID | None = None
    token_id: uuid.UUID | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    organization: str | None = None
    fresh_factor: bool = False

    @property
    def authenticated(self) -> bool:
        return self.role is not None

    @property
    def via_cookie(self) -> bool:
        return self.session_id is not None


ANONYMOUS = Viewer()
FRESH_FACTOR_WINDOW = timedelta(minutes=10)


# Every signed-in page request runs this: one hand-written statement for the session, its
# account and, for a professional, the practitioner. A disabled account's session is no
# session (`dmp disable-account` ends them all; one opened by a sign-in that raced it is
# refused here all the same), in the same statement.
_SESSION = (
    'SELECT s."id", s."last_seen_at", s."fresh_factor_at", a."id" AS "account_id", a."role",'
    ' a."first_name", a."last_name", p."id" AS "practitioner_id", p."profession", p."is_regulator"'
    ' FROM "session" s JOIN "account" a ON a."id" = s."account_id"'
    ' LEFT JOIN "practitioner" p ON p."account_id" = a."id"'
    ' WHERE s."token_hash" = $1 AND s."revoked_at" IS NULL AND s."expires_at" > $2'
    ' AND a."disabled_at" IS NULL LIMIT 1'
)


_TOUCH_EVERY = timedelta(minutes=1)


async def viewer_from_session(token: str) -> Viewer:
    now = clock.now()
    cfg = settings()
    rows = await sql.fetch(_SESSION, [digest(token), now])
    if not rows:
        return ANONYMOUS
    row = rows[0]
    session_id = sql.value(Session, "id", row["id"])
    last_seen = sql.value(Session, "last_seen_at", row["last_seen_at"])
    if last_seen + timedelta(minutes=cfg.session_idle_minutes) < now:
        return ANONYMOUS
    # Touch at most once a minute (reads should not each cost a write), and within half the
    # idle time: with an idle time of one minute, a session used every 59 s was dropped.
    if now - last_seen > min(_TOUCH_EVERY, timedelta(minutes=cfg.session_idle_minutes) / 2):
        await Session.filter(id=session_id).update(last_seen_at=now)
    role = sql.value(Account, "role", row["role"])
    professional = role == Role.PRACTITIONER and row["practitioner_id"] is not None
    fresh_factor_at = sql.value(Session, "fresh_factor_at", row["fresh_factor_at"])
    return Viewer(
        account_id=sql.value(Account, "id", row["account_id"]),
        role=role,
        display_name=display_name_of(row["first_name"], row["last_name"]),
        practitioner_id=sql.value(Practitioner, "id", row["practitioner_id"]) if professional else None,
        profession=Profession(row["profession"]) if professional else None,
        is_regulator=bool(professional and row["is_regulator"]),
        session_id=session_id,
        fresh_factor=bool(fresh_factor_at and now - fresh_factor_at <= FRESH_FACTOR_WINDOW),
    )


# Every partner request runs this: one hand-written statement, only the columns it needs. A
# practitioner's token is refused once the practitioner's account is disabled, whatever its
# own state (an organization's token has no account: the LEFT JOIN leaves its columns null).
_BEARER = (
    'SELECT t."id", t."scopes", t."organization", t."name", t."last_used_at",'
    ' p."id" AS "practitioner_id", p."profession", p."is_regulator",'
    ' a."id" AS "account_id", a."first_name", a."last_name"'
    ' FROM "api_token" t LEFT JOIN "practitioner" p ON p."id" = t."practitioner_id"'
    ' LEFT JOIN "account" a ON a."id" = p."account_id"'
    ' WHERE t."token_hash" = $1 AND t."revoked_at" IS NULL AND t."expires_at" > $2'
    ' AND a."disabled_at" IS NULL LIMIT 1'
)


async def viewer_from_bearer(token: str) -> Viewer | None:
    """The viewer of a partner token, or None when it is unknown, expired or revoked."""
    now = clock.now()
    rows = await sql.fetch(_BEARER, [digest(token), now])
    if not rows:
        return None
    row = rows[0]
    token_id = sql.value(ApiToken, "id", row["id"])
    last_used = sql.value(ApiToken, "last_used_at", row["last_used_at"])
    if last_used is None or now - last_used > timedelta(minutes=1):
        await ApiToken.filter(id=token_id).update(last_used_at=now)
    scopes = frozenset(sql.value(ApiToken, "scopes", row["scopes"]) or [])
    if row["practitioner_id"] is not None:
        return Viewer(
            account_id=sql.value(Account, "id", row["account_id"]),
            role=Role.PRACTITIONER,
            display_name=display_name_of(row["first_name"], row["last_name"]),
            practitioner_id=sql.value(Practitioner, "id", row["practitioner_id"]),
            profession=Profession(row["profession"]),
            is_regulator=bool(row["is_regulator"]),
            token_id=token_id,
            scopes=scopes,
        )
    return Viewer(
        role=Role.INSURER,
        display_name=row["organization"] or row["name"],
        token_id=token_id,
        scopes=scopes,
        organization=row["organization"],
    )


# RFC 9110 §11.6.1 and RFC 6750 §3: a 401 names the scheme to use, and why a token given was
# refused.
ASK_FOR_TOKEN = 'Bearer realm="dmp"'  # noqa: S105 (a header value, no secret)
TOKEN_REFUSED = 'Bearer realm="dmp", error="invalid_token"'  # noqa: S105 (a header value)


class BadToken(Exception):
    """A bearer token was presented and is unknown, expired or revoked."""


async def resolve_viewer(conn: HTTPConnection) -> Viewer:
    auths = conn.headers.getlist("authorization")
    if len(auths) > 1:
        # Which one names the caller? The first was taken silently; a proxy may read the other.
        raise BadToken
    auth = auths[0] if auths else ""
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise BadToken
        viewer = await viewer_from_bearer(token.strip())
        if viewer is None:
            raise BadToken
        return viewer
    cookie = conn.cookies.get(settings().session_cookie)
    if cookie:
        return await viewer_from_session(cookie)
    return ANONYMOUS
