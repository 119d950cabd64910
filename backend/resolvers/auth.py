"""The signed-in account's sessions and sign-in settings (DESIGN §5).

Changing the password, e-mail, phone or code channel needs a fresh second factor and
e-mails the account holder.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError

from backend import clock
from backend.audit import reasons
from backend.auth import alerts, attempts, limits
from backend.auth.codes import Outcome, live_code, retire_all, retire_by_channel, send_code, verify
from backend.auth.contacts import destination, mask_email, normalize_phone, storable_email, texts_are_sent
from backend.auth.cookies import clear_session_cookie
from backend.auth.passwords import WeakPassword, check_strength, hash_password, verify_password
from backend.auth.sessions import revoke, revoke_all
from backend.auth.viewer import Viewer
from backend.config import settings
from backend.domain.enums import AccessAction, AccessMode, CodeChannel, CodePurpose
from backend.domain.reasons import Reason
from backend.errors import BadUserInput, Forbidden, NotFound, RateLimited, Unauthenticated
from backend.models import Account, Record, Session
from backend.resolvers.context import Context
from backend.resolvers.login import LOCKED, count_password_try, refuse

FRESH_REQUIRED = "A fresh second factor is required: confirm a code first (requestFreshFactor)"
NO_PENDING_CHANGE = "No change is waiting for confirmation; start again"
FRESH_CODES_PER_WINDOW = 5  # requestFreshFactor's codes per account and ten minutes
# changeEmail's and changePhone's calls together, per account and ten minutes: each sends a
# code to an address or number the caller chose, and changeEmail tells whether another
# account uses an address (EMAIL_UNAVAILABLE).
CONTACT_CODES_PER_WINDOW = 5
TOO_MANY_CODES = "Too many codes asked for; wait a few minutes"
SESSION_ONLY = "sessions and sign-in settings are managed from a signed-in session, not with a token"


@dataclass
class SessionRow:
    id: uuid.UUID
    created_at: datetime
    last_seen_at: datetime
    user_agent: str
    current: bool


def _session_viewer(ctx: Context) -> Viewer:
    """A viewer signed in with a session cookie; a partner token is refused as passkeys
    refuse it (FORBIDDEN): it is valid, the operation is not for it."""
    viewer = ctx.viewer
    if viewer.session_id is None or viewer.account_id is None:
        if viewer.authenticated:
            raise Forbidden(SESSION_ONLY)
        raise Unauthenticated("Sign in on the web page first")
    return viewer


async def _take_ten_minutes(key: str, limit: int) -> None:
    """Count one use of `key` in the current ten minutes; RATE_LIMITED past `limit`."""
    start = clock.now().replace(second=0, microsecond=0)
    start = start.replace(minute=start.minute - start.minute % 10)
    await limits.require(key, start, limit, TOO_MANY_CODES, window=timedelta(minutes=10))


async def _fresh_account(ctx: Context) -> Account:
    viewer = _session_viewer(ctx)
    if not viewer.fresh_factor:
        raise Forbidden(FRESH_REQUIRED)
    return await Account.get(id=viewer.account_id)


@asynccontextmanager
async def security_change(ctx: Context, account: Account, what: str) -> AsyncIterator[Any]:
    """The transaction of a change to an account's security (password, contacts, passkeys).

    Yields the transaction's connection. If the account owns a record, the change's event
    (`what`, one of backend/audit/reasons.py, read by the patient in their history) is
    written in the same transaction: both commit or neither does.
    """
    record = await Record.filter(owner_id=account.id).only("id").first()
    async with ctx.access_log.change(
        record.id if record else None, AccessAction.SECURITY_CHANGED, mode=AccessMode.OWNER, reason=what
    ) as conn:
        yield conn


def _drop_cookie(ctx: Context) -> None:
    if ctx.response is not None:
        clear_session_cookie(ctx.response)


async def logout(ctx: Context) -> bool:
    _drop_cookie(ctx)
    if ctx.viewer.session_id is None:
        return False
    await revoke(ctx.viewer.session_id)
    return True


async def logout_everywhere(ctx: Context) -> int:
    viewer = _session_viewer(ctx)
    _drop_cookie(ctx)
    assert viewer.account_id is not None  # noqa: S101 — checked by _session_viewer
    return await revoke_all(viewer.account_id)


async def my_sessions(ctx: Context) -> list[SessionRow]:
    viewer = _session_viewer(ctx)
    now = clock.now()
    idle = timedelta(minutes=settings().session_idle_minutes)
    rows = await Session.filter(
        account_id=viewer.account_id, revoked_at=None, expires_at__gt=now, last_seen_at__gt=now - idle
    ).order_by("-last_seen_at")
    return [SessionRow(s.id, s.created_at, s.last_seen_at, s.user_agent, s.id == viewer.session_id)
            for s in rows]


async def revoke_session(ctx: Context, session_id: str) -> bool:
    viewer = _session_viewer(ctx)
    try:
        sid = uuid.UUID(session_id)
    except ValueError:
        raise NotFound("No such session") from None
    done = await Session.filter(id=sid, account_id=viewer.account_id, revoked_at=None).update(
        revoked_at=clock.now()
    )
    if not done:
        raise NotFound("No such session")
    if sid == viewer.session_id:
        _drop_cookie(ctx)
    return True


async def request_fresh_factor(ctx: Context) -> str:
    viewer = _session_viewer(ctx)
    account = await Account.get(id=viewer.account_id)
    if account.locked_at is not None:
        # Its code would meet the lock of code login at every try (LOCKED): a code sent then
        # is a message that cannot work. A passkey still gives a fresh second factor. Refused
        # before the count: refusals spent the codes the holder asks for once unlocked.
        raise RateLimited(LOCKED, reason=Reason.CODE_LOGIN_LOCKED.value)
    # Each call sends an e-mail or a text: a few per ten minutes, not a flood.
    await _take_ten_minutes(f"fresh:{viewer.account_id}", FRESH_CODES_PER_WINDOW)
    channel, address = destination(account)
    return await send_code(account, CodePurpose.FRESH_FACTOR, channel, address, session_id=viewer.session_id)


async def _session_code(ctx: Context, purpose: CodePurpose, code: str,
                        channel: CodeChannel | None = None, bound_to: str | None = None) -> None:
    """Check a code bound to the current session (and, for a contact change, to the address
    or number `bound_to` it must have been sent to); raises the public error when it fails."""
    viewer = _session_viewer(ctx)
    row = await live_code(purpose, session_id=viewer.session_id, channel=channel)
    if row is None:
        raise BadUserInput("No code is waiting, or it has expired; ask for a new one", Reason.NO_CODE_WAITING)
    verdict = await verify(row, code, bound_to=bound_to)
    if verdict.outcome != Outcome.OK:
        await refuse(verdict, viewer.account_id)


async def confirm_fresh_factor(ctx: Context, code: str) -> bool:
    await _session_code(ctx, CodePurpose.FRESH_FACTOR, code)
    await Session.filter(id=ctx.viewer.session_id).update(fresh_factor_at=clock.now())
    return True


async def change_password(ctx: Context, current_password: str, new_password: str) -> bool:
    account = await _fresh_account(ctx)
    await count_password_try(account.id)  # before the check, as startLogin counts its tries
    if not await verify_password(account.password_hash, current_password):
        raise BadUserInput("The current password is not correct", Reason.WRONG_PASSWORD)
    try:
        check_strength(new_password)
    except WeakPassword as exc:
        raise BadUserInput.refused(exc) from None
    password_hash = await hash_password(new_password)
    async with security_change(ctx, account, reasons.PASSWORD_CHANGED):
        # Only over the password just checked: a reset or another change committed while this
        # one hashed has made the current password given a former one (and ended this session).
        if not await Account.filter(id=account.id, password_hash=account.password_hash).update(
            password_hash=password_hash
        ):
            raise BadUserInput("The current password is not correct", Reason.WRONG_PASSWORD)
        # Other sessions end: whoever knew the old password is signed out; a login begun with
        # it no longer completes, and a reset asked before (perhaps by whoever knew it) no
        # longer sets another one.
        await Session.filter(account_id=account.id, revoked_at=None).exclude(
            id=ctx.viewer.session_id
        ).update(revoked_at=clock.now())
        await retire_all(account.id, CodePurpose.PASSWORD_RESET)
        await attempts.end_password_steps(account.id)
    await alerts.notify(account, "Votre mot de passe DMP a été modifié",
                        "Le mot de passe de votre compte DMP vient d'être modifié. Vos autres "
                        "sessions ont été fermées.\n")
    return True


async def change_email(ctx: Context, new_email: str) -> str:
    account = await _fresh_account(ctx)
    address = storable_email(new_email)
    if address is None:
        raise BadUserInput("Invalid e-mail address", Reason.INVALID_EMAIL)
    # Counted before the address is looked up: the answer tells whether another account uses
    # it (EMAIL_UNAVAILABLE, which the page shows), so the count also bounds such probes.
    await _take_ten_minutes(f"contact:{account.id}", CONTACT_CODES_PER_WINDOW)
    if address == account.email or await Account.filter(email=address).exists():
        raise BadUserInput("This e-mail address cannot be used", Reason.EMAIL_UNAVAILABLE)
    # One change at a time: a code sent for an earlier change (from another session too)
    # must not confirm this address, which replaces the pending one.
    await retire_by_channel(account.id, CodePurpose.VERIFY_CONTACT, CodeChannel.EMAIL)
    await Account.filter(id=account.id).update(pending_email=address)
    return await send_code(account, CodePurpose.VERIFY_CONTACT, CodeChannel.EMAIL, address,
                           session_id=ctx.viewer.session_id, for_address=True)


async def confirm_email_change(ctx: Context, code: str) -> bool:
    account = await _fresh_account(ctx)
    if not account.pending_email:
        raise BadUserInput(NO_PENDING_CHANGE, Reason.NO_PENDING_CHANGE)
    # The code confirms the address it was sent to, and no other: another session may have
    # asked for another address since this one's code was sent.
    await _session_code(ctx, CodePurpose.VERIFY_CONTACT, code, CodeChannel.EMAIL, account.pending_email)
    old, new = account.email, account.pending_email
    codes_went_there = destination(account)[0] == CodeChannel.EMAIL
    try:
        async with security_change(ctx, account, reasons.EMAIL_CHANGED):
            # Still the address waiting: another one asked meanwhile replaced it.
            if not await Account.filter(id=account.id, pending_email=new).update(
                email=new, email_verified=True, pending_email=None
            ):
                raise BadUserInput(NO_PENDING_CHANGE, Reason.NO_PENDING_CHANGE)
            if codes_went_there:
                # A login or a reset whose code went to the former address (perhaps a mailbox
                # that is no longer the patient's) no longer completes.
                await attempts.end_password_steps(account.id)
    except IntegrityError:
        raise BadUserInput("This e-mail address cannot be used", Reason.EMAIL_UNAVAILABLE) from None
    # The former address is told the new one masked, as any answer shows an address: whoever
    # reads that mailbox now (a shared or former one) learns no one's new address.
    subject = "Votre adresse e-mail DMP a été modifiée"
    told = "L'adresse e-mail de votre compte DMP est désormais {}.\n"
    await alerts.notify(account, subject, told.format(mask_email(new)), to=old)
    await alerts.notify(account, subject, told.format(new), to=new)
    return True


def texts_needed() -> None:
    """A code that would go by SMS where no text is sent would never arrive."""
    if not texts_are_sent():
        raise BadUserInput("This service sends no texts: codes go by e-mail", Reason.SMS_UNAVAILABLE)


async def change_phone(ctx: Context, new_phone: str) -> str:
    account = await _fresh_account(ctx)
    number = normalize_phone(new_phone)
    if number is None:
        raise BadUserInput("Invalid phone number", Reason.INVALID_PHONE)
    texts_needed()
    await _take_ten_minutes(f"contact:{account.id}", CONTACT_CODES_PER_WINDOW)
    await retire_by_channel(account.id, CodePurpose.VERIFY_CONTACT, CodeChannel.SMS)
    await Account.filter(id=account.id).update(pending_phone=number)
    return await send_code(account, CodePurpose.VERIFY_CONTACT, CodeChannel.SMS, number,
                           session_id=ctx.viewer.session_id, for_address=True)


async def confirm_phone_change(ctx: Context, code: str) -> bool:
    account = await _fresh_account(ctx)
    if not account.pending_phone:
        raise BadUserInput(NO_PENDING_CHANGE, Reason.NO_PENDING_CHANGE)
    await _session_code(ctx, CodePurpose.VERIFY_CONTACT, code, CodeChannel.SMS, account.pending_phone)
    codes_went_there = destination(account)[0] == CodeChannel.SMS
    async with security_change(ctx, account, reasons.PHONE_CHANGED):
        # Still the number waiting: another one asked meanwhile replaced it.
        if not await Account.filter(id=account.id, pending_phone=account.pending_phone).update(
            phone=account.pending_phone, phone_verified=True, pending_phone=None
        ):
            raise BadUserInput(NO_PENDING_CHANGE, Reason.NO_PENDING_CHANGE)
        if codes_went_there:  # a login or a reset whose code went to the former number ends
            await attempts.end_password_steps(account.id)
    await alerts.notify(account, "Votre numéro de téléphone DMP a été modifié",
                        "Le numéro de téléphone de votre compte DMP a été modifié.\n")
    return True


async def set_code_channel(ctx: Context, channel: CodeChannel) -> CodeChannel:
    account = await _fresh_account(ctx)
    if channel == CodeChannel.SMS:
        texts_needed()
    if channel == CodeChannel.SMS and not (account.phone and account.phone_verified):
        raise BadUserInput(
            "Codes by SMS need a verified phone number (changePhone)", Reason.SMS_NEEDS_VERIFIED_PHONE
        )
    label = "par SMS" if channel == CodeChannel.SMS else "par e-mail"
    said = reasons.CODES_BY_SMS if channel == CodeChannel.SMS else reasons.CODES_BY_EMAIL
    async with security_change(ctx, account, said):
        await Account.filter(id=account.id).update(code_channel=channel)
    await alerts.notify(account, "Vos codes de connexion DMP",
                        f"Vos codes de connexion DMP vous seront désormais envoyés {label}.\n")
    return channel
