"""SMS plug-ins (DMP_SMS_BACKEND=package.module:attribute, or an installed plug-in's name):
the outbox sends texts through them; one that cannot be found or made stops the start with
a line naming the variable; one that fails or hangs fails only its texts, retried later,
and what it said (which may repeat the number and the code) is neither kept nor logged."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend import clock, config
from backend.app import create_app
from backend.models import OutboxMessage
from backend.notify import senders
from backend.notify.delivery import deliver_due
from backend.notify.outbox import enqueue_email, enqueue_sms
from tests import sms_plugins
from tests.server import dmp_server, run_dmp
from tests.smtp import SmtpServer, smtp_server  # noqa: F401 — fixture

PLUGINS = "tests.sms_plugins"


@pytest.fixture(autouse=True)
def _nothing_sent_yet() -> None:
    sms_plugins.SENT.clear()


def _with(reference: str, tmp_path: Path) -> config.Settings:
    return config.load({"DMP_DATA_DIR": str(tmp_path), "DMP_SMS_BACKEND": reference})


@pytest.mark.parametrize("value", ["acme sms", "tests.sms_plugins:", ":Recorder", "tests..sms:Recorder",
                                   "tests.sms_plugins:Recorder()", "-acme", "acme/sms"])
def test_a_value_that_names_no_plugin_is_refused(tmp_path: Path, value: str) -> None:
    refusal = "DMP_SMS_BACKEND must be dev, a plug-in as package.module:attribute"
    with pytest.raises(config.ConfigError, match=refusal):
        _with(value, tmp_path)


@pytest.mark.parametrize(("value", "kept"), [
    (f" {PLUGINS}:Recorder ", f"{PLUGINS}:Recorder"),  # module names have case: kept as written
    ("Acme-SMS", "Acme-SMS"),
    (" DEV ", "dev"),
])
def test_the_reference_is_read_as_written(tmp_path: Path, value: str, kept: str) -> None:
    assert _with(value, tmp_path).sms_backend == kept


@pytest.mark.parametrize(("reference", "why"), [
    ("tests.no_such_module:Sender", "cannot import tests.no_such_module (ModuleNotFoundError"),
    (f"{PLUGINS}:NoSuchSender", f"{PLUGINS} has no NoSuchSender"),
    (f"{PLUGINS}:Recorder.send.nothing", f"{PLUGINS} has no Recorder.send.nothing"),
    (f"{PLUGINS}:NOT_A_FACTORY", "this is not a class or a function that makes the sender"),
    (f"{PLUGINS}:NeedsKey", "the plug-in could not be made (RuntimeError: ACME_SMS_KEY is not set)"),
    (f"{PLUGINS}:Blocking", "the plug-in has no `async def send(phone, text)`"),
    ("acme", "no installed plug-in has this name (entry points of dmp.sms_senders: none)"),
])
def test_a_plugin_that_cannot_be_made_stops_the_start(tmp_path: Path, reference: str, why: str) -> None:
    cfg = _with(reference, tmp_path)
    with pytest.raises(config.ConfigError) as refused:
        create_app(cfg, outbox_worker=False)
    assert str(refused.value).startswith(f"DMP_SMS_BACKEND={reference}: {why}")


def test_the_plugin_reads_its_own_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_SMS_KEY", "k-123")
    sender = senders.sms_sender(_with(f"{PLUGINS}:NeedsKey", tmp_path))
    assert isinstance(sender, senders.PluginSms) and isinstance(sender.plugin, sms_plugins.NeedsKey)
    assert sender.plugin.key == "k-123"


def test_a_plugin_error_printed_at_start_does_not_repeat_a_secret() -> None:
    """The factory's message says what is wrong; the value of a secret-named variable in it
    is replaced by the variable's name, in the one line `dmp serve` prints."""
    root = str(Path(__file__).resolve().parent.parent)
    key = "sk-live-7f3a9c2e41"
    result = run_dmp("serve", "--port", "1", DMP_SMS_BACKEND=f"{PLUGINS}:RejectsKey", ACME_SMS_KEY=key,
                     PYTHONPATH=root)
    assert result.returncode == 1
    assert key not in result.stderr and key not in result.stdout
    assert result.stderr.strip() == (
        f"dmp: DMP_SMS_BACKEND={PLUGINS}:RejectsKey: the plug-in could not be made "
        "(PermissionError: the provider refused the key <ACME_SMS_KEY>)"
    )


