"""What the patient is told when their record's deletion is asked for (DESIGN §2, §4)."""

from __future__ import annotations

import datetime as dt

import httpx

from backend import clock
from backend.domain.enums import Section
from backend.models import OutboxMessage, Session
from backend.notify.notices import when
from backend.resolvers.lifecycle import DELETION_GRACE
from tests import factories
from tests.conftest import Caller, session_for

DELETE = "mutation { requestRecordDeletion { status cancelDeletionUntil } }"
CANCEL = "mutation { cancelRecordDeletion { status } }"


async def test_a_deletion_request_is_mailed_to_the_patient_with_the_day_it_can_be_cancelled_until(
    client: httpx.AsyncClient,
) -> None:
    """Anyone holding the session and a fresh code could ask; after 30 days everything is gone.
    The patient is told at their address, with the deadline in French time, nothing medical."""
    patient, record = await factories.patient(first_name="Léa", last_name="Martin")
    await factories.entry(record, Section.MEDICATIONS, title="Metformine 850 mg")
    owner = Caller(client, session=await session_for(patient))
    (await owner.gql(DELETE)).ok()
    await record.refresh_from_db()
    assert record.deletion_requested_at is not None
    [mail] = await OutboxMessage.filter(recipient=patient.email)
    assert mail.record_id == record.id and mail.account_id == patient.id  # type: ignore[attr-defined]
    assert "suppression" in mail.subject.lower()
    assert when(record.deletion_requested_at + DELETION_GRACE) in mail.body
    assert "/mon-compte" in mail.body
    for secret in ("Metformine", record.ins, "Léa", "Martin"):
        assert secret not in mail.body and secret not in mail.subject


async def test_a_refused_request_mails_nothing(client: httpx.AsyncClient) -> None:
    patient, record = await factories.patient()
    owner = Caller(client, session=await session_for(patient))
    await Session.filter(account_id=patient.id).update(
        fresh_factor_at=clock.now() - dt.timedelta(minutes=11)
    )
    assert (await owner.gql(DELETE)).codes == ["FORBIDDEN"]
    assert await OutboxMessage.filter(recipient=patient.email).count() == 0
    await Session.filter(account_id=patient.id).update(fresh_factor_at=clock.now())
    (await owner.gql(DELETE)).ok()
    assert (await owner.gql(DELETE)).codes == ["CONFLICT"]
    assert await OutboxMessage.filter(recipient=patient.email).count() == 1
