"""Letters that show as nothing: the Hangul fillers (U+115F, U+1160, U+3164, U+FFA0) are
letters to Unicode (category Lo) but default-ignorable, drawn as blank, as is the braille blank
(U+2800). An emergency reason made of them would be a reason the patient cannot read, and a
review's comment made of them a comment that shows nothing."""

from __future__ import annotations

import httpx
import pytest

from backend.models import AccessEvent, EmergencySession
from tests import factories
from tests.history_helpers import break_glass, setup
from tests.history_helpers import reviewed as reviewed_reason
from tests.test_emergency_access import BREAK_GLASS, REGULATOR, _nothing_opened, _pro
from tests.test_history_api import REPORT

BLANKS = ("\u3164", "\u115f", "\u1160", "\uffa0", "\u2800")


@pytest.mark.parametrize("blank", BLANKS)
async def test_a_reason_of_blank_letters_is_too_short_and_opens_nothing(
    client: httpx.AsyncClient, blank: str
) -> None:
    _, record = await factories.patient()
    caller, _ = await _pro(client, regulator=True)
    for reason in (blank * 12, "urgent" + blank * 8, f"{blank} ".join("urgences")):
        for mutation in (BREAK_GLASS, REGULATOR):
            result = await caller.gql(mutation, {"ins": record.ins, "r": reason})
            assert result.codes == ["BAD_USER_INPUT"], (reason, result.errors)
            assert result.errors[0]["extensions"]["reason"] == "FIELD_TOO_SHORT"
    await _nothing_opened(record)
    assert not await AccessEvent.filter(record_id=record.id).exists()


async def test_a_reason_keeps_no_blank_letter(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    caller, _ = await _pro(client)
    sent = "Patient\u3164 inconscient\uffa0\u115f aux urgences\u1160"
    (await caller.gql(BREAK_GLASS, {"ins": record.ins, "r": sent})).ok()
    session = await EmergencySession.get(record_id=record.id)
    assert session.reason == "Patient inconscient aux urgences"
    opened = await AccessEvent.get(record_id=record.id, action="BREAK_GLASS_OPENED")
    assert opened.reason == session.reason


async def test_a_comment_of_blank_letters_is_no_comment(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    session = await break_glass(s["record"], s["pro"])
    (await s["as_patient"].gql(REPORT, {"id": str(session.id), "c": "Je ne\u3164connais pas"})).ok()
    # The same report again with a comment that shows nothing writes nothing.
    for blank in BLANKS:
        (await s["as_patient"].gql(REPORT, {"id": str(session.id), "c": blank * 3 + "\n" + blank})).ok()
    reviewed = await AccessEvent.filter(record_id=s["record"].id, action="EMERGENCY_REVIEWED")
    assert [e.reason for e in reviewed] == [await reviewed_reason(session, "REPORTED", "Je ne connais pas")]
