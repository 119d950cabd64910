"""`dmp serve` on an address it cannot listen on: one line and status 1 before anything starts
(DESIGN §7). It exited 3 with uvicorn's own lines (« Started server process », « [Errno 98] … »),
after starting the application."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from tests.server import DMP, dmp_env, free_port

# TEST-NET-1 (RFC 5737): an address no machine of ours has.
NOT_HERE = "192.0.2.1"


def serve(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`dmp serve --migrate` on a SQLite file not yet created: a refusal must leave it so."""
    env = dmp_env(DMP_DATABASE_URL=f"sqlite://{tmp_path}/fresh.sqlite3")
    return subprocess.run([DMP, "serve", "--migrate", *args], env=env, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)


def refusal(result: subprocess.CompletedProcess[str], tmp_path: Path) -> str:
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("dmp: cannot listen on --host ")
    assert not (tmp_path / "fresh.sqlite3").exists()  # not migrated, nothing started
    return lines[0]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_host_that_does_not_resolve_is_one_line(tmp_path: Path, workers: str) -> None:
    line = refusal(serve(tmp_path, "--host", "no-such-host.invalid", "--port", str(free_port()),
                         "--workers", workers), tmp_path)
    assert line.startswith("dmp: cannot listen on --host 'no-such-host.invalid' --port ")
    assert ": the host does not resolve to an address (" in line


@pytest.mark.parametrize("workers", ["1", "2"])
def test_an_address_not_on_this_machine_is_one_line(tmp_path: Path, workers: str) -> None:
    port = free_port()
    line = refusal(serve(tmp_path, "--host", NOT_HERE, "--port", str(port), "--workers", workers),
                   tmp_path)
    assert line == (f"dmp: cannot listen on --host '{NOT_HERE}' --port {port}: "
                    f"{NOT_HERE} is not an address of this machine")


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_port_in_use_is_one_line(tmp_path: Path, workers: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = refusal(serve(tmp_path, "--host", "127.0.0.1", "--port", str(port), "--workers", workers),
                       tmp_path)
    assert line == (f"dmp: cannot listen on --host '127.0.0.1' --port {port}: 127.0.0.1 port {port} "
                    "is already in use (another dmp serve?): choose another --port")
