"""Operator provisioning of accounts and partner tokens, shared by the CLI and the demo seed;
lifting an account's code-login lock, shared by the CLI and support; disabling an account and
revoking an organization's tokens (the CLI's)."""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from backend import clock
from backend.audit import reasons
from backend.audit.collector import AccessLog
from backend.audit.writer import Actor
from backend.auth.contacts import normalize_phone, storable_email
from backend.auth.passwords import WeakPassword, check_strength, hash_password
from backend.auth.secrets_util import digest, new_token
from backend.domain.enums import AccessAction, Profession, RecordStatus, Role
from backend.domain.identifiers import InvalidIdentifier, normalize_ins, normalize_rpps
from backend.domain.text import one_line
from backend.models import Account, ApiToken, Practitioner, Record
from backend.notify.notices import notify_security

SCOPES = frozenset({"insurer:import", "practitioner"})


class ProvisioningError(ValueError):
    """Bad input to an operator command; the message is one line for the operator."""


@dataclass
class NewAccount:
    role: Role
    email: str
    password: str
    first_name: str
    last_name: str
    phone: str | None = None
    ins: str | None = None
    birth_date: dt.date | None = None
    rpps: str | None = None
    profession: Profession | None = None
    city: str = ""
    regulator: bool = False


# The identity options each role takes (the others are refused when given).
_OPTIONS_OF = {
    Role.PATIENT: ("--ins", "--birth-date"),
    Role.PRACTITIONER: ("--rpps", "--profession", "--city", "--regulator"),
}
OLDEST_BIRTH_DATE = dt.date(1900, 1, 1)
# Who provisioned a record, as its owner reads it in the access history.
OPERATOR = "Exploitant du DMP"


def _visible(text: str) -> bool:
    """Text without control characters (a newline, an escape sequence): names are shown."""
    return all(unicodedata.category(c) != "Cc" for c in text)


# The columns' lengths (backend/models): checked here, the option named, rather than refused by
# the database with the whole value quoted.
NAME_MAX = 100
# Lower-cased "rpps first last city", cut to the column: the RPPS first, so that it is always found.
SEARCH_TEXT_MAX = 300


def _nfc(text: str) -> str:
    """Names as the web's forms send them (composed, NFC): a name typed decomposed (NFD, as some
    terminals and files give it) was stored so, and the directory's search did not find it."""
    return unicodedata.normalize("NFC", text)


def person_name(text: str) -> str:
    """A person's name (or city) as it shows: composed (NFC), one line without invisible
    characters (direction controls, zero-width ones), no space at either end."""
    return one_line(_nfc(text))


def directory_text(text: str) -> str:
    """A practitioner's search text, and the directory's search, alike: composed (NFC), one line
    without invisible characters, lower-cased. A search typed with decomposed accents (« e » +
    U+0301, from some keyboards and macOS copy-paste) missed the names stored composed."""
    return person_name(text).lower()


def _label(text: str) -> bool:
    """A token's name or an organization, printed by list-tokens and shown in the patients'
    histories: 1 to NAME_MAX printable characters (no escape sequence, no newline)."""
    return 1 <= len(text) <= NAME_MAX and text.isprintable()


def organization_name(raw: str) -> str | None:
    """An organization as `dmp create-token` stores it and `dmp import-file` reads it: composed
    (NFC: « é » typed once and « e » + U+0301 once were two organizations), no space at either
    end ("Mutuelle Z " and "Mutuelle Z" were two); None when it is not a label."""
    name = _nfc(raw).strip()
    return name if _label(name) else None


