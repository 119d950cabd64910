"""What support types is refused with the rule it broke, before anything is read or written:
blank, far too long, an address without an address's shape, digits of another script."""

from __future__ import annotations

from typing import Any

import httpx

from backend import clock
from backend.models import AccessEvent, Account, ActivationCode, OutboxMessage
from tests import factories
from tests.conftest import Caller, session_for

OPERATIONS = {
    "supportAccount": "query($i: String!) { supportAccount(identifier: $i) { accountId } }",
    "unlockAccount": "mutation($i: String!) { unlockAccount(identifier: $i) { locked } }",
    "resendActivation": "mutation($i: String!) { resendActivation(identifier: $i) }",
    "startContactRecovery": "mutation($i: String!) { startContactRecovery(identifier: $i) }",
}
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


async def _nothing_written(patient: Account) -> None:
    assert await AccessEvent.filter(action="SUPPORT_ACTION").count() == 0
    assert await ActivationCode.all().count() == 0
    assert await OutboxMessage.all().count() == 0
    assert (await Account.get(id=patient.id)).locked_at is not None


async def _refused(support: Caller, identifier: str) -> list[tuple[str, Any, Any]]:
    answers = []
    for name, document in OPERATIONS.items():
        result = await support.gql(document, {"i": identifier})
        assert result.data is None or result.data.get(name) is None, (name, identifier)
        error = result.errors[0] if result.errors else {}
        extensions = error.get("extensions", {})
        answers.append((extensions.get("code"), extensions.get("reason"), extensions.get("field")))
    return answers


async def test_far_too_long_identifiers_are_refused_as_too_long(client: httpx.AsyncClient) -> None:
    """The longest e-mail address is 254 characters, and an INS or RPPS number much shorter:
    longer is not looked up (it was answered « no account », or « INS must be 15 characters »)."""
    patient, record = await factories.patient(email="lea.long@test.dmp")
    await Account.filter(id=patient.id).update(locked_at=clock.now(), lock_reason="too many wrong codes")
    support = Caller(client, session=await session_for(await factories.support()))
    for identifier in ("l" * 300 + "@test.dmp", "1" * 100_000, record.ins + " " * 20 + "x" * 300):
        answers = await _refused(support, identifier)
        assert answers == [("BAD_USER_INPUT", "FIELD_TOO_LONG", "identifier")] * 4, identifier[:20]
    result = await support.gql(OPERATIONS["supportAccount"], {"i": "l" * 300 + "@test.dmp"})
    assert result.errors[0]["extensions"]["max"] == 254
    assert "l" * 20 not in result.errors[0]["message"]
    await _nothing_written(patient)


async def test_an_address_without_an_addresss_shape_is_refused_as_such(client: httpx.AsyncClient) -> None:
    """« lea@ » or « @test.dmp » is no address: support is told so (it was « no account
    matches », as for a well-formed address nobody has)."""
    patient, _ = await factories.patient(email="lea.shape@test.dmp")
    await Account.filter(id=patient.id).update(locked_at=clock.now(), lock_reason="too many wrong codes")
    support = Caller(client, session=await session_for(await factories.support()))
    for identifier in ("lea.shape@", "@test.dmp", "lea.shape@test", "lea shape@test.dmp", "a@b@test.dmp"):
        answers = await _refused(support, identifier)
        assert answers == [("BAD_USER_INPUT", "INVALID_EMAIL", None)] * 4, identifier
    await _nothing_written(patient)


async def test_digits_of_another_script_are_refused_not_looked_up(client: httpx.AsyncClient) -> None:
    patient, record = await factories.patient(email="lea.digits@test.dmp")
    await Account.filter(id=patient.id).update(locked_at=clock.now(), lock_reason="too many wrong codes")
    doctor, pro = await factories.practitioner()
    support = Caller(client, session=await session_for(await factories.support()))
    for table in (ARABIC_INDIC, FULLWIDTH):
        assert await _refused(support, record.ins.translate(table)) == [
            ("BAD_USER_INPUT", "INVALID_INS", None)] * 4
        assert await _refused(support, pro.rpps.translate(table)) == [
            ("BAD_USER_INPUT", "INVALID_RPPS", None)] * 4
    for blank in ("", " \u00a0\t\n", "\u200b", "\u202e"):
        assert await _refused(support, blank) == [("BAD_USER_INPUT", "SEARCH_TERM_NEEDED", None)] * 4
    await _nothing_written(patient)
