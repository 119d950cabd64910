"""GraphQL limits, error masking, batching, GET and introspection (DESIGN §5-§7).

Every limit is refused before execution: a mutation carrying the oversized part writes
nothing. The same holds when the oversized part hides in fragments (one named `__schema`
included) or in another operation of the same document.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from backend import accounts, config
from backend.app import create_app
from backend.models import AccessEvent, Entry, Grant, LoginAttempt, RateCounter
from backend.schema import account as account_schema
from tests import factories
from tests.conftest import DB_URL, ORIGIN, TEST_DIR, Caller, GraphQLResult, session_for

START = 'startLogin(identifier: "nobody@test.dmp", password: "whatever-123") { attemptToken }'


async def post(client: httpx.AsyncClient, body: Any, **headers: str) -> httpx.Response:
    return await client.post("/graphql", json=body, headers={"origin": ORIGIN, **headers})


def messages(response: httpx.Response) -> str:
    return " | ".join(e["message"] for e in response.json()["errors"])


def codes(response: httpx.Response) -> set[str]:
    return {e["extensions"]["code"] for e in response.json()["errors"]}


async def assert_refused_before_execution(client: httpx.AsyncClient, query: str, why: str,
                                          operation: str | None = None) -> None:
    response = await post(client, {"query": query, "operationName": operation})
    assert response.status_code == 200
    body = response.json()
    assert "data" not in body or body["data"] is None
    assert codes(response) == {"BAD_USER_INPUT"}
    assert why in messages(response), messages(response)
    assert await LoginAttempt.all().count() == 0
    assert await RateCounter.all().count() == 0


def nested(depth: int, leaf: str = "id") -> str:
    text = leaf
    for level in range(depth):
        text = f"f{level} {{ {text} }}"
    return text


async def test_depth_limit_direct_in_fragments_and_in_another_operation(
    client: httpx.AsyncClient,
) -> None:
    await assert_refused_before_execution(
        client, f"mutation {{ {START} }} query Deep {{ {nested(16)} }}",
        "exceeds maximum operation depth of 15", operation=None)
    # Hidden in a chain of fragments, the last one named __schema.
    query = (
        f"mutation {{ {START} me {{ ...A }} }}"
        " fragment A on Me { a1 { a2 { a3 { a4 { a5 { ...B } } } } } }"
        " fragment B on Me { b1 { b2 { b3 { b4 { b5 { ...__schema } } } } } }"
        " fragment __schema on Me { c1 { c2 { c3 { c4 { c5 { c6 { id } } } } } } }"
    )
    await assert_refused_before_execution(client, query, "exceeds maximum operation depth of 15")
    # The shallow operation is the one asked for; the deep one beside it is still refused.
    await assert_refused_before_execution(
        client, f"mutation Small {{ {START} }} query Deep {{ {nested(16)} }}",
        "exceeds maximum operation depth", operation="Small")


async def test_introspection_is_depth_limited_too(client: httpx.AsyncClient) -> None:
    deep = "{ __schema { types { fields { type { fields { args { name } } } } } } }"
    response = await post(client, {"query": deep})
    assert codes(response) == {"BAD_USER_INPUT"}
    assert "Introspection too deep" in messages(response)
    # The explorer's own introspection query passes (development: open to all).
    from graphql import get_introspection_query

    full = get_introspection_query(descriptions=True, specified_by_url=True,
                                   directive_is_repeatable=True, input_value_deprecation=True)
    response = await post(client, {"query": full})
    assert "errors" not in response.json()
    assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_alias_limit_in_fragments_and_across_operations(client: httpx.AsyncClient) -> None:
    eight = " ".join(f"a{n}: __typename" for n in range(8))
    await assert_refused_before_execution(
        client, f"mutation {{ {START} ...F ...F }} fragment F on Mutation {{ {eight} }}",
        "aliases found. Allowed: 15")
    await assert_refused_before_execution(
        client, f"mutation M {{ {START} {eight} }} query Q {{ {eight} }}",
        "aliases found. Allowed: 15", operation="M")
    fifteen = " ".join(f"a{n}: __typename" for n in range(15))
    assert "errors" not in (await post(client, {"query": f"{{ {fifteen} }}"})).json()


async def test_token_limit(client: httpx.AsyncClient) -> None:
    padding = " ".join("__typename" for _ in range(3000))
    await assert_refused_before_execution(
        client, f"mutation {{ {START} }} query Q {{ {padding} }}", "3000 tokens")


async def test_cost_limit_on_list_sizes(client: httpx.AsyncClient) -> None:
    sections = ["medications", "medicalDevices", "procedures", "imaging", "labResults",
                "hospitalStays", "documents"]
    node = "id title code date createdAt supersedes author { displayName profession }"
    # Each section twice (an alias each): 14 pages of 100 entries, about 15,000 fields.
    body = " ".join(f"{alias}{s}(first: 100) {{ edges {{ node {{ {node} }} }} }}"
                    for s in sections for alias in ("", f"again_{s}: "))
    await assert_refused_before_execution(
        client, f"mutation {{ {START} }} query Q {{ myRecord {{ ...R }} }}"
                f" fragment R on PatientRecord {{ {body} }}", "Query too costly", operation=None)
    # The same at a page of 20 passes validation (the anonymous caller is then refused).
    small = body.replace("first: 100", "first: 20")
    response = await post(client, {"query": f"{{ myRecord {{ {small} }} }}"})
    assert codes(response) == {"UNAUTHENTICATED"}


async def test_fragment_bomb_refused_in_linear_time(client: httpx.AsyncClient) -> None:
    # 10^11 fields once expanded: refused by measuring each fragment once.
    frags = [f"fragment F{i} on Me {{ {' '.join([f'...F{i + 1}'] * 10)} }}" for i in range(11)]
    frags.append("fragment F11 on Me { id }")
    query = f"mutation {{ {START} }} query Q {{ me {{ ...F0 }} }} " + " ".join(frags)
    await assert_refused_before_execution(client, query, "Query too large")
    response = await post(client, {"query": "{ me { ...Missing } }"})
    assert codes(response) == {"BAD_USER_INPUT"}
    assert messages(response) == "Unknown fragment 'Missing'."


async def test_batching_is_off(client: httpx.AsyncClient) -> None:
    response = await post(client, [{"query": f"mutation {{ {START} }}"}] * 2)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert codes(response) == {"BAD_USER_INPUT"}
    assert "Batching is off" in messages(response)
    assert await LoginAttempt.all().count() == 0


async def test_malformed_bodies_answer_400_with_errors(client: httpx.AsyncClient) -> None:
    # A login's request with its closing brace left off, to add a malformed part to.
    login = json.dumps({"query": f"mutation {{ {START} }}"})[:-1].encode()
    for content in (b"{not json", b'"a string"', b"12", b"null", b'{"query": 12}', b"{}",
                    b'{"query": "{ me { id } }", "variables": [1]}',
                    login + b', "variables": {"x": "\xff"}}',  # not UTF-8
                    b"[" * 5000 + b"]" * 5000,  # nested beyond Python's stack
                    login + b', "variables": {"x": ' + b"[" * 5000 + b"]" * 5000 + b"}}"):
        response = await client.post("/graphql", content=content, headers={
            "origin": ORIGIN, "content-type": "application/json"})
        assert response.status_code == 400, content[:60]
        assert codes(response) == {"BAD_USER_INPUT"}, content[:60]
        assert "content-security-policy" in response.headers
    assert await LoginAttempt.all().count() == 0


async def test_a_body_over_the_limit_is_refused_and_runs_nothing(client: httpx.AsyncClient) -> None:
    """A JSON body is read into memory whole: over 10 MB it is refused, from its declared
    length, or as it is read when it declares none (chunked)."""
    padding = "x" * (10 * 1024 * 1024)
    body = json.dumps({"query": f"mutation {{ {START} }}", "variables": {"padding": padding}}).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 1024 * 1024):
            yield body[start:start + 1024 * 1024]

    # By no one signed in, a chunked body meets the 64 KB bound first (test_http_anonymous_body).
    for content, bound in ((body, "10 MB"), (chunks(), "64 KB before signing in")):
        response = await client.post("/graphql", content=content, headers={
            "origin": ORIGIN, "content-type": "application/json"})
        assert response.status_code == 413
        assert response.json() == {"errors": [{
            "message": f"The request body is too large: at most {bound}",
            "extensions": {"code": "BAD_USER_INPUT"}}]}
        assert "content-security-policy" in response.headers
    assert await LoginAttempt.all().count() == 0
    # Under the limit, the same request runs.
    small = json.dumps({"query": f"mutation {{ {START} }}", "variables": {"padding": padding[:1000]}})
    response = await client.post("/graphql", content=small, headers={
        "origin": ORIGIN, "content-type": "application/json"})
    assert response.status_code == 200 and response.json()["data"]["startLogin"]["attemptToken"]


async def test_queries_over_get_refused(client: httpx.AsyncClient) -> None:
    for query in ("{ me { id } }", f"mutation {{ {START} }}"):
        response = await client.get("/graphql", params={"query": query},
                                    headers={"accept": "application/json"})
        assert response.status_code in (400, 405)
        assert codes(response) == {"BAD_USER_INPUT"}
    assert await LoginAttempt.all().count() == 0


async def test_field_suggestions_off(client: httpx.AsyncClient) -> None:
    response = await post(client, {"query": "{ mee { id } myRecrd { ins } }"})
    assert codes(response) == {"BAD_USER_INPUT"}
    text = messages(response)
    assert "Cannot query field 'mee'" in text
    assert "Did you mean" not in text and "'me'" not in text


async def test_unexpected_errors_masked_public_errors_kept(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    patient, _ = await factories.patient()
    caller = Caller(client, session=await session_for(patient))

    def broken(info: object) -> None:
        raise RuntimeError("secret detail: /var/lib/dmp 1850575000001")

    monkeypatch.setattr(account_schema, "me_of", broken)
    caplog.set_level(logging.INFO, logger="dmp.http")
    for _ in range(2):  # the first time through strawberry's view, then as an accepted document
        result = await caller.gql("{ me { id } }")
        assert result.codes == ["INTERNAL"]
        assert result.errors[0]["message"] == "Internal error"
        assert "secret" not in result.response.text and "1850575" not in result.response.text
        # Support finds the error's type from the request id the caller has; not its message.
        request_id = result.response.headers["x-request-id"]
        logged = [r for r in caplog.records
                  if getattr(r, "request_id", None) == request_id and r.levelno == logging.ERROR]
        assert [(r.getMessage(), r.error) for r in logged] == [  # type: ignore[attr-defined]
            ("internal error", "RuntimeError")]
    assert "secret" not in caplog.text and "1850575" not in caplog.text
    # A public error keeps its message and code.
    public = await Caller(client).gql('{ patientRecord(ins: "1") { ins } }')
    assert public.codes and public.codes[0] in {"UNAUTHENTICATED", "FORBIDDEN", "BAD_USER_INPUT"}
    assert public.errors[0]["message"] != "Internal error"


# ---- production: introspection only for support, partner and practitioner callers ----

@pytest.fixture
async def production() -> AsyncIterator[httpx.AsyncClient]:
    saved = config.settings()
    cfg = config.load({
        "DMP_ENV": "production", "DMP_DATABASE_URL": DB_URL,
        "DMP_DATA_DIR": str(TEST_DIR / "prod"), "DMP_PUBLIC_ORIGIN": "https://dmp.example",
        "DMP_DATA_KEY": secrets.token_hex(32), "DMP_AUDIT_KEY": secrets.token_hex(32),
        "DMP_SMTP_HOST": "localhost", "DMP_MAIL_FROM": "DMP <no-reply@dmp.example>",
    })
    config.reset(cfg)
    try:
        app = create_app(cfg, outbox_worker=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://dmp.example") as c:
            yield c
    finally:
        config.reset(saved)


INTROSPECTIONS = (
    "{ __schema { queryType { name } } }",
    '{ __type(name: "PatientRecord") { name } }',
    "{ ...F } fragment F on Query { __schema { queryType { name } } }",
    "{ ... on Query { me { id } ...__schema } } fragment __schema on Query { __type(name: \"Me\") { name } }",
)


async def prod_gql(client: httpx.AsyncClient, query: str, *, session: str | None = None,
                   token: str | None = None) -> GraphQLResult:
    headers = {"origin": "https://dmp.example"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    client.cookies.clear()
    if session:
        client.cookies.set("__Host-dmp_session", session)
    return GraphQLResult(await client.post("/graphql", json={"query": query}, headers=headers))


async def test_production_introspection_refused_to_anonymous_and_patients(
    production: httpx.AsyncClient,
) -> None:
    patient, _ = await factories.patient()
    session = await session_for(patient)
    for query in INTROSPECTIONS:
        for who in (None, session):
            result = await prod_gql(production, query, session=session if who else None)
            assert result.codes == ["FORBIDDEN"], (query, result.errors)
            assert result.data is None
    # __typename is not introspection of the schema; a patient's normal query works.
    result = await prod_gql(production, "{ __typename me { role } }", session=session)
    assert result.ok() == {"__typename": "Query", "me": {"role": "PATIENT"}}


async def test_production_introspection_for_support_practitioners_and_partners(
    production: httpx.AsyncClient,
) -> None:
    support = await factories.support()
    doctor, practitioner = await factories.practitioner()
    _, partner = await accounts.create_token("cabinet", ["practitioner"],
                                             practitioner_rpps=practitioner.rpps)
    _, insurer = await accounts.create_token("cnam", ["insurer:import"], organization="CNAM")
    callers: list[dict[str, str]] = [
        {"session": await session_for(support)}, {"session": await session_for(doctor)},
        {"token": partner}, {"token": insurer},
    ]
    for caller in callers:
        for query in INTROSPECTIONS:
            result = await prod_gql(production, query, **caller)
            assert not result.errors, (caller.keys(), query, result.errors)
    # Suggestions stay off in production too.
    result = await prod_gql(production, "{ mee { id } }", session=await session_for(doctor))
    assert "Did you mean" not in result.errors[0]["message"]


async def test_production_explorer_only_for_support_practitioners_and_partners(
    production: httpx.AsyncClient,
) -> None:
    patient, _ = await factories.patient()
    agent = await factories.support()
    doctor, _ = await factories.practitioner()
    html = {"accept": "text/html"}
    production.cookies.clear()
    assert (await production.get("/graphql", headers=html)).status_code == 403
    production.cookies.set("__Host-dmp_session", await session_for(patient))
    refused = await production.get("/graphql", headers=html)
    assert refused.status_code == 403 and "Accès réservé" in refused.text
    for account in (agent, doctor):
        production.cookies.clear()
        production.cookies.set("__Host-dmp_session", await session_for(account))
        page = await production.get("/graphql", headers=html)
        assert page.status_code == 200, account.role


async def test_the_nul_character_is_refused_wherever_it_is_sent(client: httpx.AsyncClient) -> None:
    """U+0000, which PostgreSQL's text cannot hold, in a variable (a string or a key, at any
    depth), in a string of the document, or escaped for GraphQL: a request error, nothing run."""
    mutation = ("mutation($i: String!, $p: String!) {"
                " startLogin(identifier: $i, password: $p) { attemptToken } }")
    refused = [
        {"query": mutation, "variables": {"i": "no\x00body@test.dmp", "p": "whatever-123"}},
        {"query": mutation, "variables": {"i": "nobody@test.dmp", "p": "x", "extra": [{"k\x00": 1}]}},
        {"query": "mutation { " + START.replace("nobody", "no\\u0000body") + " }"},
        {"query": "mutation { " + START.replace("nobody", "no\\u{0}body") + " }"},
    ]
    for body in refused:
        response = await post(client, body)
        assert codes(response) == {"BAD_USER_INPUT"}, body
        assert "NUL" in messages(response) or "Invalid character" in messages(response), messages(response)
        assert "data" not in response.json() or response.json()["data"] is None
    assert await LoginAttempt.all().count() == 0
    # A backslash followed by the letters u0000 is text, not the character.
    response = await post(client, {"query": mutation, "variables": {"i": "a\\u0000@test.dmp", "p": "x-123"}})
    assert response.json()["data"]["startLogin"]["attemptToken"]


async def test_lone_surrogates_are_refused_wherever_they_are_sent(client: httpx.AsyncClient) -> None:
    """A lone surrogate (JSON may escape one, \\ud800; no UTF-8 text holds it) in a variable,
    at any depth or in a key: a request error, nothing run. It was an internal error, the
    database refusing the text, after the fallback JSON parser took what orjson refuses."""
    _, record = await factories.patient()
    doctor, pro = await factories.practitioner()
    await Grant.create(record=record, practitioner=pro, sections=["DOCUMENTS"])
    caller = Caller(client, session=await session_for(doctor))
    add = ("mutation($ins: String!, $title: String!) { addEntry(input: {ins: $ins, section: DOCUMENTS,"
           " title: $title, date: \"2024-01-02\"}) { entry { id } } }")
    directory = "query($s: String!) { practitionerDirectory(search: $s) { displayName } }"
    refused = [
        {"query": add, "variables": {"ins": record.ins, "title": "\ud800"}},
        {"query": add, "variables": {"ins": record.ins, "title": "Compte rendu \udfff"}},
        {"query": add, "variables": {"ins": record.ins, "title": "ok", "extra": [{"k\udc00": 1}]}},
        {"query": directory, "variables": {"s": "Ber\ud83d"}},
    ]
    for body in refused:
        # json.dumps escapes the surrogate as JSON allows (\ud800), as a client would send it.
        response = await client.post(
            "/graphql", content=json.dumps(body).encode(),
            headers={**caller.headers(), "content-type": "application/json",
                     "cookie": f"{config.settings().session_cookie}={caller.session}"},
        )
        assert response.status_code == 400, response.text
        assert codes(response) == {"BAD_USER_INPUT"}, body
        assert "surrogate" in messages(response)
        assert "data" not in response.json()
    assert await Entry.filter(record_id=record.id).count() == 0
    assert await AccessEvent.filter(record_id=record.id).count() == 0
    # A surrogate pair is one character, and taken.
    pair = json.dumps({"query": add, "variables": {"ins": record.ins, "title": "Compte rendu \U0001f600"}})
    assert "\\ud83d\\ude00" in pair
    response = await client.post(
        "/graphql", content=pair.encode(),
        headers={**caller.headers(), "content-type": "application/json",
                 "cookie": f"{config.settings().session_cookie}={caller.session}"},
    )
    assert response.json()["data"]["addEntry"]["entry"]["id"]
    assert (await Entry.get(record_id=record.id)).title == "Compte rendu \U0001f600"
