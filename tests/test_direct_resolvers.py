"""Resolvers called without strawberry's argument conversion (schema/arguments.py) answer as
strawberry's own.

Each request is sent twice: once with the direct resolvers the schema runs, once with
strawberry's resolvers put back on every field. Status, body and the access events written
must be the same.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from graphql import GraphQLObjectType

from backend.domain.enums import Section
from backend.models import AccessEvent, Record
from backend.schema.arguments import ASYNC_RESOLVE, STRAWBERRY_RESOLVE
from backend.schema.root import schema
from tests import factories
from tests.conftest import Caller, session_for
from tests.test_direct_execution import shared_record

CONSULTATION = """query C($ins: String!, $first: Int) { patientRecord(ins: $ins) {
  sectionAccess { section mode }
  allergies(first: $first, includeSuperseded: true) { edges { cursor node { id title } }
                                                       pageInfo { hasNextPage endCursor } }
  medications(first: 1) { edges { node { id title } } pageInfo { hasNextPage } }
  vaccinations { edges { node { id } } }
  emergencyProfile { bloodGroup } } }"""

OWN_RECORD = """{ myRecord { ins allergies(first: 1, after: null) { edges { node { id masked } } }
  medications(first: 2) { edges { node { title } } } } }"""

# (name, who calls, query, variables as a function of the record's INS)
CASES: list[tuple[str, str, str, Any]] = [
    ("a consultation", "practitioner", CONSULTATION, lambda ins: {"ins": ins, "first": 2}),
    ("a page size out of range", "practitioner", CONSULTATION, lambda ins: {"ins": ins, "first": 0}),
    ("a page size out of range, written in the document", "practitioner",
     "query C($ins: String!) { patientRecord(ins: $ins) { allergies(first: 1000) { edges { node { id } } }"
     " medications(first: 1) { edges { node { title } } } } }",
     lambda ins: {"ins": ins}),
    ("a cursor that is not one", "practitioner",
     'query C($ins: String!) { patientRecord(ins: $ins) { allergies(after: "x") {'
     " edges { node { id } } } } }",
     lambda ins: {"ins": ins}),
    ("no access", "practitioner", CONSULTATION, lambda ins: {"ins": factories.new_ins()}),
    ("an invalid INS", "practitioner", CONSULTATION, lambda ins: {"ins": "123"}),
    ("the patient's own record", "patient", OWN_RECORD, lambda ins: {}),
    ("a section refused to a caller without a record", "practitioner", OWN_RECORD, lambda ins: {}),
    ("a mutation with plain arguments", "patient",
     "mutation { setEmergencyPreferences(allowRegulatorAccess: false, allowBreakGlass: true) {"
     " __typename } }",
     lambda ins: {}),
    ("nobody signed in", "nobody", CONSULTATION, lambda ins: {"ins": ins, "first": 2}),
]


def replaced_fields() -> list[Any]:
    return [
        field
        for graphql_type in schema._schema.type_map.values()
        if isinstance(graphql_type, GraphQLObjectType)
        for field in graphql_type.fields.values()
        if hasattr(field, STRAWBERRY_RESOLVE)
    ]


def test_the_fields_that_qualify_and_those_that_do_not() -> None:
    query, mutation = schema._schema.query_type, schema._schema.mutation_type
    assert mutation is not None
    record = schema._schema.type_map["PatientRecord"]
    assert isinstance(record, GraphQLObjectType)
    direct = {name for name, f in record.fields.items() if hasattr(f, STRAWBERRY_RESOLVE)}
    # Every section field (first, after, includeSuperseded) and the emergency profile.
    assert {"allergies", "medications", "documents", "emergencyProfile"} <= direct
    assert hasattr(query.fields["patientRecord"], STRAWBERRY_RESOLVE)
    # An enum argument (Section, CodeChannel) or an input object keeps strawberry's conversion.
    assert not hasattr(mutation.fields["grantAccess"], STRAWBERRY_RESOLVE)
    assert not hasattr(mutation.fields["setCodeChannel"], STRAWBERRY_RESOLVE)
    assert not hasattr(mutation.fields["importCareHistory"], STRAWBERRY_RESOLVE)
    # Plain attributes have no resolver to replace.
    page_info = schema._schema.type_map["PageInfo"]
    assert isinstance(page_info, GraphQLObjectType)
    assert not hasattr(page_info.fields["hasNextPage"], STRAWBERRY_RESOLVE)


@pytest.mark.parametrize("case", [c[0] for c in CASES])
async def test_same_answer_as_strawberrys_resolvers(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    _, who, query, variables_of = next(c for c in CASES if c[0] == case)
    patient, record, account = await shared_record()
    await factories.entry(record, Section.MEDICATIONS, title="Amoxicilline", days_ago=2)
    session = {"patient": patient, "practitioner": account}.get(who)
    caller = Caller(client, session=await session_for(session) if session else None)
    variables = variables_of(record.ins)

    answers = []
    for turn in range(2):
        if turn:  # strawberry's resolvers, through graphql-core's own `execute_field`
            for field in replaced_fields():
                monkeypatch.setattr(field, "resolve", getattr(field, STRAWBERRY_RESOLVE))
                monkeypatch.setattr(field, ASYNC_RESOLVE, False)
        # Twice per turn: the second time, argument values written in the document are reused.
        for _ in range(2):
            # Each time starts from the same record: the mutation's change is made again.
            await Record.filter(id=record.id).update(allow_regulator=True, allow_break_glass=True)
            events = await AccessEvent.all().count()
            result = await caller.gql(query, variables)
            answers.append((result.status, result.response.json(), await AccessEvent.all().count() - events))
    assert answers[0] == answers[1] == answers[2] == answers[3]
    if case == "a consultation":  # the arguments reached the resolver, by their Python names
        data = answers[0][1]["data"]["patientRecord"]
        assert [e["node"]["title"] for e in data["allergies"]["edges"]] == ["Pollen", "Arachide"]
        assert data["medications"]["pageInfo"]["hasNextPage"] is True
        assert data["vaccinations"] is None