@pytest.mark.parametrize("command", [("serve", "--port", "1"), ("deliver-outbox",)])
def test_the_commands_that_send_stop_with_one_line(command: tuple[str, ...]) -> None:
    # The operator's plug-in is importable by the command (here: the project's folder on the path).
    root = str(Path(__file__).resolve().parent.parent)
    result = run_dmp(*command, DMP_SMS_BACKEND=f"{PLUGINS}:NoSuchSender", PYTHONPATH=root)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [f"dmp: DMP_SMS_BACKEND={PLUGINS}:NoSuchSender: {PLUGINS} has no NoSuchSender"]


def test_an_installed_plugin_is_found_by_its_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A provider's package declares its sender as an entry point; the operator names it."""
    dist = tmp_path / "acme_sms-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-sms\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[dmp.sms_senders]\nacme = {PLUGINS}:make_recorder\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    sender = senders.sms_sender(_with("acme", tmp_path))
    assert isinstance(sender, senders.PluginSms) and isinstance(sender.plugin, sms_plugins.Recorder)
    with pytest.raises(config.ConfigError, match=r"no installed plug-in has this name \(entry points of "
                                                 r"dmp.sms_senders: acme\)"):
        senders.sms_sender(_with("acme2", tmp_path))


async def test_the_outbox_sends_texts_through_the_plugin(
    smtp_server: SmtpServer  # noqa: F811 — the fixture
) -> None:
    cfg = dataclasses.replace(smtp_server.settings, sms_backend=f"{PLUGINS}:Recorder")
    await enqueue_sms("+33600000001", "DMP : votre code est 123456")
    await enqueue_email("mail@test.dmp", "DMP : test", "Bonjour")
    await enqueue_sms("+33600000002", "DMP : votre code est 654321")
    assert await deliver_due(cfg) == (3, 0)
    assert sms_plugins.SENT == [("+33600000001", "DMP : votre code est 123456"),
                                ("+33600000002", "DMP : votre code est 654321")]
    assert [m.recipients for m in smtp_server.messages] == [["mail@test.dmp"]]
    texts = await OutboxMessage.filter(channel="SMS")
    assert [(t.sent_at is not None, t.attempts, t.last_error) for t in texts] == [(True, 1, None)] * 2
    assert not list(cfg.mail_dir.glob("*-sms-+3360000000*"))  # not saved as files


@pytest.mark.parametrize(("written", "sent"), [
    ("06 12 34 56 78", "+33612345678"),
    ("06.12.34.56.78", "+33612345678"),
    ("+33 6 12 34 56 78", "+33612345678"),
    ("0033 6 12 34 56 78", "+33612345678"),
    ("+32 470 12 34 56", "+32470123456"),
    ("590 12 34 56", "590123456"),  # no country to read: its digits as they are
])
async def test_the_plugin_gets_the_number_in_international_form(written: str, sent: str) -> None:
    await senders.PluginSms(sms_plugins.Recorder()).send(written, "SMS", "DMP : votre code est 112358")
    assert sms_plugins.SENT == [(sent, "DMP : votre code est 112358")]


async def test_the_worker_makes_the_plugin_once(
    smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch  # noqa: F811 — the fixture
) -> None:
    """A provider's client (a connection pool) lives as long as the outbox worker, not a pass."""
    monkeypatch.setattr(sms_plugins.Counted, "made", 0)
    cfg = dataclasses.replace(smtp_server.settings, sms_backend=f"{PLUGINS}:Counted")
    kept: dict[Any, Any] = {}
    for n in range(3):
        await enqueue_sms("+33600000006", f"DMP : votre code est 00000{n}")
        assert await deliver_due(cfg, senders=kept) == (1, 0)
    assert sms_plugins.Counted.made == 1 and len(sms_plugins.SENT) == 3
    await enqueue_sms("+33600000006", "DMP : votre code est 000003")
    assert await deliver_due(cfg) == (1, 0)  # without the worker's senders: made for the call
    assert sms_plugins.Counted.made == 2


async def test_a_refusing_provider_fails_only_its_texts_and_what_it_said_is_not_kept(
    smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture  # noqa: F811 — the fixture
) -> None:
    cfg = dataclasses.replace(smtp_server.settings, sms_backend=f"{PLUGINS}:Refusing")
    await enqueue_sms("+33600000003", "DMP : votre code est 314159")
    await enqueue_email("mail@test.dmp", "DMP : test", "Bonjour")
    with caplog.at_level(logging.DEBUG):
        assert await deliver_due(cfg) == (1, 1)
    assert [m.recipients for m in smtp_server.messages] == [["mail@test.dmp"]]
    text = await OutboxMessage.get(channel="SMS")
    assert (text.sent_at, text.attempts, text.last_error) == (None, 1, "ConnectionError")
    assert text.next_attempt_at > clock.now()
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "ConnectionError" in logged
    assert "314159" not in logged and "+33600000003" not in logged

    # The provider back: the text goes out on the next pass after its back-off.
    later = dataclasses.replace(cfg, sms_backend=f"{PLUGINS}:Recorder")
    await OutboxMessage.filter(id=text.id).update(next_attempt_at=clock.now())
    assert await deliver_due(later) == (1, 0)
    assert sms_plugins.SENT == [("+33600000003", "DMP : votre code est 314159")]


