"""`resetPassword` and `createRecord` check the code before argon2 runs, answer a refusal after
the same time whatever the case, and are limited per client address (DESIGN §5).

Argon2 takes 19 MiB and tens of milliseconds of CPU: a step that hashed before looking at
the code let anyone with no code at all put the server to work, hundreds of times at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from argon2.exceptions import VerifyMismatchError

from backend import config, ratelimit
from backend.auth import activation, passwords
from backend.domain.enums import RecordStatus
from backend.models import AccessEvent, Account, ActivationCode, OneTimeCode, Record, Session
from tests import factories
from tests.auth_flows import COMPLETE, DO_RESET, NEW_PASSWORD, RESET, wrong
from tests.conftest import ORIGIN, Caller
from tests.smtp import SmtpServer

CREATE = """mutation($input: CreateRecordInput!) { createRecord(input: $input) { attemptToken sentTo } }"""


REAL_HASHER = passwords.HASHER


async def _password_is(account_id: Any, password: str) -> bool:
    stored = (await Account.get(id=account_id)).password_hash or ""
    try:
        return bool(REAL_HASHER.verify(stored, password))
    except VerifyMismatchError:
        return False


@asynccontextmanager
async def _client_at(address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client calling from another address (the socket peer the limits count)."""
    from backend.app import create_app

    app = create_app(config.settings(), outbox_worker=False)
    transport = httpx.ASGITransport(app=app, client=(address, 123))
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
        yield client


class CountingHasher:
    """The service's argon2 hasher, counting the hashes and verifications it runs."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.runs = 0

    def hash(self, password: str) -> str:
        self.runs += 1
        return str(self.inner.hash(password))

    def verify(self, stored: str, password: str) -> bool:
        self.runs += 1
        return bool(self.inner.verify(stored, password))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
def argon2(monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingHasher]:
    counting = CountingHasher(passwords.HASHER)
    monkeypatch.setattr(passwords, "HASHER", counting)
    yield counting


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each refusal floor awaited, by the module that awaited it (checked by what waits, not
    by a clock)."""
    from backend.resolvers import login, signup

    waited: list[str] = []

    def floor(module: str) -> Any:
        async def answer_no_sooner(since: float) -> None:
            waited.append(module)
        return answer_no_sooner

    monkeypatch.setattr(login, "answer_no_sooner", floor("login"))
    monkeypatch.setattr(signup, "answer_no_sooner", floor("signup"), raising=False)
    return waited


def _reason(result: Any) -> str | None:
    return result.errors[0]["extensions"].get("reason") if result.errors else None


async def _reset_token(client: httpx.AsyncClient, identifier: str) -> str:
    data = (await Caller(client).gql(RESET, {"i": identifier})).ok()
    return str(data["requestPasswordReset"]["attemptToken"])


async def test_a_refused_reset_runs_no_hash_and_waits_alike_whatever_the_attempt(
    client: httpx.AsyncClient, smtp_server: SmtpServer, argon2: CountingHasher, waits: list[str]
) -> None:
    """An unknown token, an unknown identifier's (decoy) attempt and a real attempt with a
    wrong code: the same refusal, each after the floor, none after an argon2 hash."""
    account, _ = await factories.patient()
    email = account.email or ""
    real = await _reset_token(client, email)
    code = await smtp_server.code_for(email)
    decoy = await _reset_token(client, "ghost@test.dmp")
    cases = {
        "unknown token": ({"t": "bogus", "c": "123456"}, "ATTEMPT_EXPIRED"),
        "decoy attempt": ({"t": decoy, "c": "123456"}, "WRONG_CODE"),
        "real attempt, wrong code": ({"t": real, "c": wrong(code)}, "WRONG_CODE"),
    }
    for name, (variables, reason) in cases.items():
        waits.clear()
        argon2.runs = 0
        result = await Caller(client).gql(DO_RESET, {**variables, "p": NEW_PASSWORD})
        assert result.codes == ["BAD_USER_INPUT"] and _reason(result) == reason, name
        assert result.data is None
        assert argon2.runs == 0, name
        assert waits == ["login"], name
    # A weak password is refused before the code is tried: the code keeps its tries.
    weak = await Caller(client).gql(DO_RESET, {"t": real, "c": code, "p": "short"})
    assert _reason(weak) == "PASSWORD_TOO_SHORT" and argon2.runs == 0
    row = await OneTimeCode.get(account_id=account.id)
    assert row.tries == 1 and row.used_at is None
    assert await _password_is(account.id, factories.PASSWORD)
    assert await AccessEvent.filter(action="SECURITY_CHANGED").count() == 0
    # The right code: one hash, the new password.
    ok = await Caller(client).gql(DO_RESET, {"t": real, "c": code, "p": NEW_PASSWORD})
    assert ok.ok() == {"resetPassword": True}
    assert argon2.runs == 1
    assert await _password_is(account.id, NEW_PASSWORD)


