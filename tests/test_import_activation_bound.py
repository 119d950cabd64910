"""importCareHistory and the activation of a PENDING record it did not open in this batch.

An insurer's job runs again and again over the same patients (every hour, or a partner's
retries), each item with the patient's `contactEmail`: a batch must neither mail the patient
every time nor replace the code they are about to type. A record gets a code from an import
only when it holds none that still works and none was issued for it that UTC day; a record
opened without any contact takes the address a later batch gives; a contact on file is kept.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import httpx

from backend import clock
from backend.domain.enums import RecordStatus
from backend.models import AccessEvent, ActivationCode, OutboxMessage, Record
from tests import factories
from tests.care_items import IMPORT, INSURER, QueryCounter, insurer_token, medication_item
from tests.conftest import Caller, session_for
from tests.smtp import SmtpServer
from tests.test_auth_signup import CREATE, OPEN, STRONG

CODE = re.compile(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}")
RESEND = "mutation($i: String!) { resendActivation(identifier: $i) }"


async def _import(insurer: Caller, items: list[dict[str, Any]]) -> dict[str, Any]:
    payload: dict[str, Any] = (await insurer.gql(IMPORT, {"items": items})).ok()["importCareHistory"]
    return payload


async def _mails(record: Record) -> list[tuple[str, str]]:
    """(recipient, code) of each activation e-mail queued for the record, oldest first."""
    rows = await OutboxMessage.filter(record_id=record.id).order_by("created_at", "id")
    return [(m.recipient, CODE.findall(m.body)[0]) for m in rows]


async def _state(record: Record) -> tuple[Any, ...]:
    """What an import may change of a record's activation: its contact, codes and e-mails."""
    fresh = await Record.get(id=record.id)
    codes = await ActivationCode.filter(record_id=record.id).order_by("created_at", "id").values_list(
        "id", "used_at", "tries")
    return fresh.pending_contact, fresh.pending_phone, fresh.status, codes, await _mails(record)


async def _activate(client: httpx.AsyncClient, ins: str, code: str, email: str) -> None:
    (await Caller(client).gql(CREATE, {"input": {
        "ins": ins, "activationCode": code, "email": email, "password": STRONG}})).ok()
    assert (await Record.get(ins=ins)).status == RecordStatus.ACTIVE


def _next_day() -> None:
    """To the next UTC day, a minute after midnight."""
    now = clock.now()
    clock.shift(dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(0, 1), dt.UTC) - now)


