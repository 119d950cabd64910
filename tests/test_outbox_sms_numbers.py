"""The number an SMS plug-in is given: France's overseas numbers under their own country code,
as providers reach them (`0692 12 34 56` went as `+33692123456`, a number of no network),
and the 0 some write after +33 dropped (docs/operations.md, "SMS plug-ins")."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from backend import config
from backend.models import OutboxMessage
from backend.notify.delivery import deliver_due
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
