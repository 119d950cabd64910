"""Nothing reveals whether an account exists or a password is right (DESIGN §5)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from backend.models import LoginAttempt, OneTimeCode
from tests import factories
from tests.auth_flows import START
from tests.conftest import Caller
from tests.smtp import SmtpServer

RESET = "mutation($i: String!) { requestPasswordReset(identifier: $i) { attemptToken } }"


def _shape(value: Any) -> Any:
    """The keys and value types of a JSON answer, not its values."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return type(value).__name__


async def test_unknown_identifier_and_wrong_password_look_alike(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    account, record = await factories.patient()
    cases = {
        "unknown e-mail": {"i": "ghost@test.dmp", "p": factories.PASSWORD},
        "wrong password": {"i": account.email, "p": "not the password at all"},
        "unknown INS": {"i": factories.new_ins(), "p": factories.PASSWORD},
        "known INS, wrong password": {"i": record.ins, "p": "not the password at all"},
        "unknown RPPS": {"i": factories.new_rpps(), "p": factories.PASSWORD},
    }
    bodies = {}
    for name, variables in cases.items():
        result = await Caller(client).gql(START, variables)
        assert result.status == 200 and not result.errors, name
        bodies[name] = result.response.json()
    shapes = {name: _shape(body) for name, body in bodies.items()}
    assert len({repr(s) for s in shapes.values()}) == 1, shapes
    for body in bodies.values():
        payload = body["data"]["startLogin"]
        assert payload["factors"] == ["CODE"]
        assert len(payload["attemptToken"]) == 43
        assert "•••@" in payload["codeSentTo"]
    # An e-mail identifier gets its own mask, known or not; a right password would show the same.
    assert bodies["unknown e-mail"]["data"]["startLogin"]["codeSentTo"] == "g•••@t•••.dmp"
    assert bodies["wrong password"]["data"]["startLogin"]["codeSentTo"] == (
        f"{account.email[0]}•••@t•••.dmp"  # type: ignore[index]
    )
    assert await OneTimeCode.all().count() == 0
    assert await smtp_server.deliver() == 0
    assert await LoginAttempt.all().count() == len(cases)


async def test_decoy_mask_is_stable_per_identifier(client: httpx.AsyncClient) -> None:
    ins = factories.new_ins()
    first = (await Caller(client).gql(START, {"i": ins, "p": "x" * 12})).ok()["startLogin"]
    second = (await Caller(client).gql(START, {"i": ins, "p": "y" * 12})).ok()["startLogin"]
    assert first["codeSentTo"] == second["codeSentTo"]
    assert first["attemptToken"] != second["attemptToken"]


async def test_password_reset_request_looks_alike(client: httpx.AsyncClient, smtp_server: SmtpServer) -> None:
    account, _ = await factories.patient()
    known = await Caller(client).gql(RESET, {"i": account.email})
    unknown = await Caller(client).gql(RESET, {"i": "ghost@test.dmp"})
    assert _shape(known.response.json()) == _shape(unknown.response.json())
    await smtp_server.deliver()
    assert len(smtp_server.to(account.email or "")) == 1
    assert smtp_server.to("ghost@test.dmp") == []


async def test_start_login_is_rate_limited_per_identifier(client: httpx.AsyncClient) -> None:
    account, _ = await factories.patient()
    codes = []
    for _ in range(21):
        result = await Caller(client).gql(START, {"i": account.email, "p": "wrong password 123"})
        codes.append(result.codes[0] if result.codes else None)
    assert codes[:20] == [None] * 20 and codes[20] == "RATE_LIMITED"
    # Another identifier is not affected.
    assert not (await Caller(client).gql(START, {"i": "someone@test.dmp", "p": "x" * 12})).errors


async def test_sign_in_and_reset_answers_wait_alike_whatever_the_case(
    client: httpx.AsyncClient, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the password check, an unknown identifier writes nothing, a wrong password writes
    its failure, and a right one sends a code: each answer waits until the same time has
    passed since the check, so the time tells neither the account nor the password. Checked
    by what waits, not by a clock."""
    from backend.resolvers import login

    waited: list[str] = []

    async def answer_no_sooner(since: float) -> None:
        waited.append("waited")

    monkeypatch.setattr(login, "answer_no_sooner", answer_no_sooner)
    account, _ = await factories.patient()
    for variables in ({"i": "ghost@test.dmp", "p": factories.PASSWORD},
                      {"i": account.email, "p": "not the password at all"},
                      {"i": account.email, "p": factories.PASSWORD}):
        (await Caller(client).gql(START, variables)).ok()
    assert len(waited) == 3
    for identifier in ("ghost@test.dmp", account.email):
        (await Caller(client).gql(RESET, {"i": identifier})).ok()
    assert len(waited) == 5
