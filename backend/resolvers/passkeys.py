"""Passkeys: registering and managing them, and logging in with one (DESIGN §5)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from backend.audit import reasons
from backend.auth import attempts, limits, passkeys
from backend.domain.enums import CodePurpose
from backend.domain.reasons import Reason
from backend.errors import BadUserInput, Forbidden, NotFound, RateLimited, Unauthenticated
from backend.models import Account, LoginAttempt, PasskeyCredential
from backend.ratelimit import client_address
from backend.resolvers import login
from backend.resolvers.auth import FRESH_REQUIRED, security_change
from backend.resolvers.context import Context

log = logging.getLogger("dmp.passkeys")

VERIFICATION_FAILED = "passkey verification failed"
BEGINS_PER_HOUR = 120
# Registrations begun per account and hour: each stores a challenge, and each passkey added
# is listed in every later registration's and sign-in's options.
REGISTRATIONS_PER_HOUR = 20
# The refusal of a locked account's renaming or removal: the code and reason of the lock's
# other refusals (RATE_LIMITED, CODE_LOGIN_LOCKED): waiting does not lift it, support does.
LOCKED_KEEPS_PASSKEYS = (
    "The account is locked after too many wrong codes: its passkeys stay as they are until "
    "support unlocks it"
)


@dataclass(frozen=True)
class SessionAccount:
    account: Account
    session_id: uuid.UUID


async def _session_account(ctx: Context) -> SessionAccount:
    """The account of a cookie session; passkeys are not managed with partner tokens."""
    v = ctx.viewer
    if not v.authenticated:
        raise Unauthenticated()
    if v.session_id is None or v.account_id is None:  # a partner token, an insurer's included
        raise Forbidden("passkeys are managed from a signed-in session")
    return SessionAccount(await Account.get(id=v.account_id), v.session_id)


def _require_fresh(ctx: Context) -> None:
    if not ctx.viewer.fresh_factor:
        raise Forbidden(FRESH_REQUIRED)


def _parse_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound("no such passkey") from None


async def _own_passkey(ctx: Context, passkey_id: str) -> tuple[SessionAccount, PasskeyCredential]:
    """One of the session's account's passkeys, to rename or remove; refused to a locked
    account. Its lock (ten wrong codes in a day) says a stranger knows the password, and its
    passkeys are then its only way in: a session of it, perhaps opened by whoever caused the
    lock, neither removes them (the last one would leave the holder only support) nor renames
    them (the holder would no longer know which is theirs). The lock is read as the request
    begins: a lock committed while it runs comes after it, as if it had finished first."""
    me = await _session_account(ctx)
    if me.account.locked_at is not None:
        raise RateLimited(LOCKED_KEEPS_PASSKEYS, reason=Reason.CODE_LOGIN_LOCKED.value)
    row = await PasskeyCredential.get_or_none(id=_parse_id(passkey_id), account_id=me.account.id)
    if row is None:
        raise NotFound("no such passkey")
    return me, row


# --- registration and management ----------------------------------------------------


async def begin_registration(ctx: Context) -> str:
    me = await _session_account(ctx)
    _require_fresh(ctx)
    if await passkeys.holds_all_it_may(me.account.id):
        raise _too_many()
    await limits.require(
        f"passkey-register:{me.account.id}", limits.utc_hour(), REGISTRATIONS_PER_HOUR, window=limits.HOUR
    )
    return await passkeys.registration_options(me.account, me.session_id)


def _too_many() -> BadUserInput:
    return BadUserInput(
        f"At most {passkeys.MAX_PASSKEYS} passkeys: remove one to add another",
        Reason.TOO_MANY_PASSKEYS, max=passkeys.MAX_PASSKEYS,
    )


async def finish_registration(
    ctx: Context, credential_json: str, name: str | None
) -> PasskeyCredential:
    me = await _session_account(ctx)
    _require_fresh(ctx)  # as to begin: a passkey is added within the fresh factor's ten minutes
    try:
        # The challenge is used up whatever the outcome; the credential and its event are
        # stored together.
        row = await passkeys.register(
            me.account, me.session_id, credential_json, name,
            storing=lambda: security_change(ctx, me.account, reasons.PASSKEY_ADDED),
        )
    except passkeys.PasskeyRefused as refused:
        log.info("passkey registration refused: %s", refused)
        raise BadUserInput(VERIFICATION_FAILED, Reason.PASSKEY_NOT_VERIFIED) from None
    except passkeys.TooManyPasskeys:
        raise _too_many() from None
    return row


async def my_passkeys(ctx: Context) -> list[PasskeyCredential]:
    me = await _session_account(ctx)
    return await PasskeyCredential.filter(account_id=me.account.id).order_by("created_at")


async def rename_passkey(ctx: Context, passkey_id: str, name: str) -> PasskeyCredential:
    """A new name, with its event in the owner's history as a passkey's other changes; no
    fresh factor and no e-mail: a name is a label shown to its holder, which opens and ends
    nothing. The name it already has changes nothing, and writes nothing."""
    me, row = await _own_passkey(ctx, passkey_id)  # who asks before what they typed
    visible = passkeys.visible_name(name)
    if not visible:
        raise BadUserInput("a passkey name cannot be empty", Reason.FIELD_REQUIRED, field="name")
    if visible == row.name:
        return row
    async with security_change(ctx, me.account, reasons.PASSKEY_RENAMED) as conn:
        # Still there: a removal committed meanwhile wrote its own event, and this one none.
        if not await PasskeyCredential.filter(id=row.id).using_db(conn).update(name=visible):
            raise NotFound("no such passkey")
    row.name = visible
    return row


async def remove_passkey(ctx: Context, passkey_id: str) -> bool:
    me, row = await _own_passkey(ctx, passkey_id)
    _require_fresh(ctx)
    try:
        await passkeys.remove(
            me.account, row,
            storing=lambda: security_change(ctx, me.account, reasons.PASSKEY_REMOVED),
            keep_session=ctx.viewer.session_id,
        )
    except passkeys.PasskeyGone:
        raise NotFound("no such passkey") from None
    return True


# --- login --------------------------------------------------------------------------


async def _attempt(token: str | None) -> LoginAttempt | None:
    if token is None:
        return None
    attempt = await attempts.find(token, CodePurpose.LOGIN)
    if attempt is None:
        raise BadUserInput(login.EXPIRED_ATTEMPT, Reason.ATTEMPT_EXPIRED)
    return attempt


def _client_address(ctx: Context) -> str:
    # The right-most entry of the trusted header: the left ones are the client's to forge.
    return client_address(ctx.request)


async def begin_login(ctx: Context, attempt_token: str | None) -> str:
    # Anyone may ask, and each answer stores a challenge: bound them per address and hour.
    key = f"passkey-begin:{_client_address(ctx)}"[:200]
    await limits.require(key, limits.utc_hour(), BEGINS_PER_HOUR, window=limits.HOUR)
    return await passkeys.authentication_options(await _attempt(attempt_token))


async def finish_login(
    ctx: Context, credential_json: str, attempt_token: str | None
) -> login.SignedIn:
    """Verify the passkey, then open a new session (cookie), as completeLogin does."""
    attempt = await _attempt(attempt_token)
    try:
        result = await passkeys.authenticate(credential_json, attempt)
    except passkeys.PasskeyRefused as refused:
        log.info("passkey login refused: %s", refused)
        raise BadUserInput(VERIFICATION_FAILED, Reason.PASSKEY_NOT_VERIFIED) from None
    # No refusal for a lock: it is of code login (ten wrong codes a day, which whoever knows
    # the password can type), and a passkey is not guessed.
    if attempt is not None and not await attempts.complete(attempt):
        raise BadUserInput(login.EXPIRED_ATTEMPT, Reason.ATTEMPT_EXPIRED)
    return await login.signed_in(ctx, result.account, result.credential.id)
