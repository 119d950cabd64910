"""setNotificationPreferences, a change of the sharing page like the others: it needs the record
to be active when it commits, not only when the request began (docs/api.md §10)."""

from __future__ import annotations

import httpx
import pytest

from backend.domain.enums import RecordStatus
from backend.models import AccessEvent, Record
from tests import factories
from tests.conftest import Caller, session_for
from tests.sharing_helpers import left_active_after_the_check

NOTIFY = """mutation($on: Boolean!) {
  setNotificationPreferences(notifyNewDocuments: $on) { sharing { notifyNewDocuments } } }"""


@pytest.mark.parametrize("status", [RecordStatus.CLOSED, RecordStatus.DELETED])
async def test_a_preference_sent_as_the_record_left_active_is_refused_and_not_kept(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, status: RecordStatus
) -> None:
    account, record = await factories.patient()
    caller = Caller(client, session=await session_for(account))
    left_active_after_the_check(monkeypatch, record, status)
    refused = await caller.gql(NOTIFY, {"on": True})
    assert refused.codes == ["FORBIDDEN"]
    assert refused.data is None
    stored = await Record.get(id=record.id)
    assert (stored.status, stored.notify_new_documents) == (status, False)
    assert not await AccessEvent.filter(record_id=record.id).exists()


async def test_the_preference_is_kept_on_an_active_record(client: httpx.AsyncClient) -> None:
    account, record = await factories.patient()
    caller = Caller(client, session=await session_for(account))
    data = (await caller.gql(NOTIFY, {"on": True})).ok()
    assert data["setNotificationPreferences"]["sharing"] == {"notifyNewDocuments": True}
    assert (await Record.get(id=record.id)).notify_new_documents is True
    # The same value again changes nothing and stays accepted.
    (await caller.gql(NOTIFY, {"on": True})).ok()
    assert (await Record.get(id=record.id)).notify_new_documents is True
