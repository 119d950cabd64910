"""importCareHistory: the records an import opens with a contact get their activation codes and
e-mails in a few statements for the whole batch, not four statements a record (DESIGN §2: the
insurer's import opens the record and sends the code to the contact it has on file)."""

from __future__ import annotations

import asyncio
import re

import httpx
from tortoise.transactions import in_transaction

from backend.auth import activation
from backend.domain.enums import RecordStatus
from backend.domain.identifiers import ins_key
from backend.models import AccessEvent, ActivationCode, Entry, OutboxMessage, Record
from tests import factories
from tests.care_items import IMPORT, QueryCounter, insurer_token, medication_item
from tests.conftest import Caller
from tests.smtp import SmtpServer

CREATE = """mutation($input: CreateRecordInput!) { createRecord(input: $input) { sentTo } }"""
CODE = re.compile(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}")


def _ins(n: int) -> str:
    body = f"2900175{n:06d}"
    return body + ins_key(body)


def _new_patients(first: int, count: int) -> list[dict[str, object]]:
    return [medication_item(_ins(n), n, contactEmail=f"patient.{n}@example.org")
            for n in range(first, first + count)]


async def test_the_statements_of_an_import_do_not_grow_with_the_records_it_opens(
    client: httpx.AsyncClient,
) -> None:
    """5,000 patients new to the service, each with an address, took four statements each
    (20,014 in all) and 14-18 s, with the records' rows and SQLite's writer lock held."""
    insurer = Caller(client, token=await insurer_token())
    (await insurer.gql(IMPORT, {"items": []})).ok()  # the token's first use is noted once
    with QueryCounter() as few:
        small = (await insurer.gql(IMPORT, {"items": _new_patients(0, 3)})).ok()
    with QueryCounter() as many:
        large = (await insurer.gql(IMPORT, {"items": _new_patients(100, 200)})).ok()
    assert small["importCareHistory"]["created"] == 3 and large["importCareHistory"]["created"] == 200
    assert many.count == few.count, (few.count, many.count)
    assert await Record.filter(status=RecordStatus.PENDING).count() == 203
    assert await ActivationCode.filter(used_at=None).count() == 203
    assert await OutboxMessage.all().count() == 203
    assert await AccessEvent.filter(action="ENTRIES_IMPORTED").count() == 203


async def test_each_record_opened_gets_its_own_code_which_activates_it(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    insurer = Caller(client, token=await insurer_token())
    items = _new_patients(0, 2) + [medication_item(_ins(0), 50)]  # a second item of patient 0
    (await insurer.gql(IMPORT, {"items": items})).ok()
    codes = {}
    for n in range(2):
        record = await Record.get(ins=_ins(n))
        mails = await OutboxMessage.filter(record_id=record.id)
        assert [m.recipient for m in mails] == [f"patient.{n}@example.org"]
        found = CODE.findall(mails[0].body)
        assert len(found) == 1
        codes[n] = found[0]
        row = await ActivationCode.get(record_id=record.id)
        assert (row.issued_by, row.used_at, row.tries) == ("Assurance Maladie", None, 0)
    assert codes[0] != codes[1]
    # Patient 1's code opens nothing for patient 0.
    refused = await Caller(client).gql(CREATE, {"input": {
        "ins": _ins(0), "activationCode": codes[1], "email": "patient.0@example.org",
        "password": "un mot de passe long et rare 42"}})
    assert refused.codes == ["BAD_USER_INPUT"]
    assert (await Record.get(ins=_ins(0))).status == RecordStatus.PENDING
    for n in range(2):
        (await Caller(client).gql(CREATE, {"input": {
            "ins": _ins(n), "activationCode": codes[n], "email": f"patient.{n}@example.org",
            "password": "un mot de passe long et rare 42"}})).ok()
        record = await Record.get(ins=_ins(n))
        assert record.status == RecordStatus.ACTIVE
        assert await Entry.filter(record_id=record.id).count() == (2 if n == 0 else 1)
    assert await smtp_server.activation_code_for("patient.0@example.org") == codes[0]


async def test_the_mail_of_an_import_is_the_one_activation_sends(client: httpx.AsyncClient) -> None:
    """The import writes the activation e-mail of its records itself: the same subject and text
    as activation.issue, code aside."""
    insurer = Caller(client, token=await insurer_token())
    (await insurer.gql(IMPORT, {"items": _new_patients(0, 1)})).ok()
    imported = await OutboxMessage.get(record__ins=_ins(0))
    other = factories.new_ins()
    (await insurer.gql(IMPORT, {"items": [medication_item(other, 1)]})).ok()  # no contact
    record = await Record.get(ins=other)
    async with in_transaction() as conn:
        await activation.issue(record, "Assurance Maladie", send_to="x@example.org", using_db=conn)
    issued = await OutboxMessage.get(record_id=record.id)
    assert (imported.channel, imported.subject, imported.urgent) == (
        issued.channel, issued.subject, issued.urgent)
    assert CODE.sub("CODE", imported.body) == CODE.sub("CODE", issued.body)
    assert imported.attempts == 0 and imported.sent_at is None
    assert imported.next_attempt_at <= issued.next_attempt_at


async def test_two_imports_opening_the_same_records_at_once_send_one_code_each(
    client: httpx.AsyncClient,
) -> None:
    """The second import to insert a record retries, finds it opened by the first: it adds its
    items, and neither a second code nor a second e-mail."""
    insurer = Caller(client, token=await insurer_token())
    first = _new_patients(0, 30)
    second = [medication_item(_ins(n), 100 + n, contactEmail=f"other.{n}@example.org")
              for n in range(15, 45)]
    a, b = await asyncio.gather(insurer.gql(IMPORT, {"items": first}),
                                insurer.gql(IMPORT, {"items": second}))
    assert a.ok()["importCareHistory"]["created"] + b.ok()["importCareHistory"]["created"] == 60
    assert await Record.all().count() == 45
    assert await ActivationCode.all().count() == 45
    assert await OutboxMessage.all().count() == 45
    for n in range(45):
        record = await Record.get(ins=_ins(n))
        mail = await OutboxMessage.get(record_id=record.id)
        assert mail.recipient == record.pending_contact
