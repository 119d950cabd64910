"""Signing in: password then a one-time code; password reset (DESIGN §5).

Unknown identifiers, wrong passwords, locked accounts and accounts whose tries of the hour
are used up get the same answers as a real login, after the same argon2 work: nothing
reveals whether an account exists. A disabled account is an unknown identifier.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import NoReturn

from tortoise.transactions import in_transaction

from backend import clock, sql
from backend.audit import reasons
from backend.audit.collector import AccessLog
from backend.audit.writer import Actor
from backend.auth import alerts, attempts, limits
from backend.auth.codes import Outcome, Verdict, send_code
from backend.auth.contacts import decoy_destination, destination, masked_destination, normalize_email
from backend.auth.passwords import (
    Match,
    WeakPassword,
    check_strength,
    composed,
    hash_password,
    needs_rehash,
    verify_password,
)
from backend.auth.secrets_util import keyed_digest
from backend.auth.sessions import revoke, revoke_all, start_session
from backend.domain.enums import AccessAction, AccessMode, CodePurpose
from backend.domain.identifiers import InvalidIdentifier, normalize_ins, normalize_rpps, without_separators
from backend.domain.reasons import Reason
from backend.errors import BadUserInput, RateLimited, answer_no_sooner
from backend.models import Account, Practitioner, Record
from backend.ratelimit import limit_address
from backend.resolvers.context import Context

# Sign-in starts per hour, shared by all processes: per identifier as typed (past them,
# RATE_LIMITED), and per account whichever identifier names it (past them, a decoy).
STARTS_PER_HOUR = 20
# Password-reset codes sent to one account per UTC day, whichever identifier asked. Anyone who
# knows an identifier may ask for a reset: within the hourly bounds alone, about 480 e-mails
# or texts a day could be sent to one patient. Past these, a reset is answered as always and
# sends nothing, as for an identifier that names no account; a code's own tries are ten a day.
RESET_CODES_PER_DAY = 10
EXPIRED_ATTEMPT = "This sign-in attempt has expired or is unknown; start again"
WRONG_CODE = "Incorrect code"
NO_TRIES_LEFT = "No tries left for this code; start again to get a new one"
LOCKED = "Sign-in by code is locked after too many wrong codes; use a passkey, or contact support"
NO_RESETS_LEFT = "No password-reset tries left today; try again tomorrow, or contact support"


@dataclass
class SignedIn:
    account: Account
    practitioner: Practitioner | None = None


@dataclass
class LoginStarted:
    attempt_token: str
    factors: list[str] = field(default_factory=lambda: ["CODE"])
    code_sent_to: str | None = None


# Hand-written (backend/sql.py): every sign-in runs these (docs/benchmarks.md, step 35).
_ACCOUNT_BY_EMAIL = 'SELECT * FROM "account" WHERE "email" = $1 LIMIT 1'
_ACCOUNT_BY_ID = 'SELECT * FROM "account" WHERE "id" = $1'
_HAS_PASSKEY = 'SELECT 1 FROM "passkey_credential" WHERE "account_id" = $1 LIMIT 1'
_PRACTITIONER_OF = 'SELECT * FROM "practitioner" WHERE "account_id" = $1 LIMIT 1'
# The password checked, still the account's: written again (or with its new hash), which also
# takes the row's lock until the attempt is opened.
_HASH_UNCHANGED = (
    'UPDATE "account" SET "password_hash" = $3 WHERE "id" = $1 AND "password_hash" = $2'
)


@dataclass(frozen=True)
class Identifier:
    """An identifier as typed, read as sign-in reads it: an e-mail, an INS or an RPPS number,
    normalized (case, Unicode form, separators), or anything else, which names no account."""

    kind: str  # "email", "ins", "rpps" or "other"
    value: str

    @property
    def digest(self) -> str:
        """A keyed hash of the identifier, for counters that must not hold an INS or an address."""
        return keyed_digest(f"sign-in:{self.kind}:{self.value}")


def read_identifier(identifier: str) -> Identifier:
    raw = (identifier or "").strip()
    email = normalize_email(raw)
    if email:
        return Identifier("email", email)
    compact = without_separators(raw)
    for size, kind, normalize in ((15, "ins", normalize_ins), (11, "rpps", normalize_rpps)):
        if len(compact) == size:
            try:
                return Identifier(kind, normalize(compact))
            except InvalidIdentifier:
                break
    return Identifier("other", compact.lower())


async def find_account(named: Identifier) -> Account | None:
    """The account named by an e-mail, an INS (patients) or an RPPS number (practitioners)."""
    if named.kind == "email":
        return await sql.first(Account, _ACCOUNT_BY_EMAIL, [named.value])
    if named.kind == "ins":
        record = await Record.filter(ins=named.value).select_related("owner").first()
        return record.owner if record and record.owner else None
    if named.kind == "rpps":
        practitioner = await Practitioner.filter(rpps=named.value).select_related("account").first()
        return practitioner.account if practitioner else None
    return None


def may_sign_in(account: Account | None) -> Account | None:
    """The account found, if it may sign in. A disabled one (`dmp disable-account`) is from
    here on an identifier that names no account: its row was read by the same statement as a
    missing one's, and nothing after depends on it (no password checked against its hash, no
    try counted on it, no code sent, a decoy attempt bound to no account)."""
    return account if account is None or account.disabled_at is None else None


async def _limit_identifier(named: Identifier) -> None:
    """Count one start on the identifier as typed (normalized, as sign-in reads it; its keyed
    hash, not the identifier, names the counter), whether or not it names an account: past
    its 20 an hour, `RATE_LIMITED`, before any password is checked and with nothing written.
    Only this counter's answer is told: it is the same for a known and an unknown identifier."""
    await limits.require(f"start:id:{named.digest}", limits.utc_hour(), STARTS_PER_HOUR, window=limits.HOUR)