def validate(new: NewAccount) -> None:
    # The same checks as the sign-up's: a trailing newline or a phone of separators alone
    # were accepted here, and stored as verified.
    email = storable_email(new.email) if new.email == new.email.strip() else None
    if email is None:
        raise ProvisioningError(f"invalid e-mail address: {new.email!r}")
    new.email = email
    if new.phone is not None:
        phone = normalize_phone(new.phone)
        if phone is None:
            raise ProvisioningError("invalid phone number (six digits at least)")
        new.phone = phone
    # Names are shown to patients and practitioners, stored as they show: composed, without the
    # direction controls (U+202E showed « Alice\u202eecilA » as « AliceAlicE ») and zero-width
    # characters, on one line. A name that shows nothing is an empty one.
    typed = (new.first_name, new.last_name, new.city)
    first, last, city = (person_name(value) for value in typed)
    if not first or not last:
        raise ProvisioningError("first and last name are required")
    for option, value in (("--first-name", first), ("--last-name", last), ("--city", city)):
        if len(value) > NAME_MAX:
            raise ProvisioningError(f"{option} must be at most {NAME_MAX} characters")
    if not all(_visible(value) for value in typed):
        raise ProvisioningError("names and city must not hold control characters")
    new.first_name, new.last_name, new.city = first, last, city
    try:
        check_strength(new.password)
    except WeakPassword as exc:
        raise ProvisioningError(str(exc)) from None
    try:
        if new.role == Role.PATIENT:
            if not new.ins or not new.birth_date:
                raise ProvisioningError("a patient needs --ins and --birth-date")
            new.ins = normalize_ins(new.ins)
            if new.birth_date > clock.latest_today():
                raise ProvisioningError("the birth date is in the future")
            if new.birth_date < OLDEST_BIRTH_DATE:
                raise ProvisioningError(f"the birth date is before {OLDEST_BIRTH_DATE.isoformat()}")
        elif new.role == Role.PRACTITIONER:
            if not new.rpps or not new.profession:
                raise ProvisioningError("a practitioner needs --rpps and --profession")
            new.rpps = normalize_rpps(new.rpps)
            if new.regulator and new.profession != Profession.MEDECIN:
                raise ProvisioningError("a SAMU regulator must be a medecin")
        elif new.role != Role.SUPPORT:
            raise ProvisioningError(f"unknown role {new.role}")
        given = [name for name, value in (
            ("--ins", new.ins), ("--birth-date", new.birth_date), ("--rpps", new.rpps),
            ("--profession", new.profession), ("--city", new.city or None),
            ("--regulator", new.regulator or None),
        ) if value is not None and name not in _OPTIONS_OF.get(new.role, ())]
        if given:  # said, and not used: refused rather than dropped without a word
            role = new.role.value.lower()
            raise ProvisioningError(f"not for a {role} account: {', '.join(given)}")
    except InvalidIdentifier as exc:
        raise ProvisioningError(str(exc)) from None


async def create_account(new: NewAccount, *, command: str | None = None) -> Account:
    """Create an account; a patient gets an ACTIVE record with a verified contact.

    `command` names the operator command that provisions it (`dmp create-account`): a
    patient's record then starts with its RECORD_ACTIVATED event, by the operator, written in
    the transaction that creates it, as a record activated on the web page starts with its own
    (without an event, a record has no chain head for `dmp audit anchor`). Test fixtures give
    no command: their records start with no event.
    """
    validate(new)
    email = new.email.lower()
    if await Account.filter(email=email).exists():
        raise ProvisioningError(f"an account with e-mail {email} already exists")
    if new.ins and await Record.filter(ins=new.ins).exists():
        raise ProvisioningError("a record with this INS already exists")
    if new.rpps and await Practitioner.filter(rpps=new.rpps).exists():
        raise ProvisioningError("a practitioner with this RPPS already exists")
    password_hash = await hash_password(new.password)
    async with in_transaction() as conn:
        account = await Account.create(
            using_db=conn,
            role=new.role,
            email=email,
            email_verified=True,
            phone=new.phone,
            phone_verified=bool(new.phone),
            password_hash=password_hash,
            first_name=new.first_name.strip(),
            last_name=new.last_name.strip(),
        )
        if new.role == Role.PATIENT:
            if not (new.ins and new.birth_date):
                raise ProvisioningError("a patient needs --ins and --birth-date")
            now = clock.now()
            record = await Record.create(
                using_db=conn,
                ins=new.ins,
                owner=account,
                first_name=account.first_name,
                last_name=account.last_name,
                birth_date=new.birth_date,
                status=RecordStatus.ACTIVE,
                activated_at=now,
            )
            if command is not None:
                await AccessLog(Actor(None, OPERATOR, None, Role.SUPPORT.value)).record_change(
                    record.id, AccessAction.RECORD_ACTIVATED,
                    reason=reasons.activated_by_operator(command),
                )
        elif new.role == Role.PRACTITIONER:
            if not (new.rpps and new.profession):
                raise ProvisioningError("a practitioner needs --rpps and --profession")
            search_text = directory_text(f"{new.rpps} {account.first_name} {account.last_name} {new.city}")
            await Practitioner.create(
                using_db=conn,
                account=account,
                rpps=new.rpps,
                profession=new.profession,
                city=new.city.strip(),
                is_regulator=new.regulator,
                search_text=search_text[:SEARCH_TEXT_MAX],
            )
    return account


