"""Sign-in is rate-limited per identifier and per client address (DESIGN §5).

The address is the socket peer unless the operator names a trusted proxy header; then it is
the right-most entry of that header (the one the proxy added). A header the client wrote
itself never moves the count elsewhere.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from backend import clock, config, ratelimit
from backend.models import Account, LoginAttempt, OneTimeCode, RateCounter
from tests import factories
from tests.auth_flows import COMPLETE, RESET, START
from tests.conftest import ORIGIN


@pytest.fixture
def small_address_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ratelimit.PER_ADDRESS, "start-login", 3)
    monkeypatch.setitem(ratelimit.PER_ADDRESS, "complete-login", 3)
    # The count's window is the clock's ten minutes: the test starts one second into a
    # window, so its tries, however slow the machine, are counted in one.
    now = clock.now()
    clock.shift(timedelta(minutes=ratelimit.WINDOW_MINUTES - now.minute % ratelimit.WINDOW_MINUTES,
                          seconds=1 - now.second, microseconds=-now.microsecond))


@pytest.fixture
def trusted_header() -> Iterator[None]:
    saved = config.settings()
    config.reset(dataclasses.replace(saved, trusted_proxy_header="X-Forwarded-For"))
    yield
    config.reset(saved)


async def _post(client: httpx.AsyncClient, query: str, variables: dict[str, str],
                **headers: str) -> dict:
    response = await client.post("/graphql", json={"query": query, "variables": variables},
                                 headers={"origin": ORIGIN, **headers})
    assert response.status_code == 200
    return response.json()


def _codes(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors") or []]


async def _start(client: httpx.AsyncClient, identifier: str, **headers: str) -> dict:
    return await _post(client, START, {"i": identifier, "p": "wrong-password-123"}, **headers)


async def test_start_login_limited_per_identifier(client: httpx.AsyncClient) -> None:
    account, _ = await factories.patient()
    for _ in range(20):
        assert "errors" not in await _start(client, account.email or "")
    attempts = await LoginAttempt.all().count()
    refused = await _start(client, account.email or "")
    assert _codes(refused) == ["RATE_LIMITED"]
    assert refused["data"] is None
    assert await LoginAttempt.all().count() == attempts
    # Another identifier from the same address is not held back by that one's limit.
    assert "errors" not in await _start(client, "someone-else@test.dmp")


async def test_start_login_limited_per_address_across_identifiers(
    client: httpx.AsyncClient, small_address_limits: None
) -> None:
    for n in range(3):
        assert "errors" not in await _start(client, f"spray{n}@test.dmp")
    attempts = await LoginAttempt.all().count()
    refused = await _start(client, "spray3@test.dmp")
    assert _codes(refused) == ["RATE_LIMITED"]
    # No trusted header configured: a forged X-Forwarded-For is ignored, the peer still counts.
    forged = await _start(client, "spray4@test.dmp", **{"x-forwarded-for": "203.0.113.9"})
    assert _codes(forged) == ["RATE_LIMITED"]
    # Password reset requests draw on the same per-address count.
    reset = await _post(client, """mutation($i: String!) {
        requestPasswordReset(identifier: $i) { attemptToken } }""",
                        {"i": "spray5@test.dmp"})
    assert _codes(reset) == ["RATE_LIMITED"]
    assert await LoginAttempt.all().count() == attempts
    assert await OneTimeCode.all().count() == 0


async def test_complete_login_limited_per_address(
    client: httpx.AsyncClient, small_address_limits: None
) -> None:
    for n in range(3):
        body = await _post(client, COMPLETE, {"t": f"no-such-attempt-{n}", "c": "123456"})
        assert _codes(body) == ["BAD_USER_INPUT"]
    body = await _post(client, COMPLETE, {"t": "no-such-attempt-9", "c": "123456"})
    assert _codes(body) == ["RATE_LIMITED"]
    forged = await _post(client, COMPLETE, {"t": "x", "c": "123456"},
                         **{"x-forwarded-for": "198.51.100.7"})
    assert _codes(forged) == ["RATE_LIMITED"]


async def test_trusted_proxy_header_right_most_entry_counts(
    client: httpx.AsyncClient, small_address_limits: None, trusted_header: None
) -> None:
    # The client may prepend anything; the proxy appends the real peer (10.0.0.1).
    for n in range(3):
        forged = f"203.0.113.{n}, 10.0.0.1"
        assert "errors" not in await _start(client, f"a{n}@test.dmp", **{"x-forwarded-for": forged})
    refused = await _start(client, "a9@test.dmp", **{"x-forwarded-for": "192.0.2.200, 10.0.0.1"})
    assert _codes(refused) == ["RATE_LIMITED"]
    # Another client behind the same proxy has its own count.
    assert "errors" not in await _start(client, "b@test.dmp", **{"x-forwarded-for": "10.0.0.2"})
    keys = set(await RateCounter.filter(key__startswith="addr:").values_list("key", flat=True))
    assert keys == {"addr:start-login:10.0.0.1", "addr:start-login:10.0.0.2"}
    # Without the header, the socket peer counts.
    assert "errors" not in await _start(client, "c@test.dmp")
    assert await RateCounter.filter(key="addr:start-login:127.0.0.1").exists()




def _spaced(number: str) -> str:
    """An INS or RPPS number typed in groups, with spaces and dots."""
    return f"{number[:1]} {number[1:3]}.{number[3:5]} {number[5:7]}-{number[7:]}"


async def _answers(client: httpx.AsyncClient, typed: list[str]) -> list[str | None]:
    """The first error code of a `startLogin` with each identifier in turn (None: accepted)."""
    return [next(iter(_codes(await _start(client, identifier))), None) for identifier in typed]


async def test_start_login_limited_per_account_whatever_identifier_names_it(
    client: httpx.AsyncClient,
) -> None:
    """An account's e-mail, its INS and its RPPS number draw on one count: after the limit
    reached with some of them, none of them has a password checked or a code sent. Each is
    then answered as an identifier that names no account (a decoy), until its own 20 are
    used up: a refusal would tell whoever typed another of them that it names an account."""
    patient, record = await factories.patient()
    doctor, practitioner = await factories.practitioner()
    for account, email, number in ((patient, patient.email or "", record.ins),
                                   (doctor, doctor.email or "", practitioner.rpps)):
        forms = [email, number, email.upper(), _spaced(number)]
        assert await _answers(client, [forms[n % 4] for n in range(20)]) == [None] * 20
        failed_at = (await Account.get(id=account.id)).last_failed_login_at
        # Past the account's 20, each identifier (10 tries of its own) still answers...
        assert await _answers(client, forms) == [None] * 4
        assert "errors" not in await _post(client, RESET, {"i": number})
        right = await _post(client, START, {"i": number, "p": factories.PASSWORD})
        assert right["data"]["startLogin"]["factors"] == ["CODE"]
        # ...but none had its password checked: no failure written, no code sent.
        assert (await Account.get(id=account.id)).last_failed_login_at == failed_at
        # Up to their own 20: the e-mail's 10 + 2 above, the number's 10 + 4 above.
        assert await _answers(client, [email] * 8 + [number] * 6) == [None] * 14
        assert await _answers(client, [email.upper(), _spaced(number)]) == ["RATE_LIMITED"] * 2
    assert await OneTimeCode.all().count() == 0


async def test_an_unknown_identifier_is_limited_as_a_known_one_typed_alike(
    client: httpx.AsyncClient,
) -> None:
    """Typed in the forms that name one account (case, Unicode's composed or decomposed
    accent, separators), an identifier that names none is counted once too: the answers of
    a known and an unknown identifier do not differ, try after try."""
    await factories.patient(email="josé@test.dmp")
    _, record = await factories.patient()  # another account: José's INS counts with his e-mail
    unknown_ins = factories.new_ins()

    def emails(local: str) -> list[str]:
        decomposed = local.replace("é", "e\u0301")
        return [f"{local}@test.dmp", f"{decomposed}@test.dmp", f" {local.upper()}@TEST.DMP "]

    def numbers(ins: str) -> list[str]:
        return [ins, _spaced(ins), ins.replace("1", "1 ")]

    expected = [None] * 20 + ["RATE_LIMITED"]
    for known, unknown in ((emails("josé"), emails("rené")), (numbers(record.ins), numbers(unknown_ins))):
        assert await _answers(client, [known[n % 3] for n in range(21)]) == expected
        assert await _answers(client, [unknown[n % 3] for n in range(21)]) == expected