async def _within_account_bound(account: Account | None) -> bool:
    """Count one start on the account, whichever of its identifiers was typed; False past its
    20 an hour (shared with `changePassword`'s current password). Past them the start is
    answered as an unknown identifier is: refusing it would tell, to whoever typed another
    identifier of the account, that it names one. Counted after the password's check, under
    the answer's time floor (an unknown identifier counts nothing here), and the check's
    outcome is then not used: past the bound, nothing said or written depends on the password."""
    if account is None:
        return True
    return await limits.take(f"start:{account.id}", limits.utc_hour(), STARTS_PER_HOUR)


async def count_password_try(account_id: uuid.UUID) -> None:
    """A password checked for a signed-in account (`changePassword`'s current one) counts on
    the account's sign-in tries: a session cannot try passwords without end."""
    await limits.require(f"start:{account_id}", limits.utc_hour(), STARTS_PER_HOUR, window=limits.HOUR)


async def signed_in(
    ctx: Context, account: Account, passkey_id: uuid.UUID | None = None, *,
    password_hash: str | None = None,
) -> SignedIn:
    """A new session (renewed at every login; `passkey_id`, the passkey that opened it): the
    caller's previous session ends. `password_hash`: the password the login was checked
    against, which must still be the account's (a reset or change meanwhile refuses it)."""
    session = await start_session(
        ctx.response, account, ctx.request.headers.get("user-agent", ""), passkey_id,
        password_hash=password_hash,
    )
    if session is None:
        raise BadUserInput(EXPIRED_ATTEMPT, Reason.ATTEMPT_EXPIRED)
    if ctx.viewer.session_id is not None:
        await revoke(ctx.viewer.session_id)
    practitioner = await sql.first(Practitioner, _PRACTITIONER_OF, [account.id])
    return SignedIn(account, practitioner)


async def refuse(verdict: Verdict, account_id: uuid.UUID | None) -> NoReturn:
    """Turn a failed code check into its public error, after telling the holder of a new lock."""
    if verdict.locked_now and account_id is not None:
        account = await Account.get(id=account_id)
        await alerts.notify(
            account, "DMP : connexion par code bloquée",
            "Trop de codes erronés ont été saisis pour votre compte DMP aujourd'hui : la connexion "
            "par code est bloquée. Le support du DMP peut la débloquer après vérification.\n",
        )
    # The try that locks answers the lock at once (it is wrong, but « wrong code » would have
    # its author type again in vain). The reasons tell no account from none: a decoy attempt
    # answers the same ones in the same cases (its tries and resets counted alike); only a
    # code actually sent (after the right password, or to a signed-in session) counts a
    # failure, and so meets or sets the lock: a decoy never does (`attempts.check_code`).
    if verdict.outcome == Outcome.WRONG and not verdict.locked_now:
        raise BadUserInput(WRONG_CODE, Reason.WRONG_CODE)
    if verdict.outcome in (Outcome.LOCKED, Outcome.WRONG):
        raise RateLimited(LOCKED, reason=Reason.CODE_LOGIN_LOCKED.value)
    if verdict.outcome == Outcome.RESETS_USED_UP:
        raise RateLimited(NO_RESETS_LEFT, reason=Reason.RESET_TRIES_USED_UP.value)
    raise RateLimited(NO_TRIES_LEFT, reason=Reason.CODE_TRIES_USED_UP.value)


