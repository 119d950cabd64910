"""The request line names who made the request, by ids an operator can look up and no
secret: `caller` `token` and `caller_id` the partner token's id (as `dmp list-tokens` shows
it) for a bearer token, `caller` `session` and the account's id for a web session, neither
field for a request no one signed in made, or one refused before its caller was known (a
refused token, a cross-origin request, a body refused unread). So an operator who finds a
misused token finds the requests it made; the access history writes them under the
practitioner the token is bound to.

Real requests through the application, on both execution paths (an accepted document's
short path, schema/direct.py, and strawberry's pipeline). The lines are read as the records
`logs.request_line` gives a handler added on `dmp.http`, formatted as the service's handler
writes them; the direct write is checked with the same fields at the end."""

from __future__ import annotations

import io
import logging
import uuid
from typing import Any

import httpx
import orjson
import pytest
from asyncpg.pgproto import pgproto

from backend import accounts, config, logs
from backend.auth.viewer import ANONYMOUS, Viewer
from backend.domain.enums import Role, Section
from backend.graphql_view import GraphQLView
from backend.models import AccessEvent, ApiToken, Session
from backend.upload_limit import MAX_BODY
from tests import factories, log_lines
from tests.conftest import ORIGIN, TEST_DIR, Caller, GraphQLResult, session_for
from tests.document_samples import download, pdf, upload
from tests.history_helpers import grant
from tests.log_lines import Lines
from tests.server import dmp_server

# The fixtures of tests/log_lines.py.
lines = log_lines.lines
taken = log_lines.taken

READ = "query ReadRecord($ins: String!) { patientRecord(ins: $ins) { firstName lastName } }"
ME = "query Me { me { id } }"


PATHS = ["short path", "pipeline"]


