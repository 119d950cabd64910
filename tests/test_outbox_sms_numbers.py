"""The number an SMS plug-in is given: France's overseas numbers under their own country code,
as providers reach them (`0692 12 34 56` went as `+33692123456`, a number of no network),
and the 0 some write after +33 dropped; a number the provider refuses for good
(docs/operations.md, "SMS plug-ins")."""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta

import httpx
import pytest

from backend import clock, config
from backend.logs import JsonFormatter
from backend.models import OutboxMessage
from backend.notify.delivery import NEVER, deliver_due
from backend.notify.outbox import enqueue_sms
from tests import sms_plugins


@pytest.fixture(autouse=True)
def _nothing_sent_yet() -> None:
    sms_plugins.SENT.clear()


@pytest.mark.parametrize(("written", "sent"), [
    ("0692 12 34 56", "+262692123456"),  # Réunion
    ("0693-12-34-56", "+262693123456"),
    ("0639 12 34 56", "+262639123456"),  # Mayotte
    ("0690 12 34 56", "+590690123456"),  # Guadeloupe, Saint-Martin, Saint-Barthélemy
    ("0691.12.34.56", "+590691123456"),
    ("0694 12 34 56", "+594694123456"),  # Guyane
    ("0696 12 34 56", "+596696123456"),  # Martinique
    ("0697 12 34 56", "+596697123456"),
    ("+33 692 12 34 56", "+262692123456"),  # an overseas number written under France's code
    ("0033 692 12 34 56", "+262692123456"),
    ("+262 692 12 34 56", "+262692123456"),  # already under its own
    ("+33 06 12 34 56 78", "+33612345678"),  # the national 0 kept after +33
    ("06 12 34 56 78", "+33612345678"),  # metropolitan numbers as before
    ("07 12 34 56 78", "+33712345678"),
    ("+32 470 12 34 56", "+32470123456"),
])
async def test_the_provider_gets_the_number_it_can_reach(
    client: httpx.AsyncClient, written: str, sent: str
) -> None:
    cfg = dataclasses.replace(config.settings(), sms_backend="tests.sms_plugins:Recorder")
    await enqueue_sms(written, "DMP : votre code est 112358")
    assert await deliver_due(cfg) == (1, 0)
    assert sms_plugins.SENT == [(sent, "DMP : votre code est 112358")]
    (row,) = await OutboxMessage.all()
    assert row.recipient == written and row.sent_at is not None  # stored as written


async def test_a_number_the_provider_refuses_for_good_is_not_retried_nor_repeated(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """The plug-in raises Undeliverable: marked once, never tried again; what it said (the
    number, the code) is neither kept nor logged (it was kept and logged whole)."""
    cfg = dataclasses.replace(config.settings(), sms_backend="tests.sms_plugins:RefusingForGood")
    row = await enqueue_sms("+99 123 456 789", "DMP : votre code est 112358")
    with caplog.at_level(logging.INFO, logger="dmp.outbox"):
        assert await deliver_due(cfg) == (0, 1)
    row = await OutboxMessage.get(id=row.id)
    assert (row.sent_at, row.attempts, row.next_attempt_at) == (None, 1, NEVER)
    assert row.last_error == "undeliverable: the SMS provider refused the number for good"
    (line,) = [JsonFormatter().format(r) for r in caplog.records if r.name == "dmp.outbox"]
    assert "123456789" not in line and "112358" not in line and str(row.id) in line
    clock.shift(timedelta(days=1))
    assert await deliver_due(cfg) == (0, 0)