async def start_login(ctx: Context, identifier: str, password: str) -> LoginStarted:
    await limit_address(ctx.request, "start-login")
    named = read_identifier(identifier)
    await _limit_identifier(named)
    account = may_sign_in(await find_account(named))
    match = await verify_password(account.password_hash if account else None, password)
    # A text that is not composed (NFC) is hashed composed whatever the match, or the time would
    # tell: that hash replaces one that matched only as typed (made before passwords were
    # composed), and was made after the answer's floor, only for the right password.
    composed_hash = await hash_password(password) if composed(password) != password else None
    # What follows differs by case (the account's try counted, a failure written, a code
    # sent, nothing): every answer waits until the same time has passed, so the time tells
    # neither whether the identifier exists nor whether the password was right (the answers'
    # words are alike already).
    checked = time.perf_counter()
    try:
        if not await _within_account_bound(account):
            return await _decoy(identifier, account)
        return await _after_password(identifier, account, match, password, composed_hash)
    finally:
        await answer_no_sooner(checked)


async def _decoy(identifier: str, account: Account | None) -> LoginStarted:
    """The answer to an identifier that names no account, or to any password once the account's
    tries are used up: an attempt that never gets a code, the identifier's decoy mask. A
    decoy keeps its account, if any, so that the account's own passkey completes it as it
    would sign in alone; any other passkey is refused (`passkeys.authenticate`)."""
    _, token = await attempts.start(account, CodePurpose.LOGIN, live=False)
    return LoginStarted(token, code_sent_to=decoy_destination(identifier))


async def _after_password(
    identifier: str, account: Account | None, match: Match, password: str, composed_hash: str | None
) -> LoginStarted:
    if account is None:
        return await _decoy(identifier, None)
    if not match:
        return await _wrong_password(identifier, account)
    stored = account.password_hash or ""
    stored_now = stored
    if match == Match.RIGHT_AS_TYPED or needs_rehash(stored):
        # Hashed again from the composed text (NFC) with today's parameters: for a text not
        # composed, the hash made beside the check.
        stored_now = composed_hash or await hash_password(password)
    factors = ["CODE"]
    if await sql.fetch(_HAS_PASSKEY, [account.id]):
        factors.append("PASSKEY")
    live = account.locked_at is None
    # The attempt opens only if the password checked is still the account's, in one
    # transaction with the account's row written first (with its new hash, if rehashed): a
    # reset or change committed while argon2 ran answers as a wrong password; one that
    # commits later waits for this attempt and ends it (`attempts.end_password_steps`).
    async with in_transaction():
        if await sql.execute(_HASH_UNCHANGED, [account.id, stored, stored_now]):
            attempt, token = await attempts.start(account, CodePurpose.LOGIN, live=live)
        else:
            attempt = None
    if attempt is None:
        return await _wrong_password(identifier, account)
    if not live:
        return LoginStarted(token, factors, masked_destination(account))
    channel, address = destination(account)
    sent_to = await send_code(account, CodePurpose.LOGIN, channel, address, attempt=attempt)
    return LoginStarted(token, factors, sent_to)


async def _wrong_password(identifier: str, account: Account) -> LoginStarted:
    await Account.filter(id=account.id).update(last_failed_login_at=clock.now())
    _, token = await attempts.start(account, CodePurpose.LOGIN, live=False)
    return LoginStarted(token, code_sent_to=decoy_destination(identifier))


async def redeem_code(attempt_token: str, purpose: CodePurpose, code: str) -> uuid.UUID:
    """Check a code against its attempt (the try counted first) and close the attempt."""
    account_id, _ = await _redeem(attempt_token, purpose, code)
    return account_id


async def _redeem(
    attempt_token: str, purpose: CodePurpose, code: str, *, read_account: bool = False
) -> tuple[uuid.UUID, Account | None]:
    """`redeem_code`; with `read_account`, also the account as it was while the attempt was
    still open (read before the code is checked, for a live attempt only: a decoy's answer
    takes the same statements whether or not its identifier names an account)."""
    attempt = await attempts.find(attempt_token, purpose)
    if attempt is None:
        raise BadUserInput(EXPIRED_ATTEMPT, Reason.ATTEMPT_EXPIRED)
    account_id: uuid.UUID | None = attempt.account_id  # type: ignore[attr-defined]
    account = None
    if read_account and attempt.password_ok and account_id is not None:
        account = await sql.first(Account, _ACCOUNT_BY_ID, [account_id])
    verdict = await attempts.check_code(attempt, code)
    if verdict.outcome != Outcome.OK or account_id is None:
        await refuse(verdict, account_id)
    if not await attempts.complete(attempt):
        raise BadUserInput(EXPIRED_ATTEMPT, Reason.ATTEMPT_EXPIRED)
    return account_id, account


