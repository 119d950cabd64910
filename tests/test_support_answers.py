"""What support is told when it types what a caller gives on the phone: the address a record
waiting for activation was opened with, a phone number, an account's id, an RPPS number a digit
short; or asks a contact recovery for a record waiting for activation. Each answer says what
to type or do instead, under the code and reason it had, and nothing is read or written."""

from __future__ import annotations

import datetime as dt

import httpx
from graphql import GraphQLObjectType, build_schema

from backend.domain.enums import RecordStatus
from backend.models import AccessEvent, ActivationCode, OutboxMessage, Record
from tests import factories
from tests.conftest import Caller, session_for
from tests.test_schema_contract import SCHEMA_FILE

OPERATIONS = {
    "supportAccount": "query($i: String!) { supportAccount(identifier: $i) { accountId } }",
    "unlockAccount": "mutation($i: String!) { unlockAccount(identifier: $i) { locked } }",
    "resendActivation": "mutation($i: String!) { resendActivation(identifier: $i) }",
    "startContactRecovery": "mutation($i: String!) { startContactRecovery(identifier: $i) }",
}


async def _pending(email: str) -> Record:
    return await Record.create(
        ins=factories.new_ins(), first_name="Paul", last_name="Pending", birth_date=dt.date(1990, 1, 1),
        status=RecordStatus.PENDING, pending_contact=email,
    )


async def _nothing_written() -> None:
    assert await AccessEvent.filter(action="SUPPORT_ACTION").count() == 0
    assert await ActivationCode.all().count() == 0
    assert await OutboxMessage.all().count() == 0


async def test_the_address_of_a_record_waiting_for_activation_points_to_its_ins(
    client: httpx.AsyncClient,
) -> None:
    """A record waiting for activation has no account: its address finds nothing, and support
    is told to look it up by its INS (it was « No account matches this identifier »)."""
    await _pending("paul.pending@test.dmp")
    support = Caller(client, session=await session_for(await factories.support()))
    for name, document in OPERATIONS.items():
        result = await support.gql(document, {"i": "Paul.Pending@test.dmp"})
        assert result.codes == ["NOT_FOUND"], name
        assert "reason" not in result.errors[0]["extensions"], name
        assert "INS" in result.errors[0]["message"], (name, result.errors[0]["message"])
    await _nothing_written()


async def test_a_phone_number_an_account_id_or_a_short_rpps_is_told_what_to_type(
    client: httpx.AsyncClient,
) -> None:
    """A number of neither length is refused as before (INVALID_INS), with words that name
    both numbers and what is not searched (it was « INS must be 15 characters … »)."""
    _, record = await factories.patient(email="jeanne.phone@test.dmp", phone="+33612345678")
    agent = await factories.support()
    support = Caller(client, session=await session_for(agent))
    for identifier in ("0612345678", "+33 6 12 34 56 78", str(agent.id), "1000000001", "RPPS 10000000017"):
        for name, document in OPERATIONS.items():
            result = await support.gql(document, {"i": identifier})
            assert result.errors[0]["extensions"] == {"code": "BAD_USER_INPUT", "reason": "INVALID_INS"}
            message = result.errors[0]["message"]
            assert "RPPS" in message and "phone" in message, (identifier, name, message)
    # An INS of the right length keeps the INS's own words.
    result = await support.gql(OPERATIONS["supportAccount"], {"i": record.ins[:-2] + "00"})
    assert result.errors[0]["extensions"]["reason"] == "INVALID_INS"
    assert "key" in result.errors[0]["message"]
    await _nothing_written()