async def test_batches_sent_again_and_again_mail_the_patient_once_and_keep_the_live_code(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    insurer = Caller(client, token=await insurer_token())
    ins = factories.new_ins()
    address = "alice.martin@example.org"
    await _import(insurer, [medication_item(ins, 1, contactEmail=address)])
    record = await Record.get(ins=ins)
    [(to, code)] = await _mails(record)
    assert to == address
    opened = await _state(record)
    for n in range(2, 6):  # the hourly job: the same patient, a new item each time
        if n == 4:
            _next_day()
        payload = await _import(insurer, [medication_item(ins, 1, contactEmail=address),
                                          medication_item(ins, n, contactEmail=address.upper())])
        assert (payload["created"], payload["unchanged"], payload["rejected"]) == (1, 1, [])
        assert await _state(record) == opened  # no new code, no new e-mail
    # The code of the first e-mail still activates the record.
    await _activate(client, ins, code, address)


async def test_a_record_opened_without_contact_takes_the_address_of_a_later_batch(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    insurer = Caller(client, token=await insurer_token())
    ins = factories.new_ins()
    await _import(insurer, [medication_item(ins, 1)])
    record = await Record.get(ins=ins)
    assert await _state(record) == (None, None, RecordStatus.PENDING, [], [])

    # Another birth date: the item is refused, and its address is not the patient's.
    payload = await _import(insurer, [
        medication_item(ins, 2, birthDate="1990-01-01", contactEmail="other@example.org")])
    assert [r["code"] for r in payload["rejected"]] == ["BAD_USER_INPUT"]
    assert await _state(record) == (None, None, RecordStatus.PENDING, [], [])

    payload = await _import(insurer, [medication_item(ins, 1, contactEmail="  Alice.Martin@Example.ORG "),
                                      medication_item(ins, 3, contactEmail="second@example.org")])
    assert (payload["created"], payload["unchanged"], payload["rejected"]) == (1, 1, [])
    fresh = await Record.get(ins=ins)
    assert fresh.pending_contact == "alice.martin@example.org"  # kept as sign-up keeps it
    [(to, code)] = await _mails(record)
    assert to == "alice.martin@example.org"
    row = await ActivationCode.get(record_id=record.id)
    assert (row.issued_by, row.used_at, row.tries) == (INSURER, None, 0)
    # The batch's event is the import's, as before.
    events = await AccessEvent.filter(record_id=record.id).order_by("seq").values_list("action", "reason")
    assert [action for action, _ in events] == ["ENTRIES_IMPORTED", "ACCESS_DENIED", "ENTRIES_IMPORTED"]

    # Later batches, with this address or another one, change nothing more.
    sent = await _state(record)
    await _import(insurer, [medication_item(ins, 4, contactEmail="alice.martin@example.org")])
    await _import(insurer, [medication_item(ins, 5, contactEmail="someone.else@example.org")])
    assert await _state(record) == sent
    await smtp_server.deliver()
    await _activate(client, ins, code, "alice.martin@example.org")


async def test_a_contact_on_file_is_kept_and_an_expired_code_is_replaced_there_once(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    insurer = Caller(client, token=await insurer_token())
    ins = factories.new_ins()
    await _import(insurer, [medication_item(ins, 1, contactEmail="alice@example.org")])
    record = await Record.get(ins=ins)
    [(_, first)] = await _mails(record)
    clock.shift(dt.timedelta(days=31))  # the code expired unused
    expired = await _state(record)

    # Another address: the record keeps its contact, and nobody is mailed.
    await _import(insurer, [medication_item(ins, 2, contactEmail="mallory@example.org")])
    assert await _state(record) == expired

    # The address on file: one new code, there; the expired one ends.
    await _import(insurer, [medication_item(ins, 3, contactEmail="alice@example.org")])
    mails = await _mails(record)
    assert [to for to, _ in mails] == ["alice@example.org"] * 2 and mails[1][1] != first
    codes = await ActivationCode.filter(record_id=record.id).order_by("created_at")
    assert [c.used_at is None for c in codes] == [False, True]
    renewed = await _state(record)
    await _import(insurer, [medication_item(ins, 4, contactEmail="alice@example.org")])
    assert await _state(record) == renewed
    refused = await Caller(client).gql(CREATE, {"input": {
        "ins": ins, "activationCode": first, "email": "alice@example.org", "password": STRONG}})
    assert refused.codes == ["BAD_USER_INPUT"]
    await _activate(client, ins, mails[1][1], "alice@example.org")


async def test_the_address_on_file_counts_wherever_it_comes_in_the_batch(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    """A batch giving the record's own address after another one replaces its expired code
    there, as the same items sent in two batches would: which address comes first in a batch
    (an extract's order, `dmp import-file`'s batch size) does not decide it."""
    insurer = Caller(client, token=await insurer_token())
    ins = factories.new_ins()
    await _import(insurer, [medication_item(ins, 1, contactEmail="alice@example.org")])
    record = await Record.get(ins=ins)
    [(_, first)] = await _mails(record)
    clock.shift(dt.timedelta(days=31))  # the code expired unused

    await _import(insurer, [medication_item(ins, 2, contactEmail="mallory@example.org"),
                            medication_item(ins, 3, contactEmail="Alice@Example.org")])
    mails = await _mails(record)
    assert [to for to, _ in mails] == ["alice@example.org"] * 2 and mails[1][1] != first
    assert (await Record.get(id=record.id)).pending_contact == "alice@example.org"
    await _activate(client, ins, mails[1][1], "alice@example.org")


async def test_a_code_whose_tries_are_used_up_is_replaced_at_most_once_a_day(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    insurer = Caller(client, token=await insurer_token())
    ins = factories.new_ins()
    items = [medication_item(ins, 1, contactEmail="alice@example.org")]
    await _import(insurer, items)
    record = await Record.get(ins=ins)
    await ActivationCode.filter(record_id=record.id).update(tries=5)  # five wrong tries
    used_up = await _state(record)
    await _import(insurer, items)  # the same day as the first code: nothing
    assert await _state(record) == used_up

    _next_day()
    await _import(insurer, items)
    mails = await _mails(record)
    assert len(mails) == 2
    await ActivationCode.filter(record_id=record.id, used_at=None).update(tries=5)
    replaced = await _state(record)
    for _ in range(3):  # the hourly job, the new code's tries used up again: one a day
        await _import(insurer, items)
        assert await _state(record) == replaced
    _next_day()
    await _import(insurer, items)
    assert len(await _mails(record)) == 3


async def test_a_code_handed_at_the_point_of_care_is_kept_and_a_phone_is_a_contact(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    account, _ = await factories.practitioner()
    doctor = Caller(client, session=await session_for(account))
    insurer = Caller(client, token=await insurer_token())
    identity = {"firstName": "Alice", "lastName": "Martin", "birthDate": "1985-06-12"}
    handed_ins, phoned_ins = factories.new_ins(), factories.new_ins()
    handed = (await doctor.gql(OPEN, {"input": {"ins": handed_ins, **identity}})).ok()
    (await doctor.gql(OPEN, {"input": {"ins": phoned_ins, "phone": "06 98 76 54 30", **identity}})).ok()
    records = [await Record.get(ins=handed_ins), await Record.get(ins=phoned_ins)]
    before = [await _state(r) for r in records]
    items = [medication_item(handed_ins, 1, contactEmail="alice@example.org"),
             medication_item(phoned_ins, 2, contactEmail="alice@example.org")]
    # The code handed over on paper still works: the address is neither kept nor mailed.
    await _import(insurer, items)
    assert [await _state(r) for r in records] == before

    clock.shift(dt.timedelta(days=31))  # both codes expired
    expired = await _state(records[1])
    await _import(insurer, items)
    # Without any contact on file, the record takes the address and the code goes there;
    assert (await Record.get(id=records[0].id)).pending_contact == "alice@example.org"
    [(to, _)] = await _mails(records[0])
    assert to == "alice@example.org"
    # with the phone number the practitioner gave, it is not given another contact.
    assert await _state(records[1]) == expired
    # The code the practitioner handed over no longer works; the import's does.
    refused = await Caller(client).gql(CREATE, {"input": {
        "ins": handed_ins, "activationCode": handed["openRecordForPatient"]["activationCode"],
        "email": "alice@example.org", "password": STRONG}})
    assert refused.codes == ["BAD_USER_INPUT"]


async def test_support_replaces_a_live_code_and_the_import_then_sends_none(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    insurer = Caller(client, token=await insurer_token())
    agent = Caller(client, session=await session_for(await factories.support()))
    ins = factories.new_ins()
    items = [medication_item(ins, 1, contactEmail="alice@example.org")]
    await _import(insurer, items)
    record = await Record.get(ins=ins)
    assert (await agent.gql(RESEND, {"i": ins})).ok()["resendActivation"] is True
    resent = await _state(record)
    assert len(resent[4]) == 2
    _next_day()
    await _import(insurer, items)
    assert await _state(record) == resent
    await _activate(client, ins, resent[4][1][1], "alice@example.org")


async def test_refused_items_and_other_records_get_no_code(
    client: httpx.AsyncClient,
) -> None:
    """Items refused (a closed record, another birth date, an invisible character in a new
    external id) and records that are not pending: no contact is taken, no code, no e-mail."""
    insurer = Caller(client, token=await insurer_token())
    _, active = await factories.patient()
    _, closed = await factories.patient()
    await Record.filter(id=closed.id).update(status=RecordStatus.CLOSED)
    pending_ins = factories.new_ins()
    await _import(insurer, [medication_item(pending_ins, 1)])
    pending = await Record.get(ins=pending_ins)
    records = [active, closed, pending]
    before = [await _state(r) for r in records]
    outbox, codes = await OutboxMessage.all().count(), await ActivationCode.all().count()
    payload = await _import(insurer, [
        medication_item(active.ins, 1, contactEmail="a@example.org"),
        medication_item(closed.ins, 2, contactEmail="b@example.org"),
        medication_item(pending_ins, 3, birthDate="1990-01-01", contactEmail="c@example.org"),
        medication_item(pending_ins, 4, externalId="MED\u200b4", contactEmail="d@example.org"),
    ])
    assert payload["created"] == 1
    assert [(r["index"], r["code"]) for r in payload["rejected"]] == [
        (1, "FORBIDDEN"), (2, "BAD_USER_INPUT"), (3, "BAD_USER_INPUT")]
    assert [await _state(r) for r in records] == before
    assert (await OutboxMessage.all().count(), await ActivationCode.all().count()) == (outbox, codes)


async def test_the_bound_is_decided_for_the_batch_in_a_few_statements(
    client: httpx.AsyncClient,
) -> None:
    """Whether each pending record of the batch gets a code is read in one statement for the
    batch, and its writes are one statement each: their number does not grow with the records."""
    insurer = Caller(client, token=await insurer_token())
    few_ins = [factories.new_ins() for _ in range(2)]
    many_ins = [factories.new_ins() for _ in range(40)]
    await _import(insurer, [medication_item(i, n) for n, i in enumerate(few_ins + many_ins)])
    with QueryCounter() as few:
        await _import(insurer, [medication_item(i, 100 + n, contactEmail=f"p{n}@example.org")
                                for n, i in enumerate(few_ins)])
    with QueryCounter() as many:
        await _import(insurer, [medication_item(i, 200 + n, contactEmail=f"q{n}@example.org")
                                for n, i in enumerate(many_ins)])
    assert many.count == few.count, (few.count, many.count)
    assert await OutboxMessage.all().count() == 42
    # Sent again: one statement reads that every record has its code, and nothing is written.
    with QueryCounter() as again:
        await _import(insurer, [medication_item(i, 200 + n, contactEmail=f"q{n}@example.org")
                                for n, i in enumerate(many_ins)])
    assert await OutboxMessage.all().count() == 42
    assert again.count < many.count
