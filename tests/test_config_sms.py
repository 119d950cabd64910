"""DMP_SMS_BACKEND: an unknown sender stops the service at start with a line naming the
variable (the service used to start, then deliver nothing, e-mail included: the outbox
worker failed on every pass); in production, the development sender, which saves texts as
files, is announced at every start. Plug-ins: tests/test_sms_plugins.py."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from backend import config
from backend.app import create_app
from tests.server import run_dmp
from tests.test_config_refusals import PRODUCTION


@pytest.mark.parametrize("value", ["twilio", "dev2", "none"])
def test_an_unknown_sms_sender_is_refused_at_start(tmp_path: Path, value: str) -> None:
    """A name that is not `dev` is a plug-in's (tests/test_sms_plugins.py): none is installed."""
    cfg = config.load({"DMP_DATA_DIR": str(tmp_path), "DMP_SMS_BACKEND": value})
    refusal = f"DMP_SMS_BACKEND={value}: no installed plug-in has this name"
    with pytest.raises(config.ConfigError, match=refusal):
        create_app(cfg, outbox_worker=False)


@pytest.mark.parametrize("value", ["", "dev", " Dev "])
def test_the_development_sender_is_the_default_and_its_name_is_read_loosely(
    tmp_path: Path, value: str
) -> None:
    assert config.load({"DMP_DATA_DIR": str(tmp_path), "DMP_SMS_BACKEND": value}).sms_backend == "dev"


def test_the_command_stops_with_one_line_naming_the_variable() -> None:
    result = run_dmp("migrate", DMP_SMS_BACKEND="twilio sms")
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("dmp: ") and "DMP_SMS_BACKEND" in lines[0]


def test_production_with_the_development_sender_says_so_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = config.load({**PRODUCTION, "DMP_DATA_DIR": str(tmp_path)})
    with caplog.at_level(logging.WARNING, logger="dmp.outbox"):
        create_app(cfg, outbox_worker=False)
    [warning] = [r for r in caplog.records if r.name == "dmp.outbox"]
    assert warning.levelno == logging.WARNING
    assert "DMP_SMS_BACKEND=dev" in warning.getMessage() and "not sent" in warning.getMessage()

    caplog.clear()  # in development, saving texts as files is what is expected: no warning
    with caplog.at_level(logging.WARNING, logger="dmp.outbox"):
        create_app(config.load({"DMP_DATA_DIR": str(tmp_path)}), outbox_worker=False)
    assert [r for r in caplog.records if r.name == "dmp.outbox"] == []


async def test_saved_messages_are_readable_by_the_service_only(tmp_path: Path) -> None:
    """They hold live one-time codes (and, in production, the texts nobody sent)."""
    from backend.notify.senders import DevMailbox

    folder = tmp_path / "mail"
    await DevMailbox(folder, "sms").send("+33 6 00 00 00 03", "SMS", "Votre code DMP : 123456")
    [saved] = list(folder.glob("*.json"))
    assert saved.stat().st_mode & 0o777 == 0o600
    assert folder.stat().st_mode & 0o777 == 0o700
    assert "123456" in saved.read_text(encoding="utf-8")
