"""The time a message gives is the time in France (Europe/Paris, summer time included), as
the patient reads it, never UTC: in winter UTC+1, in summer UTC+2, and 23:30 UTC in summer is
already the next day in Paris."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from backend import clock
from backend.models import Grant, OutboxMessage, Record
from backend.notify import notify_new_document, notify_security
from backend.notify.notices import when
from tests import factories
from tests.history_helpers import READ, setup
from tests.test_emergency_access import BREAK_GLASS, REGULATOR, _pro
from tests.test_outbox_notices import notices_to

UTC = dt.UTC

# (the moment in UTC, as the message must give it)
MOMENTS = [
    pytest.param(dt.datetime(2027, 1, 12, 5, 37, tzinfo=UTC), "12/01/2027 à 06:37", id="winter"),
    pytest.param(dt.datetime(2027, 7, 7, 5, 37, tzinfo=UTC), "07/07/2027 à 07:37", id="summer"),
    pytest.param(dt.datetime(2027, 7, 7, 23, 30, tzinfo=UTC), "08/07/2027 à 01:30", id="after-midnight"),
    # Summer time begins at 01:00 UTC on the last Sunday of March: 01:30 UTC is 03:30 in Paris.
    pytest.param(dt.datetime(2027, 3, 28, 1, 30, tzinfo=UTC), "28/03/2027 à 03:30", id="spring-forward"),
]


def _move_clock_to(moment: dt.datetime) -> None:
    clock.shift(moment - clock.now())


def _gives(message: OutboxMessage, shown: str) -> None:
    """The body gives the moment in Paris, with the zone named, and no UTC anywhere."""
    assert f"le {shown} (heure de Paris)" in message.body, message.body
    assert "UTC" not in message.body and "UTC" not in message.subject


@pytest.mark.parametrize(("moment", "shown"), MOMENTS)
async def test_first_access_notice(client: httpx.AsyncClient, moment: dt.datetime, shown: str) -> None:
    _move_clock_to(moment)
    s = await setup(client)
    (await s["as_pro"].gql(READ, {"ins": s["record"].ins})).ok()
    (notice,) = await notices_to(s["patient"].email)
    assert "quand" in notice.body
    _gives(notice, shown)


@pytest.mark.parametrize("mutation", [BREAK_GLASS, REGULATOR], ids=["break-glass", "regulator"])
@pytest.mark.parametrize(("moment", "shown"), MOMENTS)
async def test_emergency_notice(
    client: httpx.AsyncClient, moment: dt.datetime, shown: str, mutation: str
) -> None:
    _move_clock_to(moment)
    patient, record = await factories.patient()
    await Grant.filter(record_id=record.id).delete()
    caller, _ = await _pro(client, regulator=True)
    (await caller.gql(mutation, {"ins": record.ins, "r": "Patient inconscient aux urgences"})).ok()
    (notice,) = await notices_to(patient.email or "")
    assert "urgence" in notice.subject
    _gives(notice, shown)


@pytest.mark.parametrize(("moment", "shown"), MOMENTS)
async def test_new_document_notice(client: httpx.AsyncClient, moment: dt.datetime, shown: str) -> None:
    _move_clock_to(moment)
    _, record = await factories.patient()
    await Record.filter(id=record.id).update(notify_new_documents=True)
    notice = await notify_new_document(record.id)
    assert notice is not None
    _gives(notice, shown)


@pytest.mark.parametrize(("moment", "shown"), MOMENTS)
async def test_security_notice(client: httpx.AsyncClient, moment: dt.datetime, shown: str) -> None:
    _move_clock_to(moment)
    patient, _ = await factories.patient()
    notice = await notify_security(patient, "mot de passe modifié")
    assert notice is not None
    _gives(notice, shown)


def test_a_time_without_a_zone_is_read_as_utc() -> None:
    """The service stores UTC: a time read back without its zone is UTC, not Paris."""
    assert when(dt.datetime(2027, 7, 7, 23, 30)) == "08/07/2027 à 01:30 (heure de Paris)"
    assert when(dt.datetime(2027, 7, 7, 23, 30, tzinfo=UTC)) == "08/07/2027 à 01:30 (heure de Paris)"


def test_the_hour_summer_time_ends_is_given_as_the_clocks_show_it() -> None:
    """On the last Sunday of October 02:30 comes twice in Paris; each is given as it showed."""
    assert when(dt.datetime(2027, 10, 31, 0, 30, tzinfo=UTC)) == "31/10/2027 à 02:30 (heure de Paris)"
    assert when(dt.datetime(2027, 10, 31, 1, 30, tzinfo=UTC)) == "31/10/2027 à 02:30 (heure de Paris)"
