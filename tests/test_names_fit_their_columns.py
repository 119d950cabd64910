"""A first and a last name of 100 characters each (the most an account or a record takes)
make a display name of 201: the columns that keep it with what its holder did (an event's
actor, an entry's author, a code's issuer) hold 200. On PostgreSQL every write and read of
such a practitioner failed (`INTERNAL`, "The access could not be recorded")."""

from __future__ import annotations

import httpx

from backend import accounts
from backend.domain.enums import Profession, Role, Section
from backend.models import AccessEvent, ActivationCode, Entry, Grant, Practitioner
from tests import factories
from tests.conftest import Caller, session_for

ADD = """mutation($ins: String!) { addEntry(input: {ins: $ins, section: ALLERGIES, title: "Arachide",
  date: "2024-01-02"}) { entry { id } } }"""
READ = "query($ins: String!) { patientRecord(ins: $ins) { allergies { edges { node { title } } } } }"
OPEN = """mutation { openRecordForPatient(input: {ins: "%s", firstName: "Léa", lastName: "Martin",
  birthDate: "1990-03-04"}) { activationCode } }"""


async def test_a_practitioner_with_the_longest_names_writes_reads_and_opens_records(
    client: httpx.AsyncClient,
) -> None:
    account = await accounts.create_account(accounts.NewAccount(
        role=Role.PRACTITIONER, email="long.names@test.dmp", password=factories.PASSWORD,
        first_name="A" * 100, last_name="B" * 100, rpps=factories.new_rpps(),
        profession=Profession.MEDECIN, city="Paris",
    ))
    practitioner = await Practitioner.get(account_id=account.id)
    _, record = await factories.patient()
    await Grant.create(record=record, practitioner=practitioner, sections=[Section.ALLERGIES.value])
    caller = Caller(client, session=await session_for(account))

    (await caller.gql(ADD, {"ins": record.ins})).ok()
    read = (await caller.gql(READ, {"ins": record.ins})).ok()
    assert [e["node"]["title"] for e in read["patientRecord"]["allergies"]["edges"]] == ["Arachide"]
    entry = await Entry.get(record_id=record.id)
    assert entry.author_name == ("A" * 100 + " " + "B" * 100)[:200]
    events = AccessEvent.filter(record_id=record.id, actor_id=account.id)
    names = await events.values_list("actor_name", flat=True)
    assert names and all(name == entry.author_name for name in names)

    ins = factories.new_ins()
    (await caller.gql(OPEN % ins)).ok()
    issued = await ActivationCode.get(record__ins=ins)
    assert len(issued.issued_by) <= 200 and issued.issued_by.endswith(" (medecin)")