async def complete_login(ctx: Context, attempt_token: str, code: str) -> SignedIn:
    await limit_address(ctx.request, "complete-login")
    _, account = await _redeem(attempt_token, CodePurpose.LOGIN, code, read_account=True)
    if account is None:  # deleted since the attempt began
        raise BadUserInput(EXPIRED_ATTEMPT, Reason.ATTEMPT_EXPIRED)
    # Read while the attempt was open: a reset or change of the password that ended it after
    # that read has changed the password since, and the session is refused (`start_session`).
    return await signed_in(ctx, account, password_hash=account.password_hash or "")


async def request_password_reset(ctx: Context, identifier: str) -> str:
    """Always an attempt token; a code goes out only to an existing, unlocked account."""
    await limit_address(ctx.request, "start-login")
    named = read_identifier(identifier)
    await _limit_identifier(named)
    account = may_sign_in(await find_account(named))
    found = time.perf_counter()
    try:
        # Past the account's tries, as an identifier that names no account. Every reset keeps
        # the identifier typed: its code tries count on the identifier's own daily budget, and
        # on its account's if it names one (`limits.take_reset_try`).
        if not await _within_account_bound(account):
            account = None
        if account is not None and account.locked_at is None and not await limits.take(
            f"reset-sent:{account.id}", limits.utc_day(), RESET_CODES_PER_DAY
        ):
            account = None  # the day's codes sent: no more, and nothing told (under the floor)
        if account is None or account.locked_at is not None:
            _, token = await attempts.start(
                account, CodePurpose.PASSWORD_RESET, live=False, named=named.digest
            )
            return token
        attempt, token = await attempts.start(
            account, CodePurpose.PASSWORD_RESET, live=True, named=named.digest
        )
        channel, address = destination(account)
        await send_code(account, CodePurpose.PASSWORD_RESET, channel, address, attempt=attempt)
        return token
    finally:
        await answer_no_sooner(found)  # a code sent or not: the same time


async def reset_password(ctx: Context, attempt_token: str, code: str, new_password: str) -> bool:
    await limit_address(ctx.request, "complete-login")
    try:
        check_strength(new_password)  # before the code is tried: a weak password spends no try
    except WeakPassword as exc:
        raise BadUserInput.refused(exc) from None
    # The code before argon2, so a wrong one costs no hash. A decoy attempt (an unknown
    # identifier's) and a real one take different statements to refuse: both answers wait
    # until the same time has passed since the check began, as `requestPasswordReset`'s do.
    checked = time.perf_counter()
    try:
        account_id, before = await _redeem(
            attempt_token, CodePurpose.PASSWORD_RESET, code, read_account=True
        )
    finally:
        await answer_no_sooner(checked)
    if before is None:  # deleted since the reset was asked
        raise BadUserInput(EXPIRED_ATTEMPT, Reason.ATTEMPT_EXPIRED)
    new_hash = await hash_password(new_password)
    account = await Account.get(id=account_id)
    # In the patient's history as a change of their own, as `changePassword` is: the caller
    # has no session, the code they gave names them.
    record = await Record.filter(owner_id=account_id).only("id").first()
    log = AccessLog(Actor(account.id, account.display_name, None, str(account.role)))
    async with log.change(
        record.id if record else None, AccessAction.SECURITY_CHANGED, mode=AccessMode.OWNER,
        reason=reasons.PASSWORD_RESET,
    ):
        # Only over the password of when the reset's code was checked: a change or another
        # reset committed while this one hashed ended this reset (`end_password_steps`), and
        # so did `dmp disable-account`.
        if not await Account.filter(
            id=account_id, password_hash=before.password_hash, disabled_at=None
        ).update(password_hash=new_hash):
            raise BadUserInput(EXPIRED_ATTEMPT, Reason.ATTEMPT_EXPIRED)
        await revoke_all(account_id)
        await attempts.end_password_steps(account_id)
    await alerts.notify(
        account, "Votre mot de passe DMP a été réinitialisé",
        "Le mot de passe de votre compte DMP vient d'être réinitialisé. Toutes vos sessions ont "
        "été fermées.\n",
    )
    return True

