"""A value written in the document itself (not as a variable) that the schema refuses is not
quoted back: the message says where and why (the type, the field), never what the value holds,
as for a refused variable. A care item typed inline is a patient's data."""

from __future__ import annotations

import httpx
import pytest

from backend.schema import direct
from backend.schema.limits import without_value
from tests import factories
from tests.conftest import Caller, session_for

SECRET_WORDS = ("Sérologie", "S\\u00e9rologie", "VIH", "Infection", "positive")

# Each document, with what its refusal must still name.
CASES = {
    "a required field missing": (
        'mutation { addEntry(input: {ins: "{ins}", title: "Sérologie VIH positive", date: "2026-01-01",'
        ' medicalHistory: {condition: "Infection VIH"}}) { __typename } }',
        ("AddEntryInput", "'section'"),
    ),
    "a date that is none": (
        'mutation { addEntry(input: {ins: "{ins}", section: MEDICAL_HISTORY, title: "t", date: "VIH 2026"})'
        ' { __typename } }',
        ("Date",),
    ),
    "an unknown field": (
        'mutation { addEntry(input: {ins: "{ins}", section: MEDICAL_HISTORY, titre: "Sérologie VIH positive",'
        ' title: "t", date: "2026-01-01"}) { __typename } }',
        ("AddEntryInput", "'titre'"),
    ),
    "a text for an object": (
        'mutation { addEntry(input: {ins: "{ins}", section: MEDICAL_HISTORY, title: "t", date: "2026-01-01",'
        ' medicalHistory: "Infection VIH"}) { __typename } }',
        ("MedicalHistoryInput", "object"),
    ),
    "a name for a text": (
        'mutation { addEntry(input: {ins: "{ins}", section: MEDICAL_HISTORY, title: SEROLOGIE_VIH_POSITIVE,'
        ' date: "2026-01-01"}) { __typename } }',
        ("String",),
    ),
    "an unknown section": (
        'mutation { addEntry(input: {ins: "{ins}", section: VIH_POSITIVE, title: "t", date: "2026-01-01"})'
        ' { __typename } }',
        ("Section",),
    ),
    "a text for a number": (
        '{ patientRecord(ins: "{ins}") { medications(first: "VIH positive") { totalCount } } }',
        ("Int",),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_a_refused_literal_is_not_quoted_back(client: httpx.AsyncClient, case: str) -> None:
    _, record = await factories.patient()
    doctor, _ = await factories.practitioner()
    document, named = CASES[case]
    query = document.replace("{ins}", record.ins)
    # The short path (schema/direct.py) does not take it: the full pipeline answers.
    assert direct.prepare(query, None) is None
    caller = Caller(client, session=await session_for(doctor))
    # Twice: the second answer comes from the validation cache, which keeps the errors.
    for _ in range(2):
        result = await caller.gql(query)
        body = result.response.text
        for word in (*SECRET_WORDS, record.ins):
            assert word not in body, (word, body)
        errors = result.errors
        assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"] * len(errors)
        message = errors[0]["message"]
        for name in named:
            assert name in message, (name, message)
        assert "found:" not in message.lower() and '"' not in message, message


@pytest.mark.parametrize(("message", "said"), [
    # A leaf type's refusal of a literal, and a variable's: the value after "value: " is cut.
    ("Int cannot represent non-integer value: \"VIH positive\"", "Int cannot represent non-integer value."),
    ("Variable '$n' has invalid value: Int cannot represent non-integer value: \"VIH value: x\"",
     "Variable '$n' has invalid value: Int cannot represent non-integer value."),
    # The first "found:" is graphql-core's: one inside the value cuts nothing more.
    ("Expected value of type 'LabResultInput' to include required field 'unit', found: "
     "{value: \"VIH\", note: \"found: VIH\"}.",
     "Expected value of type 'LabResultInput' to include required field 'unit'."),
    # A scalar's own error, quoted by graphql-core: kept only if it quotes nothing.
    ("Expected value of type 'Date!', but encountered error 'Invalid isoformat string: 'VIH''; "
     "found: \"VIH\".",
     "Expected value of type 'Date!'."),
    ("Expected value of type 'Date!', but encountered error 'day is out of range for month'; found: \"x\".",
     "Expected value of type 'Date!': day is out of range for month."),
    # An enum's suggestion stays (cut later for a caller refused the schema), never the value.
    ("Enum 'Section' cannot represent non-enum value: \"VIH\". Did you mean the enum value 'VACCINATIONS'?",
     "Enum 'Section' cannot represent non-enum value. Did you mean the enum value 'VACCINATIONS'?"),
    # A syntax error names the kind of token, not its text, a name's neither (text pasted with
    # an unescaped quote reads as names).
    ("Syntax Error: Expected Name, found String 'VIH positive'.",
     "Syntax Error: Expected Name, found String."),
    ("Syntax Error: Expected ':', found Name 'positive'.", "Syntax Error: Expected ':', found Name."),
    # A variable's object key that no field could be named is not quoted; a GraphQL name is.
    ("Variable '$i' has invalid value: Expected value of type 'AddEntryInput' not to include "
     "unknown field 'Sérologie VIH positive'.",
     "Variable '$i' has invalid value: Expected value of type 'AddEntryInput' not to include "
     "an unknown field."),
    ("Expected value of type 'AddEntryInput' not to include unknown field 'titre'.",
     "Expected value of type 'AddEntryInput' not to include unknown field 'titre'."),
    ("Syntax Error: Expected ':', found '}'.", "Syntax Error: Expected ':', found '}'."),
    # Messages that quote no value are left alone.
    ("Cannot query field 'x' on type 'Query'.", "Cannot query field 'x' on type 'Query'."),
    ("Variable '$x' of required type 'Int!' was not provided.",
     "Variable '$x' of required type 'Int!' was not provided."),
])
def test_the_value_is_cut_from_each_kind_of_refusal(message: str, said: str) -> None:
    assert without_value(message) == said
    assert without_value(said) == said  # the same again: the validation cache keeps the message cut


async def test_a_syntax_error_does_not_quote_the_text_it_did_not_expect(client: httpx.AsyncClient) -> None:
    # Parse errors are answered before the masking step: the view cuts them.
    _, record = await factories.patient()
    doctor, _ = await factories.practitioner()
    caller = Caller(client, session=await session_for(doctor))
    query = 'mutation { addEntry(input: {ins: "INS", "Sérologie VIH positive"}) { __typename } }'.replace(
        "INS", record.ins)
    result = await caller.gql(query)
    body = result.response.text
    for word in SECRET_WORDS:
        assert word not in body, (word, body)
    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["message"] == "Syntax Error: Expected Name, found String."


async def test_a_variables_key_and_a_pasted_quote_are_not_quoted_back(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    doctor, _ = await factories.practitioner()
    caller = Caller(client, session=await session_for(doctor))
    query = "mutation ($input: AddEntryInput!) { addEntry(input: $input) { __typename } }"
    keyed = await caller.gql(query, {"input": {
        "ins": record.ins, "section": "LAB_RESULTS", "title": "t", "date": "2020-01-01",
        "Sérologie VIH positive": "x"}})
    pasted = await caller.gql(
        'mutation { addEntry(input: {ins: "INS", section: MEDICAL_HISTORY, date: "2020-01-01",'
        ' title: "Sérologie "VIH positive" confirmée"}) { __typename } }'.replace("INS", record.ins))
    for result in (keyed, pasted):
        assert result.codes == ["BAD_USER_INPUT"]
        for word in SECRET_WORDS:
            assert word not in result.response.text, (word, result.response.text)
    assert "an unknown field" in keyed.errors[0]["message"]
