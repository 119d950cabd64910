"""`dmp deliver-outbox` says "see the log": its log lines are the service's JSON lines on
stderr, with the message's id and the error's type, never the address."""

from __future__ import annotations

import json

import httpx

from backend.notify.outbox import enqueue_email
from tests.server import run_dmp
from tests.smtp import serving


async def test_a_failed_send_is_logged_with_its_message_id(client: httpx.AsyncClient) -> None:
    message = await enqueue_email("logged-down@test.dmp", "DMP : test", "Bonjour")
    with serving() as server:
        port = server.port
    done = run_dmp("deliver-outbox", DMP_SMTP_HOST="127.0.0.1", DMP_SMTP_PORT=str(port),
                   DMP_MAIL_FROM="dmp@test.dmp")
    assert done.returncode == 1
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    failed = [line for line in lines if line["msg"] == "outbox delivery failed"]
    assert failed and failed[0]["message_id"] == str(message.id)
    assert failed[0]["level"] == "warning"
    assert "logged-down" not in done.stderr
    # Warnings and errors only: no line at level info.
    assert all(line["level"] != "info" for line in lines)
