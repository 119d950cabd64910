"""WebAuthn ceremonies (py_webauthn): options, server-side challenges, verification.

Every challenge is stored, bound to what asked for it (a session for registration, a
login attempt or nothing for login), used once and for 5 minutes at most. A response
is refused unless its clientDataJSON carries such a challenge, consumed atomically
here, so a replay fails even when sent in parallel.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.models import Model
from tortoise.transactions import in_transaction
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    decode_credential_public_key,
    decoded_public_key_to_cryptography,
    parse_authentication_credential_json,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from backend import clock
from backend.auth import alerts, limits
from backend.config import settings
from backend.domain.text import one_line
from backend.models import Account, LoginAttempt, PasskeyChallenge, PasskeyCredential, Session
from backend.notify.outbox import enqueue_email

log = logging.getLogger("dmp.passkeys")

CHALLENGE_VALIDITY = timedelta(minutes=5)
TIMEOUT_MS = 5 * 60 * 1000
RP_NAME = "Dossier Médical Partagé"
DEFAULT_NAME = "Clé d'accès"
MAX_NAME = 100
# The longest credential id kept: `passkey_credential.credential_id` holds 400 base64url
# characters. Authenticators asked for a resident key use ids of 16 to 64 bytes.
MAX_CREDENTIAL_ID = 300


def _unquoted(exc: Exception) -> str:
    """py_webauthn's reason without the values it quotes: an origin or an RP ID the client
    sent would otherwise reach the log as the client wrote it."""
    return _QUOTED.sub('"…"', str(exc))[:200]


_QUOTED = re.compile(r'"[^"]*"|\'[^\']*\'')


# Passkeys an account may hold: each is listed in the options of every later ceremony (a
# second factor's `allowCredentials`, a registration's `excludeCredentials`).
MAX_PASSKEYS = 10

class PasskeyRefused(Exception):
    """A ceremony failed; the reason is for the server log, never for the client."""


class Purpose:
    REGISTER = "REGISTER"
    LOGIN = "LOGIN"


@dataclass(frozen=True)
class LoginResult:
    credential: PasskeyCredential
    account: Account


def _fk(row: Model, relation: str) -> uuid.UUID | None:
    """The foreign key Tortoise keeps beside a relation (not visible to mypy)."""
    value = getattr(row, f"{relation}_id")
    return None if value is None else uuid.UUID(str(value))


def visible_name(name: str | None) -> str:
    """The name as shown, on the page and in e-mails: invisible characters out, spaces
    folded, cut to size (a space the cut leaves at the end dropped)."""
    return one_line(name or "")[:MAX_NAME].rstrip()


def clean_name(name: str | None) -> str:
    return visible_name(name) or DEFAULT_NAME


def _descriptor(row: PasskeyCredential) -> PublicKeyCredentialDescriptor:
    transports: list[AuthenticatorTransport] = []
    for value in row.transports or []:
        try:
            transports.append(AuthenticatorTransport(value))
        except ValueError:
            continue
    return PublicKeyCredentialDescriptor(
        id=base64url_to_bytes(row.credential_id), transports=transports or None
    )


async def _store_challenge(
    challenge: bytes,
    purpose: str,
    *,
    account_id: uuid.UUID | None = None,
    session_id: uuid.UUID | None = None,
    attempt_id: uuid.UUID | None = None,
) -> None:
    await PasskeyChallenge.create(
        challenge=bytes_to_base64url(challenge),
        purpose=purpose,
        account_id=account_id,
        session_id=session_id,
        attempt_id=attempt_id,
        expires_at=clock.now() + CHALLENGE_VALIDITY,
    )


async def _consume_challenge(
    challenge: bytes,
    purpose: str,
    *,
    session_id: uuid.UUID | None = None,
    attempt_id: uuid.UUID | None = None,
) -> PasskeyChallenge:
    """The stored challenge issued for exactly this binding, marked used; else refused."""
    value = bytes_to_base64url(challenge)
    row = await PasskeyChallenge.get_or_none(challenge=value)
    if row is None:
        raise PasskeyRefused("challenge was never issued")
    if row.purpose != purpose:
        raise PasskeyRefused("challenge was issued for another ceremony")
    if _fk(row, "session") != session_id or _fk(row, "attempt") != attempt_id:
        raise PasskeyRefused("challenge was issued for another session or attempt")
    now = clock.now()
    # Conditional update: of two parallel uses of one challenge, only one changes the row.
    changed = await PasskeyChallenge.filter(
        id=row.id, used_at=None, expires_at__gt=now
    ).update(used_at=now)
    if changed != 1:
        raise PasskeyRefused("challenge already used or expired")
    return row


def _client_challenge(client_data_json: bytes) -> bytes:
    return parse_client_data_json(client_data_json).challenge


# --- registration -------------------------------------------------------------------


async def registration_options(account: Account, session_id: uuid.UUID) -> str:
    """Options for navigator.credentials.create(), as JSON; the challenge is kept."""
    existing = await PasskeyCredential.filter(account_id=account.id)
    options = generate_registration_options(
        rp_id=settings().rp_id,
        rp_name=RP_NAME,
        # The user handle is the account's random id: no personal data on the authenticator
        # beyond the name shown in its picker.
        user_id=account.id.bytes,
        user_name=account.email or account.display_name,
        user_display_name=account.display_name,
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            require_resident_key=True,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[_descriptor(row) for row in existing],
    )
    await _store_challenge(
        options.challenge, Purpose.REGISTER, account_id=account.id, session_id=session_id
    )
    return options_to_json(options)


# The transaction a credential's change is stored in: the resolvers pass one that also writes
# the change's event in the owner's history.
Storing = Callable[[], AbstractAsyncContextManager[Any]]


async def register(
    account: Account, session_id: uuid.UUID, credential_json: str, name: str | None,
    storing: Storing = in_transaction,
) -> PasskeyCredential:
    """Verify a registration response and store the credential (in a `storing()`
    transaction); e-mails the account."""
    cfg = settings()
    try:
        credential = parse_registration_credential_json(credential_json)
        challenge = _client_challenge(credential.response.client_data_json)
    except (WebAuthnException, ValueError, TypeError, KeyError, RecursionError) as exc:
        raise PasskeyRefused(f"malformed registration response: {type(exc).__name__}") from None
    row = await _consume_challenge(challenge, Purpose.REGISTER, session_id=session_id)
    if _fk(row, "account") != account.id:
        raise PasskeyRefused("challenge was issued for another account")
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=cfg.rp_id,
            expected_origin=cfg.public_origin,
            require_user_presence=True,
            require_user_verification=True,
        )
        # A "none" attestation checks no signature: the key is only decoded, never loaded,
        # so one that cannot verify anything (a point off its curve) would be kept.
        decoded_public_key_to_cryptography(
            decode_credential_public_key(verified.credential_public_key)
        )
    except WebAuthnException as exc:
        raise PasskeyRefused(f"registration not verified: {_unquoted(exc)}") from None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as exc:
        # py_webauthn reads the attested COSE key without checking its shape.
        raise PasskeyRefused(f"malformed credential key: {type(exc).__name__}") from None
    if len(verified.credential_id) > MAX_CREDENTIAL_ID:
        raise PasskeyRefused("credential id too long")
    credential_id = bytes_to_base64url(verified.credential_id)
    if await PasskeyCredential.exists(credential_id=credential_id):
        raise PasskeyRefused("credential already registered")
    # Each kept once: they are repeated in every sign-in's options.
    transports = list(dict.fromkeys(t.value for t in credential.response.transports or []))
    try:
        async with storing() as conn:
            if await holds_all_it_may(account.id, conn):
                raise TooManyPasskeys()
            stored = await PasskeyCredential.create(
                using_db=conn,
                account_id=account.id,
                credential_id=credential_id,
                public_key=verified.credential_public_key,
                sign_count=verified.sign_count,
                name=clean_name(name),
                transports=transports,
            )
            await notify_change(account, added=stored.name, using_db=conn)
    except IntegrityError:
        raise PasskeyRefused("credential registered concurrently") from None
    return stored


class TooManyPasskeys(Exception):
    """The account holds MAX_PASSKEYS already."""


async def holds_all_it_may(account_id: uuid.UUID, conn: Any = None) -> bool:
    """Whether the account holds MAX_PASSKEYS already: no other may be added."""
    return await PasskeyCredential.filter(account_id=account_id).using_db(conn).count() >= MAX_PASSKEYS


class PasskeyGone(Exception):
    """The passkey was removed meanwhile (a parallel removal)."""


async def remove(
    account: Account, row: PasskeyCredential, storing: Storing = in_transaction,
    keep_session: uuid.UUID | None = None,
) -> None:
    """Delete the passkey, its event and notice with it, and end the sessions it opened (a
    passkey removed because it was lost must not leave its sessions open), but the caller's
    `keep_session`; PasskeyGone (nothing written) when a parallel removal deleted it first:
    the event and notice are that removal's."""
    async with storing() as conn:
        # Its name as it is when removed: a rename committed since `row` was read is the name
        # its holder now knows it by, in the notice.
        current = await PasskeyCredential.filter(id=row.id).using_db(conn).select_for_update().first()
        if current is None or not await PasskeyCredential.filter(id=row.id).using_db(conn).delete():
            raise PasskeyGone()
        opened = Session.filter(account_id=account.id, passkey_id=row.id, revoked_at=None)
        if keep_session is not None:
            opened = opened.exclude(id=keep_session)
        await opened.using_db(conn).update(revoked_at=clock.now())
        await notify_change(account, removed=current.name, using_db=conn)


