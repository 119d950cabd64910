"""Registrations a hostile client crafts: answered BAD_USER_INPUT with nothing written, and
nothing kept that would fail every later sign-in."""

from __future__ import annotations

import json

import cbor2
import httpx
import pytest

from backend.models import AccessEvent, Account, OutboxMessage, PasskeyChallenge, PasskeyCredential
from tests import factories
from tests.conftest import Caller, GraphQLResult, session_for
from tests.passkey_flows import (
    FINISH_REGISTRATION,
    begin_login,
    begin_registration,
    finish_login,
    session_count,
)
from tests.soft_authenticator import SoftAuthenticator


async def signed_in(client: httpx.AsyncClient) -> tuple[Account, Caller]:
    account, _ = await factories.patient()
    return account, Caller(client, session=await session_for(account))


async def assert_nothing_written(result: GraphQLResult, account: Account) -> None:
    assert result.codes == ["BAD_USER_INPUT"], result.errors
    assert result.errors[0]["extensions"]["reason"] == "PASSKEY_NOT_VERIFIED"
    assert await PasskeyCredential.filter(account_id=account.id).count() == 0
    assert await OutboxMessage.filter(account_id=account.id).count() == 0
    assert await AccessEvent.filter(action="SECURITY_CHANGED").count() == 0


def ec2(x: bytes, y: bytes, **extra: object) -> bytes:
    return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: x, -3: y, **extra})


# COSE keys an authenticator could report: each decodes badly, or names no usable key.
BROKEN_KEYS = {
    "empty map": cbor2.dumps({}),
    "no algorithm": cbor2.dumps({1: 2}),
    "unknown key type": cbor2.dumps({1: 99, 3: -7}),
    "a list": cbor2.dumps([1, 2]),
    "EC2 without coordinates": cbor2.dumps({1: 2, 3: -7}),
    "EC2 without a curve": cbor2.dumps({1: 2, 3: -7, -2: b"\x01" * 32, -3: b"\x02" * 32}),
    "a point off the curve": ec2(b"\x01" * 32, b"\x02" * 32),
    "coordinates of text": ec2(b"", b""),
    "RSA of nothing": cbor2.dumps({1: 3, 3: -257, -1: b"", -2: b""}),
    "Ed25519 of 3 bytes": cbor2.dumps({1: 1, 3: -8, -1: 6, -2: b"abc"}),
}


@pytest.mark.parametrize("key", BROKEN_KEYS.values(), ids=list(BROKEN_KEYS))
async def test_a_broken_public_key_is_refused_not_crashed(
    client: httpx.AsyncClient, key: bytes
) -> None:
    """py_webauthn decodes the attested key but, for a "none" attestation, never loads it:
    a point off the curve was kept, and every sign-in with it answered INTERNAL; a key of
    the wrong shape answered INTERNAL at once."""
    account, caller = await signed_in(client)
    options = await begin_registration(caller)
    _, response = SoftAuthenticator().register(options, public_key=key)
    result = await caller.gql(FINISH_REGISTRATION, {"c": response, "n": "x"})
    await assert_nothing_written(result, account)
    challenge = await PasskeyChallenge.get(challenge=json.loads(options)["challenge"])
    assert challenge.used_at is not None  # used up, as by any refusal


async def test_a_key_kept_before_it_was_checked_refuses_sign_in_not_crashes(
    client: httpx.AsyncClient,
) -> None:
    """A credential stored before registration loaded keys (a point off its curve) refuses
    its sign-ins as not verified."""
    account, caller = await signed_in(client)
    authenticator = SoftAuthenticator()
    options = await begin_registration(caller)
    cred, response = authenticator.register(options)
    (await caller.gql(FINISH_REGISTRATION, {"c": response})).ok()
    await PasskeyCredential.filter(credential_id=cred.id).update(
        public_key=ec2(b"\x01" * 32, b"\x02" * 32)
    )
    sessions = await session_count()
    result = await finish_login(Caller(client), authenticator.assertion(await begin_login(Caller(client))))
    assert result.codes == ["BAD_USER_INPUT"], result.errors
    assert result.errors[0]["extensions"]["reason"] == "PASSKEY_NOT_VERIFIED"
    assert await session_count() == sessions
    row = await PasskeyCredential.get(credential_id=cred.id)
    assert row.sign_count == 0 and row.last_used_at is None


async def test_a_credential_id_longer_than_kept_is_refused(client: httpx.AsyncClient) -> None:
    """The column holds 400 base64url characters (300 bytes): a longer id answered INTERNAL
    (on both databases: Tortoise checks the length before writing)."""
    account, caller = await signed_in(client)
    options = await begin_registration(caller)
    _, response = SoftAuthenticator().register(options, credential_id=b"\x01" * 301)
    await assert_nothing_written(await caller.gql(FINISH_REGISTRATION, {"c": response}), account)
    # The longest kept is accepted, and signs in.
    authenticator = SoftAuthenticator()
    options = await begin_registration(caller)
    cred, response = authenticator.register(options, credential_id=b"\x02" * 300)
    (await caller.gql(FINISH_REGISTRATION, {"c": response})).ok()
    assert len((await PasskeyCredential.get(account_id=account.id)).credential_id) == 400
    result = await finish_login(Caller(client), authenticator.assertion(
        await begin_login(Caller(client)), credential=cred
    ))
    assert result.ok()["finishPasskeyLogin"]["me"]["id"] == str(account.id)


async def test_transports_are_kept_once_each(client: httpx.AsyncClient) -> None:
    """Transports are repeated in every second-factor sign-in's options: thousands of
    copies of one were kept as sent."""
    account, caller = await signed_in(client)
    options = await begin_registration(caller)
    _, response = SoftAuthenticator().register(
        options, transports=["usb"] * 5000 + ["internal", "not-a-transport", "usb"]
    )
    (await caller.gql(FINISH_REGISTRATION, {"c": response})).ok()
    row = await PasskeyCredential.get(account_id=account.id)
    assert row.transports == ["usb", "internal"]
