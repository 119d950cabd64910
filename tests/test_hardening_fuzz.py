"""Schema fuzzing with hypothesis-graphql against a real `dmp serve`, signed in as a patient
and as a practitioner: 1,000+ generated operations (valid ones, and ones with one schema
violation), none of which may answer HTTP 5xx or an INTERNAL error."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import graphql
import httpx
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes

from backend.domain.enums import Profession
from tests import factories
from tests.conftest import session_for
from tests.server import dmp_server

SCHEMA = (Path(__file__).parents[1] / "schema.graphql").read_text()
# Fields left out: the ones that end the fuzzing session, and uploads (multipart only).
SKIPPED = {"logout", "logoutEverywhere", "revokeSession", "uploadDocument"}
PER_ROLE = {Mode.POSITIVE: 420, Mode.NEGATIVE: 100}

_json_leaf = st.one_of(st.text(max_size=20).map(nodes.String), st.integers(-5, 10**6).map(nodes.Int),
                       st.booleans().map(lambda b: graphql.BooleanValueNode(value=b)))
SCALARS = {
    "Date": st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)).map(nodes.String),
    "DateTime": st.datetimes(dt.datetime(1970, 1, 1), dt.datetime(2100, 1, 1),
                             timezones=st.just(dt.UTC)).map(lambda d: nodes.String(d.isoformat())),
    "JSON": st.one_of(
        _json_leaf,
        st.lists(st.tuples(st.from_regex(r"[a-z]{1,8}", fullmatch=True), _json_leaf), max_size=3)
        .map(lambda kv: nodes.Object([graphql.ObjectFieldNode(name=graphql.NameNode(value=k),
                                                              value=v) for k, v in kv])),
    ),
}


def _fields() -> list[str]:
    schema = graphql.build_schema(SCHEMA)
    names = [*schema.query_type.fields] if schema.query_type else []
    names += [*schema.mutation_type.fields] if schema.mutation_type else []
    return [n for n in names if n not in SKIPPED]


def fuzz(origin: str, cookie: str, session: str, mode: Mode, count: int) -> tuple[int, list[str]]:
    """Send up to `count` generated operations; returns how many were sent and the failures."""
    sent = 0
    failures: list[str] = []
    client = httpx.Client(base_url=origin, timeout=30, headers={"origin": origin})
    client.cookies.set(cookie, session)
    strategy = from_schema(SCHEMA, fields=_fields(), custom_scalars=SCALARS, mode=mode,
                           allow_x00=False)

    @settings(max_examples=count, deadline=None, database=None, derandomize=True,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(strategy)
    def one(query: str) -> None:
        nonlocal sent
        sent += 1
        response = client.post("/graphql", json={"query": query})
        if response.status_code >= 500:
            failures.append(f"HTTP {response.status_code}: {query}")
            return
        body = response.json()
        internal = [e for e in body.get("errors") or []
                    if (e.get("extensions") or {}).get("code") == "INTERNAL"]
        if internal:
            failures.append(f"INTERNAL {json.dumps(internal)[:300]}: {query[:500]}")

    try:
        one()
    finally:
        client.close()
    return sent, failures


# On both databases: on SQLite it found two root fields waiting for each other on the one
# connection's lock (docs/benchmarks.md, step 40).
async def test_fuzzed_operations_never_fail_inside() -> None:
    patient, _ = await factories.patient()
    doctor, _ = await factories.practitioner(Profession.MEDECIN)
    sessions = {"patient": await session_for(patient), "practitioner": await session_for(doctor)}
    total = 0
    failures: list[str] = []
    with dmp_server() as origin:
        for role, session in sessions.items():
            for mode, count in PER_ROLE.items():
                sent, found = fuzz(origin, "dmp_session", session, mode, count)
                total += sent
                failures += [f"{role}/{mode.name}: {f}" for f in found]
    assert failures == []
    assert total >= 1000