async def create_token(
    name: str,
    scopes: list[str],
    *,
    practitioner_rpps: str | None = None,
    organization: str | None = None,
    expires_days: int = 365,
) -> tuple[ApiToken, str]:
    """Create a partner token; returns the row and the token, shown once."""
    if not name.strip():
        raise ProvisioningError("--name is required")
    # Both are printed by list-tokens, and the organization is the name its imports show in
    # the patients' histories: an escape sequence or a newline was stored and printed as is.
    if not _label(name.strip()):
        raise ProvisioningError(f"--name must be 1 to {NAME_MAX} printable characters")
    unknown = set(scopes) - SCOPES
    if not scopes or unknown:
        raise ProvisioningError(f"--scope must be among {', '.join(sorted(SCOPES))}")
    if (practitioner_rpps is None) == (organization is None):
        raise ProvisioningError("give exactly one of --practitioner or --organization")
    if organization is not None:
        if not _nfc(organization).strip():
            raise ProvisioningError("--organization must name the organization")
        organization = organization_name(organization)
        if organization is None:
            raise ProvisioningError(f"--organization must be 1 to {NAME_MAX} printable characters")
    if not 1 <= expires_days <= 3650:
        raise ProvisioningError("--expires-days must be between 1 and 3650")
    practitioner = None
    if practitioner_rpps is not None:
        try:
            rpps = normalize_rpps(practitioner_rpps)
        except InvalidIdentifier as exc:
            raise ProvisioningError(str(exc)) from None
        practitioner = await Practitioner.filter(rpps=rpps).select_related("account").first()
        if practitioner is None:
            raise ProvisioningError(f"no practitioner with RPPS {rpps}")
        if practitioner.account.disabled_at is not None:
            # It would be refused at every call (`viewer.resolve_viewer`): said now instead.
            raise ProvisioningError(
                f"the account of the practitioner with RPPS {rpps} is disabled: no token is made "
                "for it (dmp enable-account first, if it is to work again)"
            )
        if "insurer:import" in scopes:
            raise ProvisioningError("a practitioner token cannot have the insurer:import scope")
    elif "practitioner" in scopes:
        raise ProvisioningError("an organization token cannot have the practitioner scope")
    token = "dmp_" + new_token()
    row = await ApiToken.create(
        name=name.strip(),
        token_hash=digest(token),
        prefix=token[:12],
        scopes=sorted(scopes),
        organization=organization,  # as `dmp import-file --organization` reads it
        practitioner=practitioner,
        expires_at=clock.now() + dt.timedelta(days=expires_days),
    )
    return row, token


# Who lifted a code-login lock, as the security notice tells the account's holder.
BY_SUPPORT = "le support"
BY_OPERATOR = "l'exploitant du DMP"


async def unlock(account: Account, *, by: str, using_db: BaseDBAsyncClient) -> bool:
    """Lift the account's code-login lock and queue the security notice that tells its holder,
    in the caller's transaction: an unlock the holder is not told of does not happen. `by`:
    BY_SUPPORT or BY_OPERATOR. False, and nothing written, when the transaction finds the
    account not locked: one unlocked meanwhile is not unlocked twice (a second notice, and the
    day's later code failures given back)."""
    if not await _lift(account, using_db):
        return False
    await _tell_unlocked(account, by, using_db)
    return True


async def unlock_by_operator(account: Account) -> bool:
    """The operator's unlock (`dmp unlock-account`), in a transaction of its own: as `unlock`,
    and where the account owns a record (a patient), one event in its access history, as
    support's unlock writes one: by the operator (OPERATOR), SUPPORT_ACTION, OPERATOR_UNLOCKED,
    no mode (as create-account's). Written before the notice is queued, which links to that
    history, and committed with the unlock and the notice or not at all. The record's row is
    held first, as support's unlock and the patient's own security changes hold it before the
    account's, so that two of them queue instead of deadlocking. False, and nothing written,
    as `unlock`."""
    record = await Record.filter(owner_id=account.id).only("id").first()
    if record is None:
        async with in_transaction() as conn:
            return await unlock(account, by=BY_OPERATOR, using_db=conn)
    log = AccessLog(Actor(None, OPERATOR, None, Role.SUPPORT.value))
    async with log.changing(record.id) as conn:
        if not await _lift(account, conn):
            return False
        await log.record_change(record.id, AccessAction.SUPPORT_ACTION, reason=reasons.OPERATOR_UNLOCKED)
        await _tell_unlocked(account, BY_OPERATOR, conn)
    return True


