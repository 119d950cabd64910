"""Documents run without the extension pipeline (schema/direct.py) answer as through it.

Each request is sent twice: once as the server runs it (an accepted document skips
strawberry's extension pipeline), once with that path turned off. Status, body and the
access events written must be the same; and the short path must really have been taken
for accepted documents, and not for the others.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from backend.domain.enums import Section
from backend.graphql_view import GraphQLView
from backend.models import AccessEvent, Account, Grant, Record
from backend.schema import direct
from tests import factories
from tests.conftest import Caller, session_for

READ = """query Read($ins: String!) { patientRecord(ins: $ins) {
  firstName sectionAccess { section mode }
  allergies(first: 2) { totalCount edges { cursor node { id title date ... on AllergyEntry { substance } } }
                        pageInfo { hasNextPage endCursor } }
  medications { edges { node { __typename id } } }
  emergencyProfile { bloodGroup } } }"""

# (name, query, variables as a function of the record's INS, taken by the short path)
CASES: list[tuple[str, str, Any, bool]] = [
    ("a consultation", READ, lambda ins: {"ins": ins}, True),
    ("a refusal (no access)", READ, lambda ins: {"ins": factories.new_ins()}, True),
    ("an invalid INS", READ, lambda ins: {"ins": "123"}, True),
    ("a missing variable", READ, lambda ins: {}, False),
    ("a variable of the wrong type", READ, lambda ins: {"ins": 5}, False),
    ("a validation error", "{ patientRecord(ins: 1) { nope } }", lambda ins: {}, False),
    ("a syntax error", "{ patientRecord(", lambda ins: {}, False),
    ("two operations, none named", "query A { me { id } } query B { me { role } }", lambda ins: {}, False),
    ("a mutation", "mutation { setCodeChannel(channel: EMAIL) }", lambda ins: {}, True),
]


async def shared_record() -> tuple[Account, Record, Account]:
    """A patient's record with three allergies (one masked) and a medication, shared with a
    practitioner for those two sections: (the patient, the record, the practitioner)."""
    patient, record = await factories.patient()
    await factories.entry(record, Section.ALLERGIES, title="Pollen", substance="pollen")
    await factories.entry(record, Section.ALLERGIES, title="Arachide", days_ago=3)
    await factories.entry(record, Section.ALLERGIES, title="Lait", days_ago=5, masked=True)
    await factories.entry(record, Section.MEDICATIONS, title="Doliprane")
    account, practitioner = await factories.practitioner()
    await Grant.create(record_id=record.id, practitioner_id=practitioner.id,
                       sections=[Section.ALLERGIES.value, Section.MEDICATIONS.value])
    return patient, record, account


def _without_short_path(monkeypatch: pytest.MonkeyPatch) -> None:
    async def none(self: GraphQLView, request: Any) -> None:
        return None

    monkeypatch.setattr(GraphQLView, "_run_prepared", none)


@pytest.mark.parametrize("case", [c[0] for c in CASES])
async def test_same_answer_with_and_without_the_short_path(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    _, query, variables_of, short = next(c for c in CASES if c[0] == case)
    _, record, account = await shared_record()
    caller = Caller(client, session=await session_for(account))
    variables = variables_of(record.ins)

    taken: list[bool] = []
    execute = direct.execute

    async def counting(*args: Any, **kwargs: Any) -> Any:
        result = await execute(*args, **kwargs)
        taken.append(result is not None)
        return result

    monkeypatch.setattr(direct, "execute", counting)
    events = await AccessEvent.all().count()
    first = await caller.gql(query, variables)
    first_events = await AccessEvent.all().count() - events
    assert any(taken) is short

    _without_short_path(monkeypatch)
    taken.clear()
    events = await AccessEvent.all().count()
    second = await caller.gql(query, variables)
    second_events = await AccessEvent.all().count() - events
    assert not taken

    assert first.status == second.status
    assert first.response.json() == second.response.json()
    assert first.response.headers["content-type"] == second.response.headers["content-type"]
    assert first_events == second_events


async def test_an_unexpected_error_is_masked_on_the_short_path(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A resolver's own bug is INTERNAL with no detail, as the masking extension does."""
    from backend.resolvers import records

    _, record = await factories.patient()
    account, practitioner = await factories.practitioner()
    await Grant.create(record_id=record.id, practitioner_id=practitioner.id,
                       sections=[Section.ALLERGIES.value])
    caller = Caller(client, session=await session_for(account))

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(records, "cursor_of", broken)
    await factories.entry(record, Section.ALLERGIES, title="Pollen")
    answers = []
    for turn in range(2):
        if turn:
            _without_short_path(monkeypatch)
        result = await caller.gql(READ, {"ins": record.ins})
        assert result.codes == ["INTERNAL"]
        assert "secret" not in result.response.text
        answers.append(result.response.json())
    assert answers[0] == answers[1]


async def test_cookies_set_by_a_resolver_leave_with_the_response(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`logout` clears the session cookie: the header is there on both paths, alike."""
    account, _ = await factories.patient()
    cleared = []
    for turn in range(2):
        if turn:
            _without_short_path(monkeypatch)
        result = await Caller(client, session=await session_for(account)).gql("mutation { logout }")
        assert result.ok() == {"logout": True}
        # The `expires` date is the clock's second: two requests may straddle one.
        headers = result.response.headers.get_list("set-cookie")
        cleared.append([re.sub(r"expires=[^;]*; ", "", header) for header in headers])
    assert cleared[0] and cleared[0] == cleared[1]
    assert all("Max-Age=0" in header for header in cleared[0])


def test_the_schema_has_no_incremental_delivery() -> None:
    """`direct.execute` runs graphql-core's executor without `execute`, whose one check
    besides is that the schema has neither @defer nor @stream; so must this schema."""
    from backend.schema.root import schema

    assert schema._schema.get_directive("defer") is None
    assert schema._schema.get_directive("stream") is None


@pytest.mark.parametrize("accept", [
    "", "application/json", "application/graphql-response+json", "*/*",
    "multipart/mixed", "multipart/mixed;subscriptionSpec=1.0, application/json",
    "text/event-stream", "application/json, text/event-stream",
])
@pytest.mark.parametrize("protocols", [None, ("multipart-subscription", "graphql-sse")])
def test_the_stream_check_is_strawberrys(accept: str, protocols: tuple[str, ...] | None) -> None:
    """The short path leaves to strawberry the requests that ask for a streamed response,
    deciding it as strawberry does: with the product's view (no stream transport, so none
    does) and with one serving both of strawberry's stream protocols."""
    from starlette.requests import Request

    from backend.schema.root import schema

    view = GraphQLView(schema) if protocols is None else GraphQLView(schema, subscription_protocols=protocols)
    assert bool(view._stream_transport_map) is (protocols is not None)
    headers = [(b"accept", accept.encode())] if accept else []
    request = Request({"type": "http", "method": "POST", "headers": headers})
    assert view._streams(request) is (
        view._get_stream_transport_from_headers(request.headers) is not None
    )
