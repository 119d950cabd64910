"""The request line's `error_codes`: the sorted distinct `extensions.code` of the errors a
request was answered, so that an operator can count refusals answered with HTTP 200
(RATE_LIMITED, FORBIDDEN, …) without reading bodies. Real requests through the
application, on both execution paths (an accepted document's short path, schema/direct.py,
and strawberry's pipeline), and the refusals the view answers itself. Codes only: never a
message, a path or a variable, which may quote an INS or a name.

The lines are read as the records `logs.request_line` gives a handler added on `dmp.http`
(its logging-module branch), formatted as the service's handler writes them; the direct
write is checked with the same fields by tests/test_request_line.py."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from backend import logs
from backend.errors import PublicError
from backend.graphql_view import GraphQLView
from backend.models import AccessEvent
from backend.resolvers import records
from backend.schema import direct
from tests import factories, log_lines
from tests.conftest import ORIGIN, Caller, GraphQLResult, session_for
from tests.log_lines import Lines

# The fixtures of tests/log_lines.py.
lines = log_lines.lines
taken = log_lines.taken

READ = "query ReadRecord($ins: String!) { patientRecord(ins: $ins) { firstName lastName } }"


async def named(caller: Caller, query: str, variables: dict[str, Any], name: str) -> GraphQLResult:
    """A request as a client that names its operation sends it (`operationName`: the line's
    `operation`)."""
    caller.client.cookies.clear()
    for key, value in caller.cookies().items():
        caller.client.cookies.set(key, value)
    response = await caller.client.post(
        "/graphql", json={"query": query, "variables": variables, "operationName": name},
        headers=caller.headers(),
    )
    return GraphQLResult(response)


def _pipeline_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every request through strawberry's pipeline, as a document the short path does not
    take is run."""

    async def none(self: GraphQLView, request: Any) -> None:
        return None

    monkeypatch.setattr(GraphQLView, "_run_prepared", none)


PATHS = ["short path", "pipeline"]


