"""An emergency opening whose access a block, an opposition or a closing ended between its
commit and its answer returns no record: the payload would have been the patient's identity
with no section, after the patient had said no."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from backend.domain.enums import AccessAction
from backend.models import AccessEvent, Record
from backend.resolvers import emergency
from tests import factories
from tests.conftest import Caller, session_for

REASON = "Patient inconscient aux urgences, allergies inconnues"
BREAK_GLASS = """mutation($ins: String!, $r: String!) { openBreakGlass(ins: $ins, reason: $r) {
  expiresAt mode record { ins firstName lastName birthDate accessMode } } }"""
BLOCK = "mutation($p: ID!) { blockPractitioner(practitionerId: $p) { __typename } }"
PREFERENCES = """mutation($r: Boolean!, $b: Boolean!) {
  setEmergencyPreferences(allowRegulatorAccess: $r, allowBreakGlass: $b) { __typename } }"""
CLOSE = "mutation { closeMyRecord { __typename } }"


@pytest.mark.parametrize("change", ["block", "oppose", "close"])
async def test_an_access_ended_before_the_answer_returns_no_record(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, change: str,
) -> None:
    patient, record = await factories.patient()
    owner = Caller(client, session=await session_for(patient))
    account, practitioner = await factories.practitioner()
    doctor = Caller(client, session=await session_for(account))
    view_of = emergency.view_of

    async def ended_meanwhile(ctx: Any, row: Record) -> Any:
        if change == "block":
            (await owner.gql(BLOCK, {"p": str(practitioner.id)})).ok()
        elif change == "oppose":
            (await owner.gql(PREFERENCES, {"r": True, "b": False})).ok()
        else:
            (await owner.gql(CLOSE)).ok()
        return await view_of(ctx, row)

    monkeypatch.setattr(emergency, "view_of", ended_meanwhile)
    answer = await doctor.gql(BREAK_GLASS, {"ins": record.ins, "r": REASON})
    assert answer.codes == ["FORBIDDEN"]
    assert answer.data is None or answer.data.get("openBreakGlass") is None
    assert record.last_name not in answer.response.text
    assert record.birth_date.isoformat() not in answer.response.text
    # The opening committed before the change: it stays in the history, and no read follows.
    actions = await AccessEvent.filter(record_id=record.id).values_list("action", flat=True)
    assert AccessAction.BREAK_GLASS_OPENED.value in actions
    assert AccessAction.RECORD_READ.value not in actions
