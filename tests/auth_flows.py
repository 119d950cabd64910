"""GraphQL documents and steps shared by the authentication tests."""

from __future__ import annotations

import httpx

from backend import config
from tests.conftest import Caller, GraphQLResult
from tests.smtp import SmtpServer

START = """mutation($i: String!, $p: String!) {
  startLogin(identifier: $i, password: $p) { attemptToken factors codeSentTo } }"""
COMPLETE = """mutation($t: String!, $c: String!) {
  completeLogin(attemptToken: $t, code: $c) { me { id role displayName profession } } }"""
ME = "{ me { id role displayName profession } }"
RESET = "mutation($i: String!) { requestPasswordReset(identifier: $i) { attemptToken } }"
DO_RESET = """mutation($t: String!, $c: String!, $p: String!) {
  resetPassword(attemptToken: $t, code: $c, newPassword: $p) }"""
FRESH = "mutation { requestFreshFactor { sentTo } }"
CONFIRM_FRESH = "mutation($c: String!) { confirmFreshFactor(code: $c) }"
CHANGE_PASSWORD = """mutation($o: String!, $n: String!) {
  changePassword(currentPassword: $o, newPassword: $n) }"""
# A new password the strength check accepts.
NEW_PASSWORD = "une toute nouvelle phrase 77"


def session_cookie(result: GraphQLResult) -> str | None:
    return result.response.cookies.get(config.settings().session_cookie)


def wrong(code: str) -> str:
    """A six-digit code that is not `code`."""
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def start(client: httpx.AsyncClient, identifier: str, password: str) -> dict[str, object]:
    data = (await Caller(client).gql(START, {"i": identifier, "p": password})).ok()
    start_login = data["startLogin"]
    assert isinstance(start_login, dict)
    return start_login


async def login(client: httpx.AsyncClient, smtp: SmtpServer, identifier: str, password: str,
                email: str) -> str:
    """Sign in fully with the e-mailed code; returns the session cookie value."""
    started = await start(client, identifier, password)
    code = await smtp.code_for(email)
    result = await Caller(client).gql(COMPLETE, {"t": started["attemptToken"], "c": code})
    result.ok()
    cookie = session_cookie(result)
    assert cookie
    return cookie