def _on(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if path == "pipeline":
        _pipeline_only(monkeypatch)


def _check_path(path: str, taken: list[bool], requests: int = 1) -> None:
    """Each of the last `requests` ran on the path the test asked for."""
    assert taken == ([True] * requests if path == "short path" else [])


@pytest.mark.parametrize("path", PATHS)
async def test_a_request_answered_without_error_has_no_codes(
    client: httpx.AsyncClient, lines: Lines, taken: list[bool], monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    account, record = await factories.patient()
    _on(path, monkeypatch)
    caller = Caller(client, session=await session_for(account))
    result = await named(caller, READ, {"ins": record.ins}, "ReadRecord")
    assert result.ok()["patientRecord"]["firstName"] == "Alice"
    _check_path(path, taken)
    line = lines.last()
    assert line["status"] == 200 and line["operation"] == "ReadRecord" and line["operation_type"] == "query"
    assert "error_codes" not in line  # left out, not null


@pytest.mark.parametrize("path", PATHS)
async def test_a_forbidden_patient_record(
    client: httpx.AsyncClient, lines: Lines, taken: list[bool], monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    _, record = await factories.patient()
    account, _ = await factories.practitioner()
    _on(path, monkeypatch)
    caller = Caller(client, session=await session_for(account))
    result = await named(caller, READ, {"ins": record.ins}, "ReadRecord")
    assert result.status == 200 and result.codes == ["FORBIDDEN"]
    _check_path(path, taken)
    line = lines.last()
    assert line["status"] == 200 and line["operation"] == "ReadRecord"
    assert line["error_codes"] == ["FORBIDDEN"]


@pytest.mark.parametrize("path", PATHS)
async def test_a_rate_limited_answer(
    client: httpx.AsyncClient, lines: Lines, taken: list[bool], monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    from backend.schema import extensions

    async def no_wait(since: float) -> None:
        return None

    monkeypatch.setattr(extensions, "answer_no_sooner", no_wait)
    monkeypatch.setattr(records, "REFUSED_READS_PER_HOUR", 1)
    _, record = await factories.patient()
    account, _ = await factories.practitioner()
    caller = Caller(client, session=await session_for(account))
    _on(path, monkeypatch)
    assert (await caller.gql(READ, {"ins": record.ins})).codes == ["FORBIDDEN"]
    written = await AccessEvent.all().count()
    limited = await named(caller, READ, {"ins": record.ins}, "ReadRecord")
    assert limited.status == 200 and limited.codes == ["RATE_LIMITED"]
    assert await AccessEvent.all().count() == written  # past the bound: nothing written
    _check_path(path, taken, requests=2)
    assert [line.get("error_codes") for line in lines.lines[-2:]] == [["FORBIDDEN"], ["RATE_LIMITED"]]
    assert lines.last()["operation"] == "ReadRecord"


@pytest.mark.parametrize("path", PATHS)
async def test_a_partial_answer_names_the_fields_codes_sorted_and_distinct(
    client: httpx.AsyncClient, lines: Lines, taken: list[bool], monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    """Data and errors in one answer: the codes of the fields that failed, each once."""
    _, record = await factories.patient()
    account, _ = await factories.practitioner()
    query = """query Partial($ins: String!, $other: String!, $bad: String!) {
      me { id }
      a: patientRecord(ins: $ins) { firstName }
      b: patientRecord(ins: $other) { firstName }
      c: patientRecord(ins: $bad) { firstName } }"""
    _on(path, monkeypatch)
    result = await Caller(client, session=await session_for(account)).gql(
        query, {"ins": record.ins, "other": factories.new_ins(), "bad": "123"}
    )
    assert result.status == 200 and result.data is not None
    assert result.data["me"] == {"id": str(account.id)}
    assert sorted(result.codes, key=str) == ["BAD_USER_INPUT", "FORBIDDEN", "FORBIDDEN"]
    _check_path(path, taken)
    assert lines.last()["error_codes"] == ["BAD_USER_INPUT", "FORBIDDEN"]


async def test_a_malformed_document(client: httpx.AsyncClient, lines: Lines, taken: list[bool]) -> None:
    """Not prepared (the short path takes only accepted documents): the pipeline answers it."""
    account, _ = await factories.patient()
    caller = Caller(client, session=await session_for(account))
    result = await caller.gql("{ patientRecord(")
    assert taken == []
    assert result.data is None and result.codes == ["BAD_USER_INPUT"]
    line = lines.last()
    assert line["error_codes"] == ["BAD_USER_INPUT"] and line["operation_type"] is None
    # A document graphql's rules refuse, and a variable of the wrong type, alike.
    for query, variables in (("{ me { nope } }", {}), (READ, {"ins": 5})):
        result = await caller.gql(query, variables)
        assert result.codes == ["BAD_USER_INPUT"] and lines.last()["error_codes"] == ["BAD_USER_INPUT"]
    assert taken == [False]  # the variable refused on the short path: the pipeline answered


async def test_a_document_is_taken_by_the_short_path_from_its_first_request(
    client: httpx.AsyncClient, lines: Lines, taken: list[bool]
) -> None:
    """An accepted document runs on the short path at once (`direct.prepare` checks it, as
    the extensions would, and remembers it): the first and the next answers carry the same
    codes, and only a request refused before execution goes through the pipeline."""
    _, record = await factories.patient()
    account, _ = await factories.practitioner()
    caller = Caller(client, session=await session_for(account))
    query = "query Fresh($ins: String!) { patientRecord(ins: $ins) { firstName birthDate } }"
    direct.prepare.cache_clear()  # type: ignore[attr-defined]
    for _ in range(2):
        assert (await caller.gql(query, {"ins": record.ins})).codes == ["FORBIDDEN"]
    assert taken == [True, True]
    assert [line["error_codes"] for line in lines.lines] == [["FORBIDDEN"], ["FORBIDDEN"]]


INS = "185057512345678"
NAME = "Dupontel"


@pytest.mark.parametrize("path", PATHS)
async def test_an_errors_message_never_reaches_the_line(
    client: httpx.AsyncClient, lines: Lines, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    """Messages that quote an INS or a name, from the request or from a resolver: the line
    has the codes only; a code that is not a name in capitals is written OTHER."""
    account, record = await factories.patient(last_name=NAME)
    caller = Caller(client, session=await session_for(account))
    _on(path, monkeypatch)

    # The caller's own values: a value typed in the query is not quoted back (the refusal says
    # where and why); a name the schema does not have is.
    quoted = await caller.gql(f"{{ patientRecord(ins: {INS}) {{ firstName }} }}")
    assert quoted.codes == ["BAD_USER_INPUT"] and INS not in quoted.response.text
    unknown = await caller.gql(f"{{ me {{ {NAME} }} }}")
    assert NAME in unknown.response.text

    # A resolver's refusal whose message, reason and code all hold data.
    class Leaky(PublicError):
        code = f"{NAME} {INS}"

    def leaky(*args: Any, **kwargs: Any) -> Any:
        raise Leaky(f"{NAME} {INS} {record.ins}", reason=f"{NAME}_{INS}")

    monkeypatch.setattr(records, "cursor_of", leaky)
    from backend.domain.enums import Section

    await factories.entry(record, Section.ALLERGIES, title=f"{NAME} allergy")
    leaked = await caller.gql(
        "query Mine($ins: String!) { patientRecord(ins: $ins) { firstName allergies { edges { cursor } } } }",
        {"ins": record.ins},
    )
    assert leaked.codes == [f"{NAME} {INS}"] and record.ins in leaked.response.text
    assert leaked.data is not None  # a field failed, the rest answered

    codes = [line["error_codes"] for line in lines.lines]
    assert codes == [["BAD_USER_INPUT"], ["BAD_USER_INPUT"], ["OTHER"]]
    for text in lines.texts:
        for secret in (INS, NAME, record.ins, "Alice", "allergies", "cursor", "ins"):
            assert secret not in text


async def test_the_views_own_refusals(client: httpx.AsyncClient, lines: Lines) -> None:
    """Refusals the view answers before any GraphQL execution: a cross-origin request with a
    session cookie, a bearer token that names no session, a body that is not JSON."""
    from backend import config

    account, record = await factories.patient()
    session = await session_for(account)
    client.cookies.set(config.settings().session_cookie, session)
    foreign = await client.post(
        "/graphql", json={"query": READ, "variables": {"ins": record.ins}},
        headers={"origin": "https://elsewhere.example"},
    )
    client.cookies.clear()
    assert foreign.status_code == 403 and foreign.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert lines.last()["status"] == 403 and lines.last()["error_codes"] == ["FORBIDDEN"]

    refused = await Caller(client, token="not-a-token").gql(READ, {"ins": record.ins})
    assert refused.status == 401 and refused.codes == ["UNAUTHENTICATED"]
    assert lines.last()["status"] == 401 and lines.last()["error_codes"] == ["UNAUTHENTICATED"]

    broken = await client.post(
        "/graphql", content=b"{not json", headers={"content-type": "application/json", "origin": ORIGIN}
    )
    assert broken.status_code == 400 and broken.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert lines.last()["status"] == 400 and lines.last()["error_codes"] == ["BAD_USER_INPUT"]
    assert await AccessEvent.all().count() == 0  # nothing ran


def test_codes_are_distinct_sorted_at_most_ten_and_plain_names() -> None:
    assert logs.logged_codes(["RATE_LIMITED", "FORBIDDEN", "RATE_LIMITED"]) == ["FORBIDDEN", "RATE_LIMITED"]
    odd: list[object] = [
        None, 5, "", "forbidden", "RATE LIMITED", "A" * 42, "X\n", f"INS {INS}", "É", "_X", "1X",
    ]
    assert logs.logged_codes(odd) == ["OTHER"]
    assert logs.logged_codes(["A" * 41, "B2_C"]) == ["A" * 41, "B2_C"]
    many = [f"CODE_{n:02}" for n in range(30, 0, -1)]
    assert logs.logged_codes(many) == [f"CODE_{n:02}" for n in range(1, 11)]


@pytest.mark.parametrize("path", PATHS)
async def test_a_request_without_operation_name_is_logged_under_its_documents_name(
    client: httpx.AsyncClient, lines: Lines, taken: list[bool], monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    """The web page sends no `operationName`: its lines name the operation as the document
    does, on the short path as strawberry's pipeline names it, so that codes can be counted
    per operation."""
    _, record = await factories.patient()
    account, _ = await factories.practitioner()
    _on(path, monkeypatch)
    caller = Caller(client, session=await session_for(account))
    assert (await caller.gql(READ, {"ins": record.ins})).codes == ["FORBIDDEN"]
    assert (await caller.gql("{ me { id } }")).errors == []
    _check_path(path, taken, requests=2)
    assert [(line["operation"], line.get("error_codes")) for line in lines.lines] == [
        ("ReadRecord", ["FORBIDDEN"]), (None, None),
    ]