async def _lift(account: Account, using_db: BaseDBAsyncClient) -> bool:
    """The lock cleared, if the transaction finds one."""
    lifted = await Account.filter(id=account.id, locked_at__not_isnull=True).using_db(using_db).update(
        locked_at=None, lock_reason=None, failure_count=0, failure_day=None
    )
    return bool(lifted)


async def as_now(account: Account, using_db: BaseDBAsyncClient) -> Account:
    """The account as the change's transaction reads it: its address now, for a notice."""
    return await Account.filter(id=account.id).using_db(using_db).first() or account


async def _tell_unlocked(account: Account, by: str, using_db: BaseDBAsyncClient) -> None:
    await notify_security(
        await as_now(account, using_db), f"déblocage de la connexion par code, par {by}", using_db=using_db
    )


@dataclass(frozen=True)
class Disabled:
    """What `disable` did: `since`, when the account was disabled (now, or earlier when it
    already was); the sessions it ended and the tokens it revoked (none, for an account
    disabled earlier, unless something of it was left)."""

    since: dt.datetime
    already: bool
    sessions: int
    tokens: int


async def disable(account: Account) -> Disabled:
    """Disable the account, end its sessions, its sign-ins and password resets under way and
    revoke every token bound to it (a practitioner's), in one transaction. The account's row
    is written first, as a sign-in writes it first before opening its session
    (`sessions.start_session`): a sign-in completing meanwhile either committed first, and its
    session is ended here, or waits and then finds the account disabled. Idempotent: an
    account already disabled keeps its date, and whatever of it is still open is ended."""
    from backend.auth.attempts import end_password_steps
    from backend.auth.sessions import revoke_all

    now = clock.now()
    async with in_transaction() as conn:
        newly = await Account.filter(id=account.id, disabled_at=None).using_db(conn).update(disabled_at=now)
        row = await Account.filter(id=account.id).using_db(conn).only("id", "disabled_at").first()
        if row is None or row.disabled_at is None:  # deleted meanwhile
            raise ProvisioningError("the account no longer exists")
        sessions = await revoke_all(account.id, using_db=conn)
        await end_password_steps(account.id)
        tokens = 0
        practitioner = await Practitioner.filter(account_id=account.id).using_db(conn).only("id").first()
        if practitioner is not None:
            tokens = await ApiToken.filter(practitioner_id=practitioner.id, revoked_at=None).using_db(
                conn
            ).update(revoked_at=now)
    return Disabled(since=row.disabled_at, already=not newly, sessions=sessions, tokens=tokens)


async def enable(account: Account) -> dt.datetime | None:
    """Lift the account's disabling; when it was disabled, None if it was not (nothing
    written). Its sessions stay ended and its tokens revoked: it signs in anew, and an
    operator makes new tokens."""
    async with in_transaction() as conn:
        row = await Account.filter(id=account.id).using_db(conn).only("id", "disabled_at").first()
        if row is None or row.disabled_at is None:
            return None
        if not await Account.filter(id=account.id, disabled_at=row.disabled_at).using_db(conn).update(
            disabled_at=None
        ):
            return None  # enabled meanwhile
    return row.disabled_at


def organization_key(name: str | None) -> str | None:
    """An organization as `revoke_organization_tokens` compares it: as stored (NFC, no space
    at either end), then without case (« CNAM », « cnam » and « Cnam » are one)."""
    stored = organization_name(name or "")
    return stored.casefold() if stored is not None else None


async def revoke_organization_tokens(raw: str) -> list[ApiToken]:
    """Revoke every token of the organization `raw` names, compared as `organization_key`
    compares it; the tokens revoked (not yet revoked, expired or not), oldest first, in one
    transaction. Expired ones are revoked too: the listing then says plainly they are done."""
    key = organization_key(raw)
    if key is None:
        raise ProvisioningError(f"--organization must be 1 to {NAME_MAX} printable characters")
    async with in_transaction() as conn:
        rows = await ApiToken.filter(revoked_at=None, organization__not_isnull=True).using_db(
            conn
        ).order_by("created_at")
        matched = [row.id for row in rows if organization_key(row.organization) == key]
        if not matched:
            return []
        now = clock.now()
        if await ApiToken.filter(id__in=matched, revoked_at=None).using_db(conn).update(
            revoked_at=now
        ) == len(matched):
            return [row for row in rows if row.id in matched]
        # Some revoked meanwhile, by another command: those are not this one's to report.
        return await ApiToken.filter(id__in=matched, revoked_at=now).using_db(conn).order_by("created_at")
