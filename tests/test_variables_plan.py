"""The variables of an accepted document, coerced by its plan (schema/variables.py), are
exactly what graphql-core's `get_variable_values` gives; anything the plan does not accept
is left to graphql-core, which reports it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    parse,
)
from graphql.execution.values import VariableValues, get_variable_values

from backend.schema import direct, variables
from backend.schema.root import schema

IMPORT = """mutation Import($items: [CareItemInput!]!) {
  importCareHistory(items: $items) { accepted rejected { index code } } }"""
READ = "query Read($ins: String!) { patientRecord(ins: $ins) { firstName } }"
PROFILE = """mutation Profile($input: EmergencyProfileInput!) {
  updateEmergencyProfile(input: $input) { emergencyProfile { bloodGroup } } }"""
HISTORY = """query History($first: Int!, $filter: AccessHistoryFilter) {
  myAccessHistory(first: $first, filter: $filter) { edges { node { id } } } }"""

ITEM: dict[str, Any] = {
    "ins": "255081416802538", "firstName": "Lou", "lastName": "Martin", "birthDate": "1955-08-14",
    "externalId": "X-1", "section": "MEDICATIONS", "code": "3400930000001", "title": "Doliprane",
    "date": "2024-03-01", "details": {"atc": "N02BE01", "quantity": 2, "nested": [1, {"a": None}]},
}

# (document, variables, whether they are valid)
CASES: list[tuple[str, dict[str, Any], bool]] = [
    (IMPORT, {"items": [ITEM, {**ITEM, "externalId": "X-2", "contactEmail": "lou@example.org"}]}, True),
    (IMPORT, {"items": []}, True),
    (IMPORT, {"items": ITEM}, True),  # a single value is a list of one
    (IMPORT, {"items": [{k: v for k, v in ITEM.items() if k not in ("code", "details")}]}, True),
    (IMPORT, {"items": [{**ITEM, "details": None, "contactEmail": None}]}, True),
    (IMPORT, {"items": [ITEM], "unused": 1}, True),
    (IMPORT, {}, False),
    (IMPORT, {"items": None}, False),
    (IMPORT, {"items": [None]}, False),
    (IMPORT, {"items": [{**ITEM, "title": None}]}, False),
    (IMPORT, {"items": [{k: v for k, v in ITEM.items() if k != "title"}]}, False),
    (IMPORT, {"items": [{**ITEM, "unknown": 1}]}, False),
    (IMPORT, {"items": [{**ITEM, "section": "NOPE"}]}, False),
    (IMPORT, {"items": [{**ITEM, "date": "2024-13-01"}]}, False),
    (IMPORT, {"items": [{**ITEM, "title": 5}]}, False),
    (IMPORT, {"items": ["text"]}, False),
    (IMPORT, {"items": "text"}, False),
    (READ, {"ins": "255081416802538"}, True),
    (READ, {"ins": ""}, True),
    (READ, {"ins": 5}, False),
    (READ, {"ins": ["a"]}, False),
    (READ, {"ins": None}, False),
    (PROFILE, {"input": {"bloodGroup": "A+"}}, True),
    (PROFILE, {"input": {}}, True),
    (PROFILE, {"input": {"emergencyContacts": [{"name": "A", "phone": "0600000000"}]}}, True),
    (PROFILE, {"input": {"emergencyContacts": [{"name": "A"}]}}, False),
    (PROFILE, {"input": {"bloodGroup": 3}}, False),
    (HISTORY, {"first": 5, "filter": {"actions": "RECORD_READ", "from": "2024-01-01T00:00:00+00:00"}}, True),
    (HISTORY, {"first": 5, "filter": None}, True),
    (HISTORY, {"first": 2.5}, False),
    (HISTORY, {"first": True}, False),
    (HISTORY, {"first": 5, "filter": {"actions": ["NOPE"]}}, False),
    (HISTORY, {"first": 5, "filter": {"from": "yesterday"}}, False),
]


def _graphql_core(prepared: direct.Prepared, inputs: dict[str, Any]) -> Any:
    assert prepared.executable is not None
    return get_variable_values(
        schema._schema, prepared.executable.operation.variable_definitions or (), inputs,
        max_errors=50,
    )


def _same(ours: VariableValues, theirs: VariableValues) -> None:
    assert ours.coerced == theirs.coerced
    assert list(ours.coerced) == list(theirs.coerced)
    assert ours.sources.keys() == theirs.sources.keys()
    for name, source in ours.sources.items():
        other = theirs.sources[name]
        # Type wrappers are made anew for each signature: compared by what they print.
        assert (source.signature.name, str(source.signature.type), source.signature.default) == (
            other.signature.name, str(other.signature.type), other.signature.default
        )
        assert source.value is other.value


@pytest.mark.parametrize("case", range(len(CASES)))
def test_the_plan_coerces_as_graphql_core(case: int) -> None:
    query, inputs, valid = CASES[case]
    prepared = direct.prepare(query, None)
    assert prepared is not None and prepared.executable is not None
    theirs = _graphql_core(prepared, inputs)
    ours = prepared.executable.variables.coerce(inputs)
    if valid:
        assert isinstance(theirs, VariableValues), theirs
        assert ours is not None
        _same(ours, theirs)
    else:
        assert isinstance(theirs, list) and theirs  # graphql-core's errors
        assert ours is None  # left to graphql-core


def test_a_variable_with_a_default_is_left_to_graphql_core() -> None:
    query = "query H($first: Int! = 3) { myAccessHistory(first: $first) { edges { cursor } } }"
    prepared = direct.prepare(query, None)
    assert prepared is not None
    assert variables.plan(schema._schema, parse(query).definitions[0]) is None  # type: ignore[arg-type]
    assert prepared.executable is None  # the executor is built by graphql-core


def _schema_with(input_type: GraphQLInputObjectType) -> GraphQLSchema:
    return GraphQLSchema(GraphQLObjectType("Query", {
        "f": GraphQLField(GraphQLString, args={"x": input_type}),  # type: ignore[dict-item]
    }))


def test_an_input_type_within_itself_is_left_to_graphql_core() -> None:
    """Its values' nesting has no bound the plan could check, as graphql-core does."""
    node: GraphQLInputObjectType = GraphQLInputObjectType(
        "Node", lambda: {"next": GraphQLInputField(node), "name": GraphQLInputField(GraphQLString)}
    )
    test_schema = _schema_with(node)
    operation = parse("query Q($x: Node) { f(x: $x) }").definitions[0]
    assert variables.plan(test_schema, operation) is None  # type: ignore[arg-type]


