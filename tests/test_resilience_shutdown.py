"""`dmp serve --workers 2` stopped by SIGTERM (DESIGN §7).

The requests in flight are finished, and a request that does not finish (a client that
stalls in the middle of its body) is cut after DMP_SHUTDOWN_SECONDS instead of keeping the
service from stopping for as long as the client likes. Every worker ends with the parent.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import pytest

from backend import config
from tests.resilience import START, ready, servers


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _post_in_two_halves(
    port: int, origin: str, pause: float, answers: list[bytes]
) -> tuple[socket.socket, threading.Thread]:
    """Send the headers and half of a startLogin body now, the other half after `pause`
    seconds, in a thread that stores the raw answer."""
    body = json.dumps({"query": START, "variables": {"i": "nobody@test.dmp", "p": "x" * 12}}).encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(
        f"POST /graphql HTTP/1.1\r\nHost: localhost:{port}\r\nOrigin: {origin}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n".encode() + body[: len(body) // 2]
    )

    def finish() -> None:
        time.sleep(pause)
        answer = b""
        try:
            sock.sendall(body[len(body) // 2:])
            while chunk := sock.recv(65536):
                answer += chunk
        except OSError:
            pass
        answers.append(answer)

    thread = threading.Thread(target=finish, daemon=True)
    thread.start()
    return sock, thread


@pytest.mark.slow
async def test_sigterm_finishes_requests_in_flight_cuts_a_stalled_one_and_leaves_no_worker() -> None:
    with servers(1, "--workers", "2", DMP_SHUTDOWN_SECONDS="3") as (server,):
        await ready(server)
        port = int(server.base.rsplit(":", 1)[1])
        workers = _children(server.process.pid)
        assert len(workers) >= 2, workers
        finished: list[bytes] = []
        in_flight = [_post_in_two_halves(port, server.base, 1.0, finished) for _ in range(3)]
        stalled = _post_in_two_halves(port, server.base, 60.0, [])[0]
        try:
            time.sleep(0.3)  # the requests have reached the workers
            started = time.monotonic()
            server.process.terminate()
            server.process.wait(timeout=10)
            stopped_in = time.monotonic() - started
            for _, thread in in_flight:
                thread.join(timeout=5)
        finally:
            for sock in [*(sock for sock, _ in in_flight), stalled]:
                sock.close()
        assert stopped_in < 8, stopped_in
        deadline = time.monotonic() + 5
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in workers if _alive(pid)], "a worker outlived dmp serve"
        assert server.process.returncode == 0, server.log()
        assert len(finished) == 3
        for answer in finished:
            assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
            assert b'"attemptToken"' in answer, answer[-300:]


def test_the_shutdown_bound_is_30_seconds_unless_set_and_a_bad_value_is_refused(tmp_path: Path) -> None:
    data = {"DMP_DATA_DIR": str(tmp_path / "data")}
    assert config.load(data).shutdown_seconds == 30
    assert config.load({**data, "DMP_SHUTDOWN_SECONDS": "120"}).shutdown_seconds == 120
    for bad, refusal in (("0", "between 1 and 3600, got 0"), ("soon", "a whole number, got 'soon'")):
        with pytest.raises(config.ConfigError, match=f"DMP_SHUTDOWN_SECONDS must be {refusal}"):
            config.load({**data, "DMP_SHUTDOWN_SECONDS": bad})