async def test_a_recovery_asked_for_a_record_waiting_for_activation_names_resend_activation(
    client: httpx.AsyncClient,
) -> None:
    """A record waiting for activation gets its code again, not a recovery: the refusal, the
    same for an unknown INS, says so (it was « No active record matches », closed ones being
    recovered too)."""
    record = await _pending("nina.pending@test.dmp")
    support = Caller(client, session=await session_for(await factories.support()))
    for identifier in (record.ins, factories.new_ins()):
        result = await support.gql(OPERATIONS["startContactRecovery"], {"i": identifier})
        assert result.codes == ["NOT_FOUND"]
        message = result.errors[0]["message"]
        assert "resendActivation" in message and "closed" in message, message
    await _nothing_written()


async def test_unlocking_a_record_waiting_for_activation_says_it_has_no_account_yet(
    client: httpx.AsyncClient,
) -> None:
    """A record waiting for activation has no account: unlocking it by its INS says so and names
    resendActivation, in the same words as for an unknown INS, so that the refusal tells nothing
    of the record and is no read of it (it was « No account matches this identifier », and support
    took the INS for a wrong one). Nothing is written; the record stays as it was."""
    record = await _pending("rose.pending@test.dmp")
    support = Caller(client, session=await session_for(await factories.support()))
    spaced = " ".join((record.ins[:1], record.ins[1:3], record.ins[3:5], record.ins[5:7], record.ins[7:10],
                       record.ins[10:13], record.ins[13:]))
    messages = set()
    for identifier in (record.ins, spaced, factories.new_ins()):
        result = await support.gql(OPERATIONS["unlockAccount"], {"i": identifier})
        assert result.errors[0]["extensions"] == {"code": "NOT_FOUND"}, identifier
        messages.add(result.errors[0]["message"])
    [message] = messages
    assert "waiting for activation" in message and "resendActivation" in message, message
    assert "Pending" not in message and record.ins not in message
    await _nothing_written()
    after = await Record.get(id=record.id)
    assert (after.status, after.owner_id, after.event_seq) == (  # type: ignore[attr-defined]
        RecordStatus.PENDING, None, record.event_seq
    )
    # An RPPS number that matches no practitioner keeps its words: it is no INS.
    result = await support.gql(OPERATIONS["unlockAccount"], {"i": factories.new_rpps()})
    assert result.codes == ["NOT_FOUND"]
    assert "waiting for activation" not in result.errors[0]["message"]


async def test_a_recovery_asked_for_a_record_whose_deletion_was_requested_says_so(
    client: httpx.AsyncClient,
) -> None:
    """A record waiting for its deletion is not recovered: the refusal, the same for an unknown
    INS, says so (it named active and closed records only, and support took the INS for a wrong
    one). Nothing is opened, sent or written."""
    _, record = await factories.patient(email="ines.deleting@test.dmp")
    await factories.pending_deletion(record)
    seq = (await Record.get(id=record.id)).event_seq
    support = Caller(client, session=await session_for(await factories.support()))
    messages = set()
    for identifier in (record.ins, "ines.deleting@test.dmp", factories.new_ins()):
        result = await support.gql(OPERATIONS["startContactRecovery"], {"i": identifier})
        assert result.errors[0]["extensions"] == {"code": "NOT_FOUND"}, identifier
        messages.add(result.errors[0]["message"])
    [message] = messages
    assert "deletion was requested" in message, message
    await _nothing_written()
    after = await Record.get(id=record.id)
    assert (after.status, after.event_seq) == (RecordStatus.DELETED, seq)


def test_every_field_support_reads_is_described_in_the_schema() -> None:
    """The explorer's documentation is what an agent reads: each field of an account's view
    says what it holds (a wrong password is not a wrong code; a pending record has no account)."""
    schema = build_schema(SCHEMA_FILE.read_text())
    for type_name in ("SupportAccount", "SupportPendingMessage", "SupportEmergencyReview"):
        type_ = schema.type_map[type_name]
        assert isinstance(type_, GraphQLObjectType)
        undescribed = [name for name, field in type_.fields.items() if not field.description]
        assert undescribed == [], (type_name, undescribed)
    for name in ("supportAccount",):
        assert "INS" in (schema.query_type.fields[name].description or "")  # type: ignore[union-attr]
