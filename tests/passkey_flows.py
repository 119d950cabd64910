"""GraphQL steps shared by the passkey tests."""

from __future__ import annotations

import secrets
from datetime import timedelta

from backend import clock
from backend.auth.secrets_util import digest
from backend.domain.enums import CodePurpose
from backend.models import Account, LoginAttempt, PasskeyCredential, Session
from tests.conftest import Caller, GraphQLResult
from tests.soft_authenticator import SoftAuthenticator, SoftCredential

BEGIN_REGISTRATION = "mutation { beginPasskeyRegistration { optionsJson } }"
FINISH_REGISTRATION = """
mutation($c: String!, $n: String) {
  finishPasskeyRegistration(credentialJson: $c, name: $n) { id name createdAt lastUsedAt }
}"""
BEGIN_LOGIN = """
mutation($t: String) { beginPasskeyLogin(attemptToken: $t) { optionsJson } }"""
FINISH_LOGIN = """
mutation($c: String!, $t: String) {
  finishPasskeyLogin(credentialJson: $c, attemptToken: $t) { me { id role displayName } }
}"""
MY_PASSKEYS = "{ myPasskeys { id name createdAt lastUsedAt } }"
ME = "{ me { id role } }"


async def begin_registration(caller: Caller) -> str:
    data = (await caller.gql(BEGIN_REGISTRATION)).ok()
    return str(data["beginPasskeyRegistration"]["optionsJson"])


async def register(
    caller: Caller, authenticator: SoftAuthenticator, name: str | None = "Téléphone", **kw: object
) -> SoftCredential:
    """A complete, successful registration."""
    options = await begin_registration(caller)
    cred, response = authenticator.register(options, **kw)  # type: ignore[arg-type]
    (await caller.gql(FINISH_REGISTRATION, {"c": response, "n": name})).ok()
    return cred


async def begin_login(caller: Caller, attempt_token: str | None = None) -> str:
    data = (await caller.gql(BEGIN_LOGIN, {"t": attempt_token})).ok()
    return str(data["beginPasskeyLogin"]["optionsJson"])


async def finish_login(
    caller: Caller, response: str, attempt_token: str | None = None
) -> GraphQLResult:
    return await caller.gql(FINISH_LOGIN, {"c": response, "t": attempt_token})


async def password_checked_attempt(account: Account, *, password_ok: bool = True) -> str:
    """What startLogin leaves behind after a right password: a LoginAttempt and its token."""
    token = secrets.token_urlsafe(32)
    await LoginAttempt.create(
        token_hash=digest(token),
        account=account,
        purpose=CodePurpose.LOGIN,
        password_ok=password_ok,
        expires_at=clock.now() + timedelta(minutes=10),
    )
    return token


async def stored(cred: SoftCredential) -> PasskeyCredential:
    return await PasskeyCredential.get(credential_id=cred.id)


async def session_count() -> int:
    return await Session.all().count()


def cookie_set(result: GraphQLResult) -> bool:
    return "set-cookie" in result.response.headers