@pytest.fixture
def small_address_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ratelimit.PER_ADDRESS, "complete-login", 3)
    monkeypatch.setitem(ratelimit.PER_ADDRESS, "create-record", 3)


async def test_reset_password_is_limited_per_address_with_complete_login(
    client: httpx.AsyncClient, smtp_server: SmtpServer, small_address_limits: None, argon2: CountingHasher
) -> None:
    account, _ = await factories.patient()
    email = account.email or ""
    token = await _reset_token(client, email)
    code = await smtp_server.code_for(email)
    argon2.runs = 0  # the account's own password, hashed by the factory
    for n in range(3):
        tried = await Caller(client).gql(DO_RESET, {"t": f"bogus-{n}", "c": "123456", "p": NEW_PASSWORD})
        assert _reason(tried) == "ATTEMPT_EXPIRED"
    # Past the limit, even the right code is refused, and nothing is tried, hashed or written.
    refused = await Caller(client).gql(DO_RESET, {"t": token, "c": code, "p": NEW_PASSWORD})
    assert refused.codes == ["RATE_LIMITED"] and refused.data is None
    assert argon2.runs == 0
    row = await OneTimeCode.get(account_id=account.id)
    assert row.tries == 0 and row.used_at is None
    assert await _password_is(account.id, factories.PASSWORD)
    assert await AccessEvent.filter(action="SECURITY_CHANGED").count() == 0
    # The same count as completeLogin's: codes cannot be sprayed through one and then the other.
    login = await Caller(client).gql(COMPLETE, {"t": token, "c": code})
    assert login.codes == ["RATE_LIMITED"]
    assert await Session.all().count() == 0


async def test_parallel_resets_from_one_address_stop_at_the_limit_without_hashing(
    client: httpx.AsyncClient, small_address_limits: None, argon2: CountingHasher
) -> None:
    variables = {"t": "bogus", "c": "123456", "p": "Very-Strong-Passw0rd-1"}
    results = await asyncio.gather(*(Caller(client).gql(DO_RESET, variables) for _ in range(12)))
    codes = sorted(r.codes[0] for r in results if r.codes)
    assert codes == ["BAD_USER_INPUT"] * 3 + ["RATE_LIMITED"] * 9
    assert argon2.runs == 0


STRONG = "un mot de passe long et rare 42"


async def _pending(ins: str | None = None) -> tuple[Record, str]:
    record = await Record.create(ins=ins or factories.new_ins(), first_name="Léa", last_name="Martin",
                                 birth_date=dt.date(1990, 4, 2), status=RecordStatus.PENDING)
    code, _ = await activation.issue(record, "test")
    return record, code