async def notify_change(
    account: Account, *, added: str | None = None, removed: str | None = None,
    using_db: object = None,
) -> None:
    """Tell the account holder that their passkeys changed (DESIGN §5), as the other changes to
    how they sign in are told (alerts.notify: when, and what to do if it was not them). A
    passkey is named by the name its holder gave it; one left unnamed is « une clé d'accès »."""
    name = added if added is not None else removed
    called = f" (« {name} »)" if name and name != DEFAULT_NAME else ""
    if added is not None:
        subject = "Une clé d'accès a été ajoutée à votre compte DMP"
        what = f"Une clé d'accès{called} a été ajoutée à votre compte.\n"
    else:
        subject = "Une clé d'accès a été retirée de votre compte DMP"
        what = f"Une clé d'accès{called} a été retirée de votre compte.\n"
    await alerts.notify(account, subject, what, using_db=using_db)


# --- authentication -----------------------------------------------------------------


async def authentication_options(attempt: LoginAttempt | None) -> str:
    """Options for navigator.credentials.get(), as JSON; the challenge is kept.

    With an attempt whose password was right (startLogin's) the account's passkeys are
    allowed; without, the browser offers its discoverable credentials for this site. A decoy
    attempt (wrong password, unknown account) allows none, whatever the account: listing
    them would tell, without the password, that the account exists and which passkeys it has.
    """
    allow: list[PublicKeyCredentialDescriptor] = []
    if attempt is not None and attempt.password_ok and _fk(attempt, "account") is not None:
        rows = await PasskeyCredential.filter(account_id=_fk(attempt, "account")).order_by(
            "created_at"
        )
        allow = [_descriptor(row) for row in rows]
    options = generate_authentication_options(
        rp_id=settings().rp_id,
        timeout=TIMEOUT_MS,
        allow_credentials=allow,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    await _store_challenge(
        options.challenge,
        Purpose.LOGIN,
        account_id=_fk(attempt, "account") if attempt else None,
        attempt_id=attempt.id if attempt else None,
    )
    return options_to_json(options)


async def authenticate(credential_json: str, attempt: LoginAttempt | None) -> LoginResult:
    """Verify an assertion; with an attempt, the passkey must be that account's.

    Its password step need not have succeeded: a verified passkey signs in alone anyway, so
    refusing it after a decoy (a wrong password, or a locked account's right one) protected
    nothing and told its holder it "could not be verified". A decoy's options list none."""
    cfg = settings()
    try:
        credential = parse_authentication_credential_json(credential_json)
        challenge = _client_challenge(credential.response.client_data_json)
    except (WebAuthnException, ValueError, TypeError, KeyError, RecursionError) as exc:
        raise PasskeyRefused(f"malformed assertion: {type(exc).__name__}") from None
    await _consume_challenge(
        challenge, Purpose.LOGIN, attempt_id=attempt.id if attempt else None
    )
    stored = (
        await PasskeyCredential.filter(credential_id=credential.id).select_related("account").first()
    )
    if stored is None:
        raise PasskeyRefused("unknown credential")
    if stored.account.disabled_at is not None:
        # Answered as an unknown credential is, before anything else is read or written (its
        # signature, its count): a disabled account (`dmp disable-account`) signs in no way.
        raise PasskeyRefused("credential of a disabled account")
    if attempt is not None:
        if _fk(stored, "account") != _fk(attempt, "account"):
            raise PasskeyRefused("credential of another account")
    handle = credential.response.user_handle
    if handle and handle != stored.account.id.bytes:
        raise PasskeyRefused("user handle does not match the credential")
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=cfg.rp_id,
            expected_origin=cfg.public_origin,
            credential_public_key=bytes(stored.public_key),
            # The count is compared below, once the signature is known to be the key's:
            # py_webauthn compares it first, so a copy of the key could not be told from noise.
            credential_current_sign_count=0,
            require_user_verification=True,
        )
    except WebAuthnException as exc:
        raise PasskeyRefused(f"assertion not verified: {_unquoted(exc)}") from None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        # A key kept before registration loaded it (a point off its curve) cannot verify.
        raise PasskeyRefused(f"stored key unusable: {type(exc).__name__}") from None
    new_count = verified.new_sign_count
    if (new_count > 0 or stored.sign_count > 0) and new_count <= stored.sign_count:
        # Signed by the key, yet counting behind it: two authenticators hold it (a copy), or
        # one was reset. Either way its holder is told (synced passkeys report 0 every time).
        await _notify_count_behind(stored)
        raise PasskeyRefused("sign count did not increase: the key may have been copied")
    # Compare-and-set: a cloned authenticator racing the genuine one cannot both pass.
    changed = await PasskeyCredential.filter(id=stored.id, sign_count=stored.sign_count).update(
        sign_count=verified.new_sign_count, last_used_at=clock.now()
    )
    if changed != 1:
        raise PasskeyRefused("sign count changed concurrently")
    return LoginResult(credential=stored, account=stored.account)


async def _notify_count_behind(row: PasskeyCredential) -> None:
    """E-mail the holder once a day per passkey: whoever holds a copy may try again and again."""
    account = row.account
    if not account.email or not await limits.take(f"passkey-copied:{row.id}", limits.utc_day(), 1):
        return
    await enqueue_email(
        account.email,
        "Une de vos clés d'accès DMP a peut-être été copiée",
        f"Une connexion avec la clé d'accès « {visible_name(row.name)} » a été refusée : "
        "son compteur d'utilisation était en retard sur le dernier connu, ce qui arrive quand "
        "la clé a été copiée sur un autre appareil.\n"
        "Si vous n'avez pas réinitialisé cet appareil, retirez cette clé d'accès depuis la page "
        "Sécurité, changez votre mot de passe et contactez le support du DMP.\n",
        account_id=account.id,
    )
