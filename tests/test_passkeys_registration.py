"""Adding passkeys: options, genuine verification, and every refusal storing nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest

from backend import clock
from backend.auth.sessions import create_session
from backend.models import AccessEvent, Account, OutboxMessage, PasskeyChallenge, PasskeyCredential
from tests import factories
from tests.conftest import Caller, session_for
from tests.passkey_flows import (
    BEGIN_REGISTRATION,
    FINISH_REGISTRATION,
    MY_PASSKEYS,
    begin_registration,
    register,
    stored,
)
from tests.soft_authenticator import AuthenticatorRefused, SoftAuthenticator


async def signed_in(client: httpx.AsyncClient) -> tuple[Account, Caller]:
    account, _ = await factories.patient()
    return account, Caller(client, session=await session_for(account))


async def test_registration_options_require_resident_key_and_verification(
    client: httpx.AsyncClient,
) -> None:
    account, caller = await signed_in(client)
    options = json.loads(await begin_registration(caller))
    assert options["rp"]["id"] == "localhost"
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["excludeCredentials"] == []
    assert options["user"]["displayName"] == account.display_name
    row = await PasskeyChallenge.get(challenge=options["challenge"])
    assert row.purpose == "REGISTER" and row.used_at is None
    assert row.expires_at - clock.now() <= timedelta(minutes=5)


async def test_register_stores_a_verified_credential_and_emails(
    client: httpx.AsyncClient,
) -> None:
    account, record = await factories.patient()
    caller = Caller(client, session=await session_for(account))
    authenticator = SoftAuthenticator()
    options = await begin_registration(caller)
    cred, response = authenticator.register(options)
    result = await caller.gql(FINISH_REGISTRATION, {"c": response, "n": "  Mon  téléphone "})
    passkey = result.ok()["finishPasskeyRegistration"]
    assert passkey["name"] == "Mon téléphone"
    assert passkey["lastUsedAt"] is None

    row = await stored(cred)
    assert str(row.id) == passkey["id"]
    assert row.account_id == account.id  # type: ignore[attr-defined]
    assert row.sign_count == 0
    assert row.transports == ["internal", "hybrid"]
    assert bytes(row.public_key) == cred.cose_public_key()
    challenge = await PasskeyChallenge.get(challenge=json.loads(options)["challenge"])
    assert challenge.used_at is not None
    mails = await OutboxMessage.filter(account_id=account.id)
    assert [m.recipient for m in mails] == [account.email]
    assert "clé d'accès" in mails[0].subject.lower()

    events = await AccessEvent.filter(record_id=record.id)
    assert [(e.action, e.reason) for e in events] == [("SECURITY_CHANGED", "clé d'accès ajoutée")]

    listed = (await caller.gql(MY_PASSKEYS)).ok()["myPasskeys"]
    assert [p["id"] for p in listed] == [passkey["id"]]


async def test_second_registration_excludes_existing_credentials(
    client: httpx.AsyncClient,
) -> None:
    _, caller = await signed_in(client)
    authenticator = SoftAuthenticator()
    cred = await register(caller, authenticator)
    options = await begin_registration(caller)
    assert [c["id"] for c in json.loads(options)["excludeCredentials"]] == [cred.id]
    with pytest.raises(AuthenticatorRefused):
        authenticator.register(options)
    # A second authenticator of the same person may be added.
    other = await register(caller, SoftAuthenticator(), name=None)
    assert (await stored(other)).name == "Clé d'accès"
    assert await PasskeyCredential.all().count() == 2


@pytest.mark.parametrize("kind", ["practitioner", "support"])
async def test_practitioners_and_support_may_add_passkeys(
    client: httpx.AsyncClient, kind: str
) -> None:
    if kind == "practitioner":
        account, _ = await factories.practitioner()
    else:
        account = await factories.support()
    caller = Caller(client, session=await session_for(account))
    cred = await register(caller, SoftAuthenticator())
    assert (await stored(cred)).account_id == account.id  # type: ignore[attr-defined]


async def test_begin_requires_a_session(client: httpx.AsyncClient) -> None:
    result = await Caller(client).gql(BEGIN_REGISTRATION)
    assert result.codes == ["UNAUTHENTICATED"]
    assert await PasskeyChallenge.all().count() == 0


async def test_begin_requires_a_fresh_second_factor(client: httpx.AsyncClient) -> None:
    account, _ = await factories.patient()
    _, token = await create_session(account, fresh_factor=False)
    result = await Caller(client, session=token).gql(BEGIN_REGISTRATION)
    assert result.codes == ["FORBIDDEN"]
    assert result.errors[0]["message"].lower().startswith("a fresh second factor is required")
    assert await PasskeyChallenge.all().count() == 0


async def test_finishing_needs_the_factor_still_fresh(client: httpx.AsyncClient) -> None:
    """Begun within the ten minutes, finished after them: refused, nothing stored (the
    challenge lives five minutes more than a begin made at the last moment)."""
    from backend.models import Session

    account, _ = await factories.patient()
    caller = Caller(client, session=await session_for(account))
    options = await begin_registration(caller)
    _, response = SoftAuthenticator().register(options)
    await Session.filter(account_id=account.id).update(fresh_factor_at=clock.now() - timedelta(minutes=11))
    result = await caller.gql(FINISH_REGISTRATION, {"c": response})
    assert result.codes == ["FORBIDDEN"]
    assert await PasskeyCredential.all().count() == 0


async def test_second_factor_older_than_ten_minutes_is_not_fresh(
    client: httpx.AsyncClient,
) -> None:
    _, caller = await signed_in(client)
    clock.shift(timedelta(minutes=11))
    assert (await caller.gql(BEGIN_REGISTRATION)).codes == ["FORBIDDEN"]
    assert await PasskeyChallenge.all().count() == 0


async def test_partner_token_cannot_add_passkeys(client: httpx.AsyncClient) -> None:
    from backend.auth.secrets_util import digest
    from backend.models import ApiToken

    account, practitioner = await factories.practitioner()
    await ApiToken.create(
        name="LGC", token_hash=digest("tok-123"), prefix="tok", scopes=["record:read"],
        practitioner=practitioner, expires_at=clock.now() + timedelta(days=1),
    )
    result = await Caller(client, token="tok-123").gql(BEGIN_REGISTRATION)
    assert result.codes == ["FORBIDDEN"]
    assert await PasskeyChallenge.all().count() == 0


async def _refused(caller: Caller, response: str) -> None:
    result = await caller.gql(FINISH_REGISTRATION, {"c": response, "n": "x"})
    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["message"] == "passkey verification failed"
    assert await PasskeyCredential.all().count() == 0
    assert await OutboxMessage.all().count() == 0
    assert await AccessEvent.all().count() == 0


async def test_wrong_origin_is_refused(client: httpx.AsyncClient) -> None:
    _, caller = await signed_in(client)
    options = await begin_registration(caller)
    _, response = SoftAuthenticator().register(options, origin="https://evil.example")
    await _refused(caller, response)


async def test_wrong_rp_id_is_refused(client: httpx.AsyncClient) -> None:
    _, caller = await signed_in(client)
    options = await begin_registration(caller)
    _, response = SoftAuthenticator().register(options, rp_id="evil.example")
    await _refused(caller, response)


async def test_missing_user_verification_is_refused(client: httpx.AsyncClient) -> None:
    _, caller = await signed_in(client)
    options = await begin_registration(caller)
    _, response = SoftAuthenticator().register(options, uv=False)
    await _refused(caller, response)


async def test_challenge_never_issued_is_refused(client: httpx.AsyncClient) -> None:
    _, caller = await signed_in(client)
    options = await begin_registration(caller)
    _, response = SoftAuthenticator().register(options, challenge="bm90LWlzc3VlZC1ieS11cw")
    await _refused(caller, response)


async def test_challenge_of_another_session_is_refused(client: httpx.AsyncClient) -> None:
    account, caller = await signed_in(client)
    other_session = Caller(client, session=await session_for(account))
    options = await begin_registration(other_session)
    _, response = SoftAuthenticator().register(options)
    await _refused(caller, response)
    # A foreign use does not burn it: the session it was issued to still finishes.
    (await other_session.gql(FINISH_REGISTRATION, {"c": response})).ok()
    assert await PasskeyCredential.all().count() == 1


async def test_login_challenge_cannot_register(client: httpx.AsyncClient) -> None:
    _, caller = await signed_in(client)
    data = (await caller.gql("mutation { beginPasskeyLogin { optionsJson } }")).ok()
    login_options = json.loads(data["beginPasskeyLogin"]["optionsJson"])
    options = await begin_registration(caller)
    _, response = SoftAuthenticator().register(options, challenge=login_options["challenge"])
    await _refused(caller, response)


async def test_replayed_registration_is_refused(client: httpx.AsyncClient) -> None:
    account, caller = await signed_in(client)
    options = await begin_registration(caller)
    _, response = SoftAuthenticator().register(options)
    (await caller.gql(FINISH_REGISTRATION, {"c": response})).ok()
    result = await caller.gql(FINISH_REGISTRATION, {"c": response})
    assert result.codes == ["BAD_USER_INPUT"]
    assert await PasskeyCredential.all().count() == 1
    assert await OutboxMessage.filter(account_id=account.id).count() == 1


async def test_expired_challenge_is_refused(client: httpx.AsyncClient) -> None:
    _, caller = await signed_in(client)
    options = await begin_registration(caller)
    _, response = SoftAuthenticator().register(options)
    clock.shift(timedelta(minutes=5, seconds=1))
    await _refused(caller, response)


async def test_malformed_response_is_refused(client: httpx.AsyncClient) -> None:
    _, caller = await signed_in(client)
    await begin_registration(caller)
    await _refused(caller, "{not json")
    await _refused(caller, json.dumps({"id": "x", "response": {}}))


async def test_finish_requires_a_session(client: httpx.AsyncClient) -> None:
    _, caller = await signed_in(client)
    options = await begin_registration(caller)
    _, response = SoftAuthenticator().register(options)
    result = await Caller(client).gql(FINISH_REGISTRATION, {"c": response})
    assert result.codes == ["UNAUTHENTICATED"]
    assert await PasskeyCredential.all().count() == 0



async def test_mangled_registrations_are_refused_not_crashed(client: httpx.AsyncClient) -> None:
    import cbor2

    from tests.soft_authenticator import b64url

    _, caller = await signed_in(client)
    cases: list[tuple[str, object]] = [
        ("attestationObject", "AAAA"),
        ("attestationObject", b64url(cbor2.dumps({"fmt": "none", "attStmt": {}}))),
        ("attestationObject", b64url(cbor2.dumps({"fmt": "none", "attStmt": {},
                                                   "authData": b"\x00" * 40}))),
        ("attestationObject", b64url(cbor2.dumps({"fmt": "packed", "attStmt": {},
                                                   "authData": b"\x00" * 40}))),
        ("attestationObject", "!!"),
        ("clientDataJSON", b64url(b"[]")),
        ("clientDataJSON", None),
    ]
    for key, value in cases:
        options = await begin_registration(caller)
        _, response = SoftAuthenticator().register(options)
        body = json.loads(response)
        body["response"][key] = value
        result = await caller.gql(FINISH_REGISTRATION, {"c": json.dumps(body)})
        assert result.codes == ["BAD_USER_INPUT"], (key, value, result.errors)
    await begin_registration(caller)
    nested = "[" * 100_000 + "]" * 100_000  # beyond Python's stack
    result = await caller.gql(FINISH_REGISTRATION, {"c": nested})
    assert result.codes == ["BAD_USER_INPUT"], result.errors
    assert await PasskeyCredential.all().count() == 0


async def test_an_insurer_token_is_refused_passkeys_as_any_token_is(client: httpx.AsyncClient) -> None:
    """A token with no account behind it (an insurer's) is FORBIDDEN, as a practitioner's
    token is: UNAUTHENTICATED would tell its holder the token is not valid."""
    from tests.care_items import insurer_token

    insurer = Caller(client, token=await insurer_token())
    assert (await insurer.gql(BEGIN_REGISTRATION)).codes == ["FORBIDDEN"]
    assert (await insurer.gql("{ myPasskeys { id } }")).codes == ["FORBIDDEN"]
    assert await PasskeyChallenge.all().count() == 0
