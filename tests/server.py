"""Run a real `dmp serve` in its own process, against the test database."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.conftest import DB_URL, TEST_DIR

DMP = str(Path(sys.executable).with_name("dmp"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dmp_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "DMP_DATABASE_URL": DB_URL,
        "DMP_DATA_DIR": str(TEST_DIR / "data"),
        "DMP_ENV": "development",
    })
    env.update(extra)
    return env


def run_dmp(*args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DMP, *args], env=dmp_env(**extra_env), capture_output=True, text=True, timeout=120,
        stdin=subprocess.DEVNULL,
    )


def stop(process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def _start(
    extra_args: tuple[str, ...], extra_env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], str, Path]:
    """A `dmp serve` that holds its port (our process wrote so in its log) and answers health."""
    for _ in range(3):
        port = free_port()
        origin = f"http://localhost:{port}"
        env = dmp_env(DMP_PUBLIC_ORIGIN=origin, **extra_env)
        log_path = TEST_DIR / f"serve-{port}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [DMP, "serve", "--host", "127.0.0.1", "--port", str(port), *extra_args],
                env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                text = log_path.read_text(errors="replace")
                if "address already in use" in text.lower():
                    break  # another process took the port between our probe and the bind: retry
                raise RuntimeError(f"dmp serve exited: {text}")
            # Only our own process's log proves the port is ours (concurrent runs race for ports).
            text = log_path.read_bytes()
            bound = f":{port}".encode() in text and b"running on" in text
            try:
                if bound and httpx.get(f"{origin}/healthz", timeout=1).status_code == 200:
                    return process, origin, log_path
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                stop(process)
                raise RuntimeError("dmp serve did not become healthy in 30 s")
            time.sleep(0.1)
    raise RuntimeError("no free port could be held for dmp serve")


@contextlib.contextmanager
def dmp_server(*extra_args: str, **extra_env: str) -> Iterator[str]:
    """Start `dmp serve` on a free port; yields its base URL (http://localhost:PORT)."""
    process, origin, _ = _start(extra_args, extra_env)
    try:
        yield origin
    finally:
        stop(process)
