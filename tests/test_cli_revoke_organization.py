"""`dmp revoke-token --organization NAME`: every token of an organization at once (an insurer's
key leaked, a contract ended), the name compared as create-token stores it (composed, spaces
around dropped) and without case: « CNAM », « cnam » and « Cnam » were three organizations to
compare by eye. Other organizations' and practitioners' tokens stay. And `dmp list-tokens` shows
when each token was last used (written at most once a minute by the call itself)."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

import httpx

from backend import accounts, clock
from backend.models import ApiToken
from tests import factories
from tests.conftest import Caller
from tests.server import run_dmp

PING = "{ __typename }"


def _refusal(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("dmp: "), stderr
    return lines[0]


async def _revocations() -> list[tuple[str, Any]]:
    return sorted((str(t.id), t.revoked_at) for t in await ApiToken.all())


async def test_every_token_of_an_organization_is_revoked_whatever_its_case(client: httpx.AsyncClient) -> None:
    upper, upper_secret = await accounts.create_token("import", ["insurer:import"], organization="CNAM")
    lower, lower_secret = await accounts.create_token("import 2", ["insurer:import"], organization="cnam")
    old, _ = await accounts.create_token("ancien", ["insurer:import"], organization="Cnam")
    await ApiToken.filter(id=old.id).update(expires_at=clock.now() - dt.timedelta(days=1))  # expired
    other, other_secret = await accounts.create_token("import", ["insurer:import"], organization="CNAMTS")
    mutual, mutual_secret = await accounts.create_token("mz", ["insurer:import"], organization="Mutuelle Z")
    _, pro = await factories.practitioner()
    doctor, doctor_secret = await accounts.create_token(
        "cabinet", ["practitioner"], practitioner_rpps=pro.rpps)
    for secret in (upper_secret, lower_secret, other_secret, mutual_secret, doctor_secret):
        assert (await Caller(client, token=secret).gql(PING)).status == 200

    done = run_dmp("revoke-token", "--organization", "  cNaM ")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "revoked 3 token(s) of organization CNAM"
    assert lines[:-1] == [
        f"revoked token {upper.id} ({upper.prefix}, org CNAM | import)",
        f"revoked token {lower.id} ({lower.prefix}, org cnam | import 2)",
        f"revoked token {old.id} ({old.prefix}, org Cnam | ancien)",
    ]
    for secret in (upper_secret, lower_secret, other_secret, mutual_secret, doctor_secret):
        assert secret not in done.stdout + done.stderr
    for secret in (upper_secret, lower_secret):
        assert (await Caller(client, token=secret).gql(PING)).status == 401
    # A name that only begins alike, another organization, a practitioner: untouched.
    for secret in (other_secret, mutual_secret, doctor_secret):
        assert (await Caller(client, token=secret).gql(PING)).status == 200
    assert {t.id for t in await ApiToken.filter(revoked_at=None)} == {other.id, mutual.id, doctor.id}
    listing = run_dmp("list-tokens").stdout
    assert sum("revoked" in line for line in listing.splitlines()) == 3

    # Again: nothing left to revoke, said in one line; nothing written.
    before = await _revocations()
    again = run_dmp("revoke-token", "--organization", "CNAM")
    assert again.returncode == 1 and again.stdout == ""
    assert "no token of this organization is left to revoke" in _refusal(again.stderr)
    assert await _revocations() == before


async def test_the_name_is_compared_composed() -> None:
    """« Mutuelle Générale » typed decomposed (NFD) names the one create-token stored composed."""
    row, _ = await accounts.create_token("mg", ["insurer:import"], organization="Mutuelle Générale")
    done = run_dmp("revoke-token", "--organization", unicodedata.normalize("NFD", "MUTUELLE GÉNÉRALE"))
    assert done.returncode == 0, done.stderr
    assert (await ApiToken.get(id=row.id)).revoked_at is not None


async def test_an_unknown_organization_or_a_token_given_instead_is_refused_and_nothing_is_written() -> None:
    row, secret = await accounts.create_token("import", ["insurer:import"], organization="CNAM")
    before = await _revocations()
    for given, said in (("Mutuelle Inconnue", "no token of this organization is left to revoke"),
                        ("CNA", "no token of this organization is left to revoke"),
                        (secret, "this is a token, not an organization"),
                        ("   ", "--organization must be 1 to 100 printable characters"),
                        ("x" * 101, "--organization must be 1 to 100 printable characters")):
        done = run_dmp("revoke-token", "--organization", given)
        assert done.returncode == 1, given
        line = _refusal(done.stderr)
        assert said in line, line
        assert not given.strip() or given.strip() not in line
        assert secret[4:12] not in line
        assert done.stdout == ""
    # Neither an id nor an organization, or both: argparse's refusal (status 2), nothing done.
    for args in ((), (str(row.id), "--organization", "CNAM")):
        done = run_dmp("revoke-token", *args)
        assert done.returncode == 2, args
        _refusal(done.stderr)
    assert await _revocations() == before


async def test_list_tokens_shows_when_each_token_was_last_used(client: httpx.AsyncClient) -> None:
    used, secret = await accounts.create_token("used", ["insurer:import"], organization="CNAM")
    unused, _ = await accounts.create_token("unused", ["insurer:import"], organization="CNAM")
    assert (await Caller(client, token=secret).gql(PING)).status == 200
    last = (await ApiToken.get(id=used.id)).last_used_at
    assert last is not None
    listing = run_dmp("list-tokens")
    assert listing.returncode == 0, listing.stderr
    header, *rows = listing.stdout.splitlines()
    assert "last used (UTC)" in header
    (used_line,) = [line for line in rows if str(used.id) in line]
    (unused_line,) = [line for line in rows if str(unused.id) in line]
    assert f"  {last.astimezone(dt.UTC):%Y-%m-%d %H:%M}  " in used_line
    assert "  never  " in unused_line
    assert used_line.endswith("org CNAM | used") and unused_line.endswith("org CNAM | unused")
    # The columns line up: the scopes start at the same place on every line.
    assert len({line.index("insurer:import") for line in rows}) == 1
    assert header.index("scopes") == rows[0].index("insurer:import")