async def test_a_provider_that_hangs_does_not_hold_up_the_mail(
    smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch  # noqa: F811 — the fixture
) -> None:
    monkeypatch.setattr(senders, "SMS_SEND_TIMEOUT", 0.2)
    cfg = dataclasses.replace(smtp_server.settings, sms_backend=f"{PLUGINS}:Hanging")
    await enqueue_sms("+33600000004", "DMP : votre code est 271828")
    await enqueue_email("mail@test.dmp", "DMP : test", "Bonjour")
    assert await deliver_due(cfg) == (1, 1)
    assert [m.recipients for m in smtp_server.messages] == [["mail@test.dmp"]]
    text = await OutboxMessage.get(channel="SMS")
    assert (text.sent_at, text.attempts, text.last_error) == (None, 1, "TimeoutError")


async def test_a_served_dmp_texts_the_login_code_through_the_plugin(tmp_path: Path) -> None:
    """End to end: `dmp serve` with the plug-in set, a patient whose codes go by SMS signs in;
    the code arrives through the plug-in (the server's own outbox worker), and it works."""
    from backend.domain.enums import CodeChannel
    from backend.models import Account
    from tests import factories
    from tests.auth_flows import COMPLETE, START

    account, _ = await factories.patient(phone="06 55 44 33 22")
    await Account.filter(id=account.id).update(code_channel=CodeChannel.SMS)
    texts = tmp_path / "texts.jsonl"
    root = str(Path(__file__).resolve().parent.parent)
    with dmp_server(DMP_SMS_BACKEND=f"{PLUGINS}:FileRecorder", DMP_TEST_SMS_FILE=str(texts),
                    PYTHONPATH=root) as origin:
        async with httpx.AsyncClient(base_url=origin, timeout=30) as http:
            started = (await http.post("/graphql", json={
                "query": START, "variables": {"i": account.email, "p": factories.PASSWORD}})).json()
            attempt = started["data"]["startLogin"]
            assert attempt["codeSentTo"] == "•• •• •• •• 22"
            deadline = asyncio.get_running_loop().time() + 20
            while not texts.exists() and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.1)
            [text] = [json.loads(line) for line in texts.read_text(encoding="utf-8").splitlines()]
            assert text["to"] == "+33655443322"
            [code] = re.findall(r"\b\d{6}\b", text["text"])
            done = (await http.post("/graphql", json={
                "query": COMPLETE, "variables": {"t": attempt["attemptToken"], "c": code}})).json()
    assert done["data"]["completeLogin"]["me"]["id"] == str(account.id)


def test_production_with_a_plugin_gives_no_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.test_config_refusals import PRODUCTION

    cfg = config.load({**PRODUCTION, "DMP_DATA_DIR": str(tmp_path), "DMP_SMS_BACKEND": f"{PLUGINS}:Recorder"})
    with caplog.at_level(logging.WARNING, logger="dmp.outbox"):
        create_app(cfg, outbox_worker=False)
    assert [r for r in caplog.records if r.name == "dmp.outbox"] == []


def _documented_plugin() -> str:
    """The plug-in docs/operations.md shows under "SMS plug-ins", as written there."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "operations.md").read_text(encoding="utf-8")
    block = text.split("A minimal one:", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    return textwrap.dedent(block)


async def test_the_documented_plugin_sends_through_a_gateway(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    received: list[tuple[str | None, dict[str, str]]] = []
    statuses = [200, 503]

    class Gateway(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the standard library's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.headers["Authorization"], json.loads(body)))
            self.send_response(statuses.pop(0))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        (tmp_path / "acme_documented.py").write_text(_documented_plugin(), encoding="utf-8")
        monkeypatch.syspath_prepend(str(tmp_path))
        monkeypatch.setenv("ACME_SMS_URL", f"http://127.0.0.1:{server.server_address[1]}/sms")
        monkeypatch.setenv("ACME_SMS_KEY", "k-456")
        sender = senders.sms_sender(_with("acme_documented:AcmeSender", tmp_path))
        await sender.send("+33600000005", "SMS", "DMP : votre code est 161803")
        assert received == [("Bearer k-456", {"to": "+33600000005", "text": "DMP : votre code est 161803"})]
        with pytest.raises(httpx.HTTPStatusError):  # the gateway refuses: the outbox retries
            await sender.send("+33600000005", "SMS", "DMP : votre code est 161803")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