def test_a_one_of_input_is_left_to_graphql_core() -> None:
    choice = GraphQLInputObjectType(
        "Choice", {"a": GraphQLInputField(GraphQLString), "b": GraphQLInputField(GraphQLString)},
        is_one_of=True,
    )
    test_schema = _schema_with(choice)
    operation = parse("query Q($x: Choice) { f(x: $x) }").definitions[0]
    assert variables.plan(test_schema, operation) is None  # type: ignore[arg-type]


def test_lists_of_lists_coerce_as_graphql_core() -> None:
    matrix = GraphQLInputObjectType("M", {"rows": GraphQLInputField(
        GraphQLList(GraphQLNonNull(GraphQLList(GraphQLString))))})
    test_schema = _schema_with(matrix)
    operation: Any = parse("query Q($x: M) { f(x: $x) }").definitions[0]
    plan = variables.plan(test_schema, operation)
    assert plan is not None
    for value in ({"rows": [["a", None], "b", []]}, {"rows": "a"}, {"rows": None}, {}):
        theirs = get_variable_values(test_schema, operation.variable_definitions, {"x": value})
        ours = plan.coerce({"x": value})
        assert isinstance(theirs, VariableValues) and ours is not None
        assert ours.coerced == theirs.coerced
    for value in ({"rows": [None]}, {"rows": [[1]]}, {"rows": [[["a"]]]}):
        refused = get_variable_values(test_schema, operation.variable_definitions, {"x": value})
        assert isinstance(refused, list)
        assert plan.coerce({"x": value}) is None


async def test_a_refused_variable_is_named_without_quoting_its_value(client: httpx.AsyncClient) -> None:
    """graphql-core quotes a refused value whole in its message (a care item, with the
    patient's INS, name and birth date): the answer says where and why, not what."""
    from tests.care_items import IMPORT, insurer_token, medication_item
    from tests.conftest import Caller

    insurer = Caller(client, token=await insurer_token())
    item = medication_item("285067512345639", 1, firstName="Zoélie")
    del item["title"]
    refused = await insurer.gql(IMPORT, {"items": [medication_item("285067512345639", 0), item]})
    assert refused.codes == ["BAD_USER_INPUT"] and refused.data is None
    message = refused.errors[0]["message"]
    assert message == (
        "Variable '$items' has invalid value at [1]: "
        "Expected value of type 'CareItemInput' to include required field 'title'."
    )
    extra = {**medication_item("285067512345639", 2), "note": "Zoélie"}
    message = (await insurer.gql(IMPORT, {"items": [extra]})).errors[0]["message"]
    assert "Zoélie" not in message and "285067512345639" not in message and "'note'" in message
    message = (await insurer.gql(
        "query($n: Int) { myAccessHistory(first: $n) { edges { cursor } } }", {"n": "Zoélie"}
    )).errors[0]["message"]
    assert "Zoélie" not in message and message.startswith("Variable '$n' has invalid value")
    # A scalar's or an enum's own refusal quotes the value too: a birth date, a word typed.
    birth = medication_item("285067512345639", 3, birthDate="1985-02-29")
    message = (await insurer.gql(IMPORT, {"items": [birth]})).errors[0]["message"]
    assert message == (
        "Variable '$items' has invalid value at [0].birthDate: "
        "Value cannot represent a Date: day is out of range for month."
    )
    typed = medication_item("285067512345639", 4, date="Zoélie")
    message = (await insurer.gql(IMPORT, {"items": [typed]})).errors[0]["message"]
    assert message == "Variable '$items' has invalid value at [0].date: Value cannot represent a Date."
    section = medication_item("285067512345639", 5, section="ZOÉLIE")
    message = (await insurer.gql(IMPORT, {"items": [section]})).errors[0]["message"]
    assert "ZOÉLIE" not in message
    assert message.startswith(
        "Variable '$items' has invalid value at [0].section: Value does not exist in 'Section' enum."
    )