def _on(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every request through strawberry's pipeline, as a document the short path does not
    take is run, for the `pipeline` case."""
    if path == "pipeline":

        async def none(self: GraphQLView, request: Any) -> None:
            return None

        monkeypatch.setattr(GraphQLView, "_run_prepared", none)


def _check_path(path: str, taken: list[bool]) -> None:
    assert taken == ([True] if path == "short path" else [])


def _no_caller(line: dict[str, Any]) -> None:
    """No caller named: both fields left out, not null."""
    assert "caller" not in line and "caller_id" not in line


def _holds_no_part_of(secret: str, text: str) -> None:
    """No 8 characters in a row of the secret (its prefix `dmp_…` included) in the text."""
    assert all(secret[at:at + 8] not in text for at in range(len(secret) - 7)), "a part of the secret"


@pytest.mark.parametrize("path", PATHS)
async def test_a_token_request_names_the_token_by_its_id_never_by_its_secret(
    client: httpx.AsyncClient, lines: Lines, taken: list[bool], monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    """A practitioner's partner application reads a record it was granted (S1): the line
    names the token, not the practitioner's account, and holds no part of the token."""
    _, record = await factories.patient()
    account, pro = await factories.practitioner()
    await grant(record, pro, Section.MEDICATIONS)
    row, token = await accounts.create_token("logiciel", ["practitioner"], practitioner_rpps=pro.rpps)
    _on(path, monkeypatch)
    result = GraphQLResult(await client.post(
        "/graphql", json={"query": READ, "variables": {"ins": record.ins}, "operationName": "ReadRecord"},
        headers={"authorization": f"Bearer {token}"},
    ))
    assert result.ok()["patientRecord"]["firstName"] == "Alice"
    _check_path(path, taken)
    line = lines.last()
    assert line["status"] == 200 and line["operation"] == "ReadRecord"
    assert (line["caller"], line["caller_id"]) == ("token", str(row.id))
    # The id `dmp list-tokens` shows, which `dmp revoke-token` takes.
    assert (await ApiToken.get(id=line["caller_id"])).name == "logiciel"
    text = lines.texts[-1]
    _holds_no_part_of(token, text)
    assert row.prefix not in text and row.token_hash not in text
    for private in (str(account.id), str(pro.id), pro.rpps, record.ins, str(record.id), "Alice"):
        assert private not in text


async def test_an_organizations_token_is_named_by_its_id(client: httpx.AsyncClient, lines: Lines) -> None:
    row, token = await accounts.create_token("import", ["insurer:import"], organization="CPAM Brest")
    assert (await Caller(client, token=token).gql(ME)).errors == []
    line = lines.last()
    assert (line["caller"], line["caller_id"]) == ("token", str(row.id))
    _holds_no_part_of(token, lines.texts[-1])
    assert "CPAM" not in lines.texts[-1] and "import" not in lines.texts[-1]


@pytest.mark.parametrize("path", PATHS)
async def test_a_session_request_names_the_account(
    client: httpx.AsyncClient, lines: Lines, taken: list[bool], monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    """The account's id: not the session's id, not its cookie."""
    account, record = await factories.patient()
    session = await session_for(account)
    _on(path, monkeypatch)
    result = await Caller(client, session=session).gql(READ, {"ins": record.ins})
    assert result.ok()["patientRecord"]["firstName"] == "Alice"
    _check_path(path, taken)
    line = lines.last()
    assert (line["caller"], line["caller_id"]) == ("session", str(account.id))
    text = lines.texts[-1]
    _holds_no_part_of(session, text)
    [stored] = await Session.filter(account_id=account.id)
    assert str(stored.id) not in text and stored.token_hash not in text
    assert account.email not in text and record.ins not in text


@pytest.mark.parametrize("path", PATHS)
async def test_an_anonymous_request_names_no_caller(
    client: httpx.AsyncClient, lines: Lines, taken: list[bool], monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    _on(path, monkeypatch)
    result = await Caller(client).gql(ME)
    assert result.ok()["me"] is None
    _check_path(path, taken)
    assert lines.last()["status"] == 200
    _no_caller(lines.last())
    # A cookie that names no session is no one either.
    result = await Caller(client, session="no-such-session").gql(ME)
    assert result.ok()["me"] is None
    _no_caller(lines.last())


async def test_a_refused_token_names_no_caller(client: httpx.AsyncClient, lines: Lines) -> None:
    """Unknown, revoked, or sent twice: 401 invalid_token, nothing run, no caller in the line,
    and no part of what was sent."""
    _, record = await factories.patient()
    _, pro = await factories.practitioner()
    await grant(record, pro, Section.MEDICATIONS)
    revoked, revoked_token = await accounts.create_token(
        "ancien", ["practitioner"], practitioner_rpps=pro.rpps
    )
    await ApiToken.filter(id=revoked.id).update(revoked_at=revoked.created_at)
    good, token = await accounts.create_token("logiciel", ["practitioner"], practitioner_rpps=pro.rpps)
    sent = ("dmp_not-a-token-at-all-0123456789", revoked_token)
    for bad in sent:
        refused = await Caller(client, token=bad).gql(READ, {"ins": record.ins})
        assert refused.status == 401 and refused.codes == ["UNAUTHENTICATED"]
        line = lines.last()
        assert line["status"] == 401 and line["error_codes"] == ["UNAUTHENTICATED"]
        _no_caller(line)
        _holds_no_part_of(bad, lines.texts[-1])
        assert str(revoked.id) not in lines.texts[-1]
    # A good token beside a bad one: which names the caller? Neither (viewer.resolve_viewer).
    twice = await client.post(
        "/graphql", json={"query": READ, "variables": {"ins": record.ins}},
        headers=[("authorization", f"Bearer {token}"), ("authorization", "Bearer dmp_other")],
    )
    assert twice.status_code == 401 and twice.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    _no_caller(lines.last())
    assert str(good.id) not in lines.texts[-1]
    assert await AccessEvent.all().count() == 0  # nothing ran


async def test_requests_refused_before_their_caller_is_known_name_none(
    client: httpx.AsyncClient, lines: Lines
) -> None:
    """A body over the limit refused unread (413) and a cross-origin request with a session
    cookie (403): the caller was never looked up. A body that is not JSON, sent with a good
    token, is refused once the caller is known: the line names it."""
    account, record = await factories.patient()
    session = await session_for(account)
    row, token = await accounts.create_token("import", ["insurer:import"], organization="CPAM Brest")

    too_large = await client.post(
        "/graphql", content=b" " * (MAX_BODY + 1),
        headers={"authorization": f"Bearer {token}", "content-type": "application/json", "origin": ORIGIN},
    )
    assert too_large.status_code == 413
    assert lines.last()["status"] == 413 and lines.last()["error_codes"] == ["BAD_USER_INPUT"]
    _no_caller(lines.last())

    client.cookies.set(config.settings().session_cookie, session)
    foreign = await client.post(
        "/graphql", json={"query": READ, "variables": {"ins": record.ins}},
        headers={"origin": "https://elsewhere.example"},
    )
    client.cookies.clear()
    assert foreign.status_code == 403 and lines.last()["error_codes"] == ["FORBIDDEN"]
    _no_caller(lines.last())

    broken = await client.post(
        "/graphql", content=b"{not json",
        headers={"authorization": f"Bearer {token}", "content-type": "application/json", "origin": ORIGIN},
    )
    assert broken.status_code == 400 and lines.last()["error_codes"] == ["BAD_USER_INPUT"]
    assert (lines.last()["caller"], lines.last()["caller_id"]) == ("token", str(row.id))
    assert await AccessEvent.all().count() == 0  # nothing ran


async def test_a_download_names_its_caller(client: httpx.AsyncClient, lines: Lines) -> None:
    """`GET /files/…` as `/graphql`: a session's account, a token by its id, nobody for a
    request no one signed in made, or one refused before its caller was looked up (a refused
    token; a cookie request another origin's page made). Refused once the caller is known (a
    document they may not read), the line names them."""
    owner, record = await factories.patient()
    owner_session = await session_for(owner)
    entry_id = (await upload(Caller(client, session=owner_session), pdf(), "cr.pdf")).ok()[
        "uploadDocument"]["entry"]["id"]
    account, pro = await factories.practitioner()
    await grant(record, pro, Section.DOCUMENTS)
    session = await session_for(account)
    row, token = await accounts.create_token("logiciel", ["practitioner"], practitioner_rpps=pro.rpps)
    stranger, _ = await factories.practitioner()

    assert (await download(Caller(client, session=session), entry_id)).status_code == 200
    line = lines.last()
    assert line["path"] == f"/files/{entry_id}" and line["status"] == 200
    assert (line["caller"], line["caller_id"]) == ("session", str(account.id))
    _holds_no_part_of(session, lines.texts[-1])

    assert (await download(Caller(client, token=token), entry_id)).status_code == 200
    assert (lines.last()["caller"], lines.last()["caller_id"]) == ("token", str(row.id))
    _holds_no_part_of(token, lines.texts[-1])

    refused = await download(Caller(client, session=await session_for(stranger)), entry_id)
    assert refused.status_code == 404
    assert (lines.last()["caller"], lines.last()["caller_id"]) == ("session", str(stranger.id))
    assert lines.last()["error_codes"] == ["NOT_FOUND"]  # a refusal's code, as /graphql's

    assert (await download(Caller(client), entry_id)).status_code == 401
    _no_caller(lines.last())
    bad_token = Caller(client, token="dmp_not-a-token-at-all-0123456789")
    assert (await download(bad_token, entry_id)).status_code == 401
    _no_caller(lines.last())
    client.cookies.set(config.settings().session_cookie, session)
    embedded = await client.get(f"/files/{entry_id}", headers={"sec-fetch-site": "same-site"})
    client.cookies.clear()
    assert embedded.status_code == 403
    _no_caller(lines.last())
    assert lines.last()["error_codes"] == ["FORBIDDEN"]


def test_caller_of_reads_only_ids_the_viewer_holds() -> None:
    account_id, token_id, session_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    practitioners_token = Viewer(account_id=account_id, role=Role.PRACTITIONER, display_name="Dr Zanzibarre",
                                 token_id=token_id, scopes=frozenset({"practitioner"}))
    assert logs.caller_of(practitioners_token) == ("token", token_id)
    organizations_token = Viewer(role=Role.INSURER, display_name="CPAM", token_id=token_id)
    assert logs.caller_of(organizations_token) == ("token", token_id)
    session = Viewer(account_id=account_id, role=Role.PATIENT, display_name="Alice", session_id=session_id)
    assert logs.caller_of(session) == ("session", account_id)
    assert logs.caller_of(ANONYMOUS) == (None, None)
    assert logs.caller_of(None) == (None, None)


def test_the_direct_write_holds_the_caller_as_the_formatter_does(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The line `dmp serve` writes itself (logs.request_line's direct write): the same caller
    fields as a record through the formatter, the id written as `dmp list-tokens` shows it;
    none at all without a caller. A handler added in code gets the id as text."""
    logger = logging.getLogger("dmp.http")
    monkeypatch.setattr(logger, "level", logging.INFO)
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(logs.JsonFormatter())
    monkeypatch.setattr(logs, "_own_handler", handler)
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [handler])
    fields: dict[str, Any] = {
        "request_id": "0" * 32, "method": "POST", "path": "/graphql", "status": 200, "duration_ms": 1.0,
        "operation": "ReadRecord", "operation_type": "query", "error_codes": None,
    }
    token_id = uuid.UUID("2f1c6a8e-0d4b-4f8e-9a51-3c7d2b9e6f10")
    caller = {"caller": "token", "caller_id": str(token_id)}
    logs.request_line(**fields, caller="token", caller_id=token_id)
    # On PostgreSQL the viewer holds asyncpg's UUIDs, which orjson does not write by itself:
    # it raised in the request log's `finally`, and every signed-in request failed.
    logs.request_line(**fields, caller="token", caller_id=pgproto.UUID(str(token_id)))
    logs.request_line(**fields, caller=None, caller_id=None)
    with_caller, from_asyncpg, without = (orjson.loads(text) for text in capfd.readouterr().err.splitlines())
    assert {name: with_caller[name] for name in caller} == caller
    assert {name: from_asyncpg[name] for name in caller} == caller
    _no_caller(without)
    record = logger.makeRecord("dmp.http", logging.INFO, "", 0, "request", (), None, extra={
        **{name: value for name, value in fields.items() if name != "error_codes"}, **caller,
    })
    formatted = orjson.loads(logs.JsonFormatter().format(record))
    formatted.pop("at"), with_caller.pop("at")
    assert formatted == with_caller

    recording: list[logging.LogRecord] = []
    added = logging.Handler()
    added.emit = recording.append  # type: ignore[method-assign]
    logger.addHandler(added)
    try:
        logs.request_line(**fields, caller="token", caller_id=token_id)
    finally:
        logger.removeHandler(added)
    assert capfd.readouterr().err == ""  # through the logging module, not the direct write
    [record] = recording
    assert (record.__dict__["caller"], record.__dict__["caller_id"]) == ("token", str(token_id))


async def test_a_real_server_writes_the_caller_of_each_request() -> None:
    """`dmp serve` as it runs (its line written directly, on either database): a token's
    request, a session's, an anonymous one and a refused token's, one line each."""
    account, record = await factories.patient()
    session = await session_for(account)
    _, pro = await factories.practitioner()
    await grant(record, pro, Section.MEDICATIONS)
    row, token = await accounts.create_token("logiciel", ["practitioner"], practitioner_rpps=pro.rpps)
    with dmp_server() as origin:
        port = origin.rsplit(":", 1)[1]
        async with httpx.AsyncClient(base_url=origin, timeout=30) as client:
            sent = [
                ({"authorization": f"Bearer {token}"}, {}, READ, {"ins": record.ins}),
                ({}, {config.settings().session_cookie: session}, READ, {"ins": record.ins}),
                ({}, {}, ME, {}),
                ({"authorization": "Bearer dmp_not-a-token-at-all-0123456789"}, {}, ME, {}),
            ]
            statuses = []
            for headers, cookies, query, variables in sent:
                client.cookies.clear()
                for name, value in cookies.items():
                    client.cookies.set(name, value)
                response = await client.post("/graphql", json={"query": query, "variables": variables},
                                             headers={"origin": origin, **headers})
                statuses.append(response.status_code)
    assert statuses == [200, 200, 200, 401]
    log = (TEST_DIR / f"serve-{port}.log").read_text()
    requests = [
        orjson.loads(line) for line in log.splitlines()
        if line.startswith("{") and '"msg":"request"' in line and '"path":"/graphql"' in line
    ]
    assert [(line["status"], line.get("caller"), line.get("caller_id")) for line in requests] == [
        (200, "token", str(row.id)), (200, "session", str(account.id)), (200, None, None), (401, None, None),
    ]
    assert "exception" not in log.lower()
    _holds_no_part_of(token, log)
    _holds_no_part_of(session, log)
