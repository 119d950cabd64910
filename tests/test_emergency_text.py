"""The justification of an emergency access, as the patient reads it (DESIGN §3 rules 9-10, §4)."""

from __future__ import annotations

import unicodedata

import httpx
import pytest

from backend.domain.enums import AccessAction
from backend.models import AccessEvent, EmergencySession
from tests import factories
from tests.test_emergency_access import BREAK_GLASS, REGULATOR, _nothing_opened, _pro


@pytest.mark.parametrize("mutation", [BREAK_GLASS, REGULATOR])
async def test_the_reason_is_stored_as_it_shows(client: httpx.AsyncClient, mutation: str) -> None:
    """The patient reads the justification in their history and their review list: a
    direction override, a control or an invisible character would make it read otherwise
    than it is (« \u202eseigrella » shows as « allergies » backwards), so they are left out, as
    in an entry's title."""
    _, record = await factories.patient()
    caller, _ = await _pro(client, regulator=True)
    sent = "Patient\u0007 inconscient,\u202e seigrella\u202c\u200b \x1b[31minconnues \U000e0041fin"
    (await caller.gql(mutation, {"ins": record.ins, "r": sent})).ok()
    shown = "Patient inconscient, seigrella [31minconnues fin"
    session = await EmergencySession.get(record_id=record.id)
    assert session.reason == shown
    opened = await AccessEvent.filter(
        record_id=record.id,
        action__in=[AccessAction.BREAK_GLASS_OPENED.value, AccessAction.REGULATOR_ACCESS.value],
    )
    assert [e.reason for e in opened] == [shown]


async def test_the_limits_count_the_reason_as_it_shows(client: httpx.AsyncClient) -> None:
    """2,000 characters as the reason shows: invisible characters around them do not make it too
    long; 2,001 shown characters are too many."""
    _, record = await factories.patient()
    caller, _ = await _pro(client)
    too_long = await caller.gql(BREAK_GLASS, {"ins": record.ins, "r": "x" * 2001})
    assert too_long.codes == ["BAD_USER_INPUT"]
    assert too_long.errors[0]["extensions"]["reason"] == "FIELD_TOO_LONG"
    await _nothing_opened(record)
    (await caller.gql(BREAK_GLASS, {"ins": record.ins, "r": "x" * 2000 + "\u200b" * 5})).ok()
    assert (await EmergencySession.get(record_id=record.id)).reason == "x" * 2000


async def test_the_minimum_counts_characters_as_they_show(client: httpx.AsyncClient) -> None:
    """« é » typed as e and a combining accent is one character, as « é » is: a reason of five
    accented letters is too short however it was typed, and a letter under nine accents is
    one character, not ten. A real reason passes in either form."""
    _, record = await factories.patient()
    caller, _ = await _pro(client)
    for reason in ("é" * 5 + "ab", "e\u0301" * 5 + "ab", "a" + "\u0301" * 9, "a" + "\u0301" * 30):
        result = await caller.gql(BREAK_GLASS, {"ins": record.ins, "r": reason})
        assert result.codes == ["BAD_USER_INPUT"], ascii(reason)
        assert result.errors[0]["extensions"]["reason"] == "FIELD_TOO_SHORT"
    await _nothing_opened(record)
    decomposed = unicodedata.normalize("NFD", "Hémorragie, inconscient")
    (await caller.gql(BREAK_GLASS, {"ins": record.ins, "r": decomposed})).ok()
