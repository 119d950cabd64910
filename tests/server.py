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


@contextlib.contextmanager
def dmp_server(*extra_args: str, **extra_env: str) -> Iterator[str]:
    """Start `dmp serve` on a free port; yields its base URL (http://localhost:PORT)."""
    port = free_port()
    origin = f"http://localhost:{port}"
    env = dmp_env(DMP_PUBLIC_ORIGIN=origin, **extra_env)
    log = open(TEST_DIR / f"serve-{port}.log", "wb")  # noqa: SIM115 — closed below
    process = subprocess.Popen(
        [DMP, "serve", "--host", "127.0.0.1", "--port", str(port), *extra_args],
        env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"dmp serve exited: {(TEST_DIR / f'serve-{port}.log').read_text()}")
            try:
                if httpx.get(f"{origin}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("dmp serve did not become healthy in 30 s")
            time.sleep(0.1)
        yield origin
    finally:
        stop(process)
        log.close()
