"""Fragments that spread each other in a cycle are refused before any other rule runs.

A cycle is invalid (graphql's NoFragmentCycles rule), but every rule of a validation is
built before any reports: the alias, depth and cost rules walked every path through the
cycle first, factorial in the number of fragments. Twelve fragments spreading each other,
a few hundred bytes sent by anyone, held the server's one event loop for minutes.
"""

from __future__ import annotations

import httpx
import pytest
from graphql import parse
from strawberry.extensions import max_aliases

from backend.schema.limits import shape_errors
from tests.conftest import ORIGIN

pytestmark = pytest.mark.usefixtures("clean")


def cycle(n: int) -> str:
    spreads = " ".join(f"...F{j}" for j in range(n))
    fragments = " ".join(f"fragment F{i} on Query {{ __typename {spreads} }}" for i in range(n))
    return f"query Q {{ ...F0 }} {fragments}"


def test_a_fragment_cycle_is_a_shape_error() -> None:
    errors = shape_errors(parse(cycle(3)))
    assert errors
    assert all(e.extensions == {"code": "BAD_USER_INPUT"} for e in errors)
    assert any("Cannot spread fragment 'F0' within itself" in e.message for e in errors)
    # A fragment spread twice, with no cycle, is no error.
    assert shape_errors(parse(
        "{ ...A ...B } fragment A on Query { ...B } fragment B on Query { __typename }"
    )) == []


@pytest.mark.parametrize(("accept", "n"), [("application/json", 7), ("application/graphql-response+json", 8)])
async def test_a_fragment_cycle_is_refused_without_walking_it(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, accept: str, n: int
) -> None:
    # A text not sent before (n): the caches of validation would answer it unwalked.
    walked = 0
    count = max_aliases.count_fields_with_alias

    def counting(*args: object, **kwargs: object) -> int:
        nonlocal walked
        walked += 1
        return count(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(max_aliases, "count_fields_with_alias", counting)
    response = await client.post("/graphql", json={"query": cycle(n)},
                                 headers={"origin": ORIGIN, "accept": accept})
    body = response.json()
    assert "data" not in body
    assert {e["extensions"]["code"] for e in body["errors"]} == {"BAD_USER_INPUT"}
    assert any("Cannot spread fragment 'F0' within itself" in e["message"] for e in body["errors"])
    assert response.status_code == (400 if accept.endswith("response+json") else 200)
    assert walked < 50  # every path through seven fragments: thousands
