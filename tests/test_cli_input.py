"""The `dmp` command given awkward input: names typed decomposed, values at and past the columns'
lengths, control characters in what list-tokens prints (DESIGN §7: one line, non-zero, nothing
written)."""

from __future__ import annotations

import unicodedata

import httpx

from backend.models import Account, ApiToken, Practitioner
from tests import factories
from tests.conftest import Caller, session_for
from tests.factories import new_rpps
from tests.server import run_dmp

PASSWORD = "a-long-enough-passphrase"
DIRECTORY = "query($s: String!) { practitionerDirectory(search: $s) { displayName } }"


def _one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("dmp: ")
    return lines[0]


def _practitioner(email: str, first: str, last: str, city: str, rpps: str) -> list[str]:
    return ["create-account", "--role", "practitioner", "--email", email, "--password", PASSWORD,
            "--first-name", first, "--last-name", last, "--rpps", rpps, "--profession", "medecin",
            "--city", city]


async def test_a_name_typed_decomposed_is_stored_composed_and_found_in_the_directory(
    client: httpx.AsyncClient,
) -> None:
    """« Éloïse Bézier » pasted from a terminal or a file in NFD was stored so: the directory,
    searched with the composed letters every browser sends, did not find her."""
    nfd = lambda text: unicodedata.normalize("NFD", text)  # noqa: E731
    created = run_dmp(*_practitioner("eloise@test.dmp", nfd("Éloïse"), nfd("Bézier"), nfd("Orléans"),
                                     new_rpps()))
    assert created.returncode == 0, created.stderr
    account = await Account.get(email="eloise@test.dmp")
    assert (account.first_name, account.last_name) == ("Éloïse", "Bézier")
    assert (await Practitioner.get(account_id=account.id)).city == "Orléans"
    patient, _ = await factories.patient()
    found = await Caller(client, session=await session_for(patient)).gql(DIRECTORY, {"s": "bézier orléans"})
    assert found.ok()["practitionerDirectory"] == [{"displayName": "Éloïse Bézier"}]


async def test_names_and_city_as_long_as_their_columns_make_a_practitioner_found_by_rpps(
    client: httpx.AsyncClient,
) -> None:
    """First name, last name and city of 100 characters each are each within their column, but
    the directory's search text made of them and the RPPS passed its 300: refused as a
    « database error » quoting all of it."""
    rpps = new_rpps()
    created = run_dmp(*_practitioner("long@test.dmp", "F" * 100, "L" * 100, "C" * 100, rpps))
    assert created.returncode == 0, created.stderr
    patient, _ = await factories.patient()
    found = await Caller(client, session=await session_for(patient)).gql(DIRECTORY, {"s": rpps})
    # A display name is kept within the 200 characters of the columns that store it with what
    # its holder does (an event's actor, an entry's author), and shown alike everywhere.
    assert found.ok()["practitionerDirectory"] == [{"displayName": f"{'F' * 100} {'L' * 99}"}]


async def test_a_name_or_city_past_its_column_is_refused_naming_the_option() -> None:
    for option, args in (
        ("--first-name", _practitioner("a@test.dmp", "F" * 101, "L", "Paris", new_rpps())),
        ("--last-name", _practitioner("a@test.dmp", "F", "L" * 101, "Paris", new_rpps())),
        ("--city", _practitioner("a@test.dmp", "F", "L", "C" * 101, new_rpps())),
    ):
        result = run_dmp(*args)
        assert result.returncode == 1
        assert _one_line_error(result.stderr) == f"dmp: {option} must be at most 100 characters"
    assert await Account.all().count() == 0
    assert await Practitioner.all().count() == 0


async def test_a_token_name_or_organization_list_tokens_could_not_print_is_refused() -> None:
    """An escape sequence in --name, a newline in --organization were stored and printed as is
    by list-tokens (and an organization is the name its imports show in the patients'
    histories); past 100 characters, the database refused them quoting the whole value."""
    cases = (
        (["--name", "a\x1b[31mred", "--organization", "Mutuelle"], "--name"),
        (["--name", "n" * 101, "--organization", "Mutuelle"], "--name"),
        (["--name", "ok", "--organization", "Mutuelle\nX"], "--organization"),
        (["--name", "ok", "--organization", "M" * 101], "--organization"),
    )
    for args, option in cases:
        result = run_dmp("create-token", "--scope", "insurer:import", *args)
        assert result.returncode == 1, args
        assert _one_line_error(result.stderr) == f"dmp: {option} must be 1 to 100 printable characters"
        assert "dmp_" not in result.stdout
    assert await ApiToken.all().count() == 0
    accepted = run_dmp("create-token", "--scope", "insurer:import", "--name", "n" * 100,
                       "--organization", " Mutuelle Générale d'Île-de-France ")
    assert accepted.returncode == 0, accepted.stderr
    assert (await ApiToken.get()).organization == "Mutuelle Générale d'Île-de-France"


def test_a_missing_option_or_a_word_for_a_number_is_one_line_with_status_2() -> None:
    """argparse printed its whole usage block (six lines for create-account) before its error."""
    cases = (
        # The password's options (one of --password, --password-file) are asked for next.
        (("create-account", "--role", "support"), "--email, --first-name, --last-name"),
        (("create-token", "--name", "x", "--scope", "practitioner", "--expires-days", "soon"),
         "--expires-days"),
        (("revoke-token",), "id"),
        (("audit",), "audit_command"),
        (("nosuch",), "invalid choice"),
    )
    for args, said in cases:
        result = run_dmp(*args)
        assert result.returncode == 2, args
        line = _one_line_error(result.stderr)
        assert said in line and "--help)" in line, line


async def test_a_password_typed_without_quotes_is_not_repeated_on_stderr() -> None:
    """`--password my pass phrase` left « pass phrase » over, and argparse quoted it back."""
    result = run_dmp("create-account", "--role", "support", "--email", "s@test.dmp", "--password", "horse",
                     "battery", "staple", "--first-name", "S", "--last-name", "T", "--pasword=correct")
    assert result.returncode == 2
    line = _one_line_error(result.stderr)
    for secret in ("battery", "staple", "correct"):
        assert secret not in line
    assert "--pasword" in line and "2 value(s)" in line and "quote" in line
    assert await Account.all().count() == 0


def test_a_database_host_that_does_not_resolve_or_answer_is_named_as_the_database() -> None:
    """« dmp: Name or service not known » did not say which name: the database's, SMTP's?"""
    for url, detail in (("postgres://dmp@nosuchhost.invalid/dmp", "Name or service not known"),
                        ("postgres://dmp@127.0.0.1:1/dmp", "Connect call failed")):
        for command in ("list-tokens", "migrate", "purge"):
            result = run_dmp(command, DMP_DATABASE_URL=url)
            assert result.returncode == 1, (command, url)
            line = _one_line_error(result.stderr)
            assert line.startswith("dmp: the database in DMP_DATABASE_URL cannot be reached: "), line
            assert detail in line, line
