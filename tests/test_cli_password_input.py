"""`dmp create-account` given its password without showing it in `ps`: `--password -` reads one
line from standard input, `--password-file PATH` one line of a file. `--password P` stays (DESIGN
§7); exactly one of the three; an empty password is refused as a short one."""

from __future__ import annotations

import subprocess
from pathlib import Path

from backend.auth.passwords import verify_password
from backend.models import Account
from tests.server import DMP, dmp_env, run_dmp

PASSWORD = "a-long-enough-passphrase"
SUPPORT = ("create-account", "--role", "support", "--first-name", "S", "--last-name", "T")


def create(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[str]:
    result = subprocess.run([DMP, *SUPPORT, *args], env=dmp_env(), input=stdin, capture_output=True,
                            timeout=120)
    return subprocess.CompletedProcess(result.args, result.returncode, result.stdout.decode(),
                                       result.stderr.decode())


def one_line(result: subprocess.CompletedProcess[str], status: int = 1) -> str:
    assert result.returncode == status, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


async def signs_in_with(email: str, password: str) -> bool:
    account = await Account.get(email=email)
    return await verify_password(account.password_hash, password)


async def test_the_password_read_from_standard_input(tmp_path: Path) -> None:
    made = create("--email", "in@test.dmp", "--password", "-", stdin=f"{PASSWORD}\n".encode())
    assert made.returncode == 0, made.stderr
    assert PASSWORD not in made.stdout + made.stderr
    assert await signs_in_with("in@test.dmp", PASSWORD)
    # Without a line end, and with a Windows one.
    made = create("--email", "crlf@test.dmp", "--password", "-", stdin=f"{PASSWORD}\r\n".encode())
    assert made.returncode == 0, made.stderr
    assert await signs_in_with("crlf@test.dmp", PASSWORD)
    made = create("--email", "bare@test.dmp", "--password", "-", stdin=PASSWORD.encode())
    assert made.returncode == 0, made.stderr
    assert await signs_in_with("bare@test.dmp", PASSWORD)


async def test_the_password_read_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text(f"{PASSWORD} é\n", encoding="utf-8")  # spaces and accents its own
    made = create("--email", "file@test.dmp", "--password-file", str(secret))
    assert made.returncode == 0, made.stderr
    assert await signs_in_with("file@test.dmp", f"{PASSWORD} é")


async def test_an_empty_password_is_refused_as_a_short_one(tmp_path: Path) -> None:
    short = one_line(run_dmp(*SUPPORT, "--email", "s@test.dmp", "--password", "short"))
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    blank = tmp_path / "blank"
    blank.write_bytes(b"\n")
    for result in (
        create("--email", "s@test.dmp", "--password", "-"),  # nothing on standard input
        create("--email", "s@test.dmp", "--password", "-", stdin=b"\n"),
        create("--email", "s@test.dmp", "--password-file", str(empty)),
        create("--email", "s@test.dmp", "--password-file", str(blank)),
    ):
        assert one_line(result) == short == "dmp: The password must be at least 12 characters long"
    assert await Account.all().count() == 0


async def test_a_password_file_that_is_no_password_is_refused_without_quoting_it(tmp_path: Path) -> None:
    two = tmp_path / "two"
    two.write_text(f"{PASSWORD}\nsecond line\n")
    latin = tmp_path / "latin"
    latin.write_bytes(b"mot-de-passe-\xe9t\xe9\n")
    big = tmp_path / "big"
    big.write_text("x" * 5000)
    missing = tmp_path / "missing"
    for path, why in [
        (two, f"dmp: --password-file {two} holds more than one line: give the password alone, on one line"),
        (latin, f"dmp: --password-file {latin} is not UTF-8 text"),
        (big, f"dmp: --password-file {big} is too long to hold one password (at most 256 characters)"),
        (missing, f"dmp: {missing}: No such file or directory"),
        (tmp_path, f"dmp: {tmp_path}: Is a directory"),
    ]:
        assert one_line(create("--email", "s@test.dmp", "--password-file", str(path))) == why
    assert await Account.all().count() == 0


async def test_exactly_one_way_of_giving_the_password(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text(PASSWORD)
    both = one_line(create("--email", "s@test.dmp", "--password", PASSWORD, "--password-file", str(secret)),
                    status=2)
    assert both == ("dmp: argument --password-file: not allowed with argument --password "
                    "(see dmp create-account --help)")
    neither = one_line(create("--email", "s@test.dmp"), status=2)
    assert neither == ("dmp: one of the arguments --password --password-file is required "
                       "(see dmp create-account --help)")
    assert await Account.all().count() == 0
