"""Nothing reveals whether an account exists or a password is right (DESIGN §5)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from backend import clock
from backend.models import Account, LoginAttempt, OneTimeCode, Session
from tests import factories
from tests.auth_flows import COMPLETE, DO_RESET, RESET, START, wrong
from tests.conftest import Caller
from tests.smtp import SmtpServer


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


async def _wrong_reset_codes(
    client: httpx.AsyncClient, smtp_server: SmtpServer, typed: list[str], email: str | None
) -> list[str | None]:
    """A reset asked with each identifier in turn, and five wrong codes tried on each: the
    error code of every try. `email` is where a real account's codes go (None: no account)."""
    answers = []
    for identifier in typed:
        asked = (await Caller(client).gql(RESET, {"i": identifier})).ok()["requestPasswordReset"]
        code = await smtp_server.code_for(email) if email else "000000"
        variables = {"t": asked["attemptToken"], "c": wrong(code), "p": "une phrase neuve 77"}
        for _ in range(5):
            answers.append((await Caller(client).gql(DO_RESET, variables)).codes[0])
    return answers


async def test_wrong_reset_codes_meet_the_same_daily_budget_known_or_not(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    """A real account's reset codes share ten tries a day; the decoys of an identifier that
    names no account share as many, counted on the identifier as sign-in reads it: try after
    try, over several resets, a known and an unknown identifier answer alike."""
    account, _ = await factories.patient()
    email = account.email or ""
    expected = ["BAD_USER_INPUT"] * 10 + ["RATE_LIMITED"] * 10
    known = [email, email.upper(), f" {email} ", email]
    assert await _wrong_reset_codes(client, smtp_server, known, email) == expected
    unknown = ["ghost@test.dmp", "GHOST@test.dmp", " ghost@test.dmp ", "ghost@test.dmp"]
    assert await _wrong_reset_codes(client, smtp_server, unknown, None) == expected
    ins = factories.new_ins()
    spaced = [ins, f"{ins[:1]} {ins[1:3]} {ins[3:5]} {ins[5:7]} {ins[7:]}", ins, ins]
    assert await _wrong_reset_codes(client, smtp_server, spaced, None) == expected
    # A locked account gets decoys too: they spend the identifier's budget and the account's,
    # whichever identifier; past the account's ten, each identifier answers as an unknown one
    # until its own ten are used up (a refusal would tell that it names that account).
    locked, record = await factories.patient()
    await Account.filter(id=locked.id).update(locked_at=clock.now(), lock_reason="test")
    mixed = [locked.email or "", record.ins, locked.email or "", record.ins]
    assert await _wrong_reset_codes(client, smtp_server, mixed, None) == ["BAD_USER_INPUT"] * 20
    assert await _wrong_reset_codes(client, smtp_server, [record.ins], None) == ["RATE_LIMITED"] * 5
    # Each identifier has a budget of its own: another unknown one is not held back.
    assert (await _wrong_reset_codes(client, smtp_server, ["other@test.dmp"], None))[0] == "BAD_USER_INPUT"
    assert (await Account.get(id=account.id)).password_hash == account.password_hash
    assert await Session.all().count() == 0


async def test_wrong_login_codes_answer_alike_for_a_wrong_password_and_an_unknown_identifier(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    """Without the password, a login code is never sent: a known account's attempts are
    decoys, as an unknown identifier's are, and their wrong codes answer alike, five per
    attempt and no daily budget (which a real code's tries have, past the password)."""
    account, _ = await factories.patient()
    answers: dict[str, list[str | None]] = {}
    for identifier in (account.email or "", "ghost@test.dmp"):
        answers[identifier] = []
        for _ in range(3):
            started = await Caller(client).gql(START, {"i": identifier, "p": "not the password at all"})
            token = started.ok()["startLogin"]["attemptToken"]
            for _ in range(6):
                tried = await Caller(client).gql(COMPLETE, {"t": token, "c": "123456"})
                answers[identifier].append(tried.codes[0])
    assert list(answers.values())[0] == list(answers.values())[1] == (
        ["BAD_USER_INPUT"] * 5 + ["RATE_LIMITED"]) * 3
    assert await OneTimeCode.all().count() == 0 and await Session.all().count() == 0
