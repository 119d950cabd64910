"""`dmp revoke-token` given the token instead of its id (DESIGN §7: the token is shown once)."""

from __future__ import annotations

from backend import accounts
from backend.models import ApiToken
from tests.server import run_dmp


async def test_revoke_token_given_the_token_itself_does_not_repeat_it() -> None:
    """The secret, pasted where the id goes, was quoted back on stderr, which scripts and
    schedulers keep in their logs; the message now shows only the prefix list-tokens shows."""
    row, token = await accounts.create_token("cnam", ["insurer:import"], organization="CNAM")
    result = run_dmp("revoke-token", token)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("dmp: "), result.stderr
    assert token not in result.stderr + result.stdout
    assert token[12:20] not in result.stderr
    assert row.prefix in lines[0] and "list-tokens" in lines[0]
    assert (await ApiToken.get(id=row.id)).revoked_at is None
    listing = run_dmp("list-tokens")
    assert str(row.id) in listing.stdout and row.prefix in listing.stdout
    assert token not in listing.stdout


async def test_revoke_token_given_the_token_without_its_prefix_does_not_repeat_it() -> None:
    """Found by a probe: the secret without its `dmp_` prefix was no token to the guard above
    and was quoted back whole as an invalid id."""
    row, token = await accounts.create_token("cnam", ["insurer:import"], organization="CNAM")
    secret = token.removeprefix("dmp_")
    for given in (secret, f"  {secret}\n", "not-an-id"):
        result = run_dmp("revoke-token", given)
        assert result.returncode == 1
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and "invalid token id" in lines[0] and "list-tokens" in lines[0], result.stderr
        assert secret[:8] not in result.stderr + result.stdout
    assert (await ApiToken.get(id=row.id)).revoked_at is None


async def test_revoke_token_takes_an_id_copied_with_spaces_around_it() -> None:
    """An id copied from list-tokens' columns often brings a space or a tab with it."""
    row, _ = await accounts.create_token("cnam", ["insurer:import"], organization="CNAM")
    result = run_dmp("revoke-token", f" {row.id}\t")
    assert result.returncode == 0, result.stderr
    assert f"revoked token {row.id}" in result.stdout
    assert (await ApiToken.get(id=row.id)).revoked_at is not None


async def test_list_tokens_shows_the_expiry_and_whole_names() -> None:
    """A token is rotated before it expires: the listing says when; a long name or
    organization is shown whole, not cut at 20 or 24 characters."""
    name, organization = "Officine de la Place du Marché, Lyon", "Mutuelle des Professions de Santé"
    row, _ = await accounts.create_token(name, ["insurer:import"], organization=organization)
    listing = run_dmp("list-tokens")
    assert listing.returncode == 0, listing.stderr
    (line,) = [line for line in listing.stdout.splitlines() if str(row.id) in line]
    assert row.expires_at.date().isoformat() in line
    assert line.endswith(f"org {organization} | {name}")