async def test_a_refused_activation_runs_no_hash_and_waits_alike_whatever_the_case(
    client: httpx.AsyncClient, argon2: CountingHasher, waits: list[str]
) -> None:
    """An unknown INS, a wrong code, an address in use and a wrong recovery code: the same
    refusal, each after the floor, none after an argon2 hash."""
    record, code = await _pending()
    owner, owned = await factories.patient()
    recovery_code, _ = await activation.issue(owned, "test")
    taken, _ = await factories.patient()
    argon2.runs = 0
    cases = {
        "unknown INS": {"ins": factories.new_ins(), "activationCode": code, "email": "n1@test.dmp"},
        "wrong code": {"ins": record.ins, "activationCode": "AAAA-BBBB-CCCC", "email": "n2@test.dmp"},
        "address in use": {"ins": record.ins, "activationCode": code, "email": taken.email},
        "wrong recovery code": {"ins": owned.ins, "activationCode": "AAAA-BBBB-CCCC", "email": "n3@test.dmp"},
        "recovery, address in use": {"ins": owned.ins, "activationCode": recovery_code, "email": taken.email},
    }
    answers = []
    for name, case in cases.items():
        waits.clear()
        result = await Caller(client).gql(CREATE, {"input": {**case, "password": STRONG}})
        answers.append((result.codes, result.errors[0]["message"], _reason(result), result.data))
        assert argon2.runs == 0, name
        assert waits == ["signup"], name
    assert all(answer == answers[0] for answer in answers)
    assert answers[0][0] == ["BAD_USER_INPUT"] and answers[0][2] == "ACTIVATION_REFUSED"
    assert (await Record.get(id=record.id)).status == RecordStatus.PENDING
    assert await Account.filter(role="PATIENT").count() == 2
    assert (await Account.get(id=owner.id)).password_hash == owner.password_hash
    assert await AccessEvent.all().count() == 0
    # The right code: one hash, the record activated.
    ok = await Caller(client).gql(CREATE, {"input": {
        "ins": record.ins, "activationCode": code, "email": "n1@test.dmp", "password": STRONG}})
    ok.ok()
    assert argon2.runs == 1
    assert (await Record.get(id=record.id)).status == RecordStatus.ACTIVE


async def test_create_record_is_limited_per_address(
    client: httpx.AsyncClient, small_address_limits: None, argon2: CountingHasher
) -> None:
    record, code = await _pending()
    right = {"ins": record.ins, "activationCode": code, "email": "t@test.dmp", "password": STRONG}
    for _ in range(3):
        tried = await Caller(client).gql(CREATE, {"input": {**right, "activationCode": "AAAA-BBBB-CCCC"}})
        assert _reason(tried) == "ACTIVATION_REFUSED"
    refused = await Caller(client).gql(CREATE, {"input": right})
    assert refused.codes == ["RATE_LIMITED"] and refused.data is None
    assert argon2.runs == 0
    assert (await Record.get(id=record.id)).status == RecordStatus.PENDING
    row = await ActivationCode.get(record_id=record.id)
    assert row.tries == 3 and row.used_at is None  # the refused call tried nothing
    assert not await Account.filter(email="t@test.dmp").exists()
    # Another client address has its own count.
    async with _client_at("192.0.2.7") as other:
        ok = await Caller(other).gql(CREATE, {"input": right})
    ok.ok()
    assert (await Record.get(id=record.id)).status == RecordStatus.ACTIVE


async def test_parallel_activations_from_one_address_stop_at_the_limit_without_hashing(
    client: httpx.AsyncClient, small_address_limits: None, argon2: CountingHasher
) -> None:
    record, _ = await _pending()
    wrong_code = {"ins": record.ins, "activationCode": "AAAA-BBBB-CCCC", "email": "p@test.dmp",
                  "password": STRONG}
    results = await asyncio.gather(*(Caller(client).gql(CREATE, {"input": wrong_code}) for _ in range(12)))
    codes = sorted(r.codes[0] for r in results if r.codes)
    assert codes == ["BAD_USER_INPUT"] * 3 + ["RATE_LIMITED"] * 9
    assert argon2.runs == 0
    assert (await ActivationCode.get(record_id=record.id)).tries == 3
