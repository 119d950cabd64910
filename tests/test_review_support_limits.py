"""Support's resend of an activation code is bounded per record and day, whichever agent asks:
each resend sends a message (a text costs money) and voids the code sent before, so an endless
series would flood the person's inbox or phone and keep them from ever activating."""

from __future__ import annotations

import datetime as dt

import httpx

from backend.domain.enums import RecordStatus
from backend.models import AccessEvent, ActivationCode, OutboxMessage, Record
from backend.resolvers.support import RECOVERIES_PER_DAY, RESENDS_PER_DAY
from tests import factories
from tests.conftest import Caller, session_for

RESEND = "mutation($i: String!) { resendActivation(identifier: $i) }"


async def test_resends_are_bounded_per_record_and_day_whichever_agent_asks(client: httpx.AsyncClient) -> None:
    record = await Record.create(
        ins=factories.new_ins(), first_name="Paul", last_name="Pending", birth_date=dt.date(1990, 1, 1),
        status=RecordStatus.PENDING, pending_contact="paul.flood@test.dmp")
    other = await Record.create(
        ins=factories.new_ins(), first_name="Anne", last_name="Other", birth_date=dt.date(1990, 1, 1),
        status=RecordStatus.PENDING, pending_contact="anne.other@test.dmp")
    agents = [Caller(client, session=await session_for(await factories.support())) for _ in range(2)]
    for n in range(RESENDS_PER_DAY):
        assert (await agents[n % 2].gql(RESEND, {"i": record.ins})).ok()["resendActivation"] is True
    codes = await ActivationCode.filter(record_id=record.id).count()
    refused = await agents[0].gql(RESEND, {"i": record.ins})
    assert refused.codes == ["RATE_LIMITED"] and refused.data is None
    refused = await agents[1].gql(RESEND, {"i": record.ins})
    assert refused.codes == ["RATE_LIMITED"]
    assert await ActivationCode.filter(record_id=record.id).count() == codes
    assert await ActivationCode.filter(record_id=record.id, used_at=None).count() == 1
    assert await OutboxMessage.filter(record_id=record.id).count() == RESENDS_PER_DAY
    assert await AccessEvent.filter(record_id=record.id).count() == RESENDS_PER_DAY
    # Another record's resends are counted apart.
    assert (await agents[0].gql(RESEND, {"i": other.ins})).ok()["resendActivation"] is True


async def test_contact_recoveries_are_bounded_per_record_and_day(client: httpx.AsyncClient) -> None:
    """Each opening e-mails the patient a security notice: an endless series floods them."""
    patient, record = await factories.patient(email="lea.recoveries@test.dmp")
    agents = [Caller(client, session=await session_for(await factories.support())) for _ in range(2)]
    recover = "mutation($i: String!) { startContactRecovery(identifier: $i) }"
    for n in range(RECOVERIES_PER_DAY):
        assert (await agents[n % 2].gql(recover, {"i": record.ins})).ok()["startContactRecovery"] is True
    notices = await OutboxMessage.filter(account_id=patient.id).count()
    events = await AccessEvent.filter(record_id=record.id).count()
    refused = await agents[0].gql(recover, {"i": record.ins})
    assert refused.codes == ["RATE_LIMITED"] and refused.data is None
    assert await OutboxMessage.filter(account_id=patient.id).count() == notices == RECOVERIES_PER_DAY
    assert await AccessEvent.filter(record_id=record.id).count() == events
    assert await ActivationCode.filter(record_id=record.id, used_at=None).count() == 1
