"""No refusal suggests a name of the schema ("Did you mean …?"), whatever was misspelt.

Field suggestions were off, the others were not: a misspelt type, input field, enum value
or argument was answered with the names nearest to it, which spell the schema out to a
caller to whom introspection is refused (in production, anyone but support, practitioners
and partners).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import ORIGIN

pytestmark = pytest.mark.usefixtures("clean")

HISTORY = "myAccessHistory(filter: $f) { edges { node { at } } }"
MISSPELT: list[tuple[str, dict[str, Any] | None]] = [
    ("query Q($s: Sectio) { __typename }", None),  # a type
    ("{ myAccessHistory(filter: {actio: [READ]}) { edges { node { at } } } }", None),  # an input field
    ("{ myAccessHistory(filter: {actions: [REA]}) { edges { node { at } } } }", None),  # an enum value
    ("{ myAccessHistory(filtr: {}) { edges { node { at } } } }", None),  # an argument
    ("{ __typename @skipp(if: true) }", None),  # a directive
    (f"query Q($f: AccessHistoryFilter) {{ {HISTORY} }}", {"f": {"actio": ["READ"]}}),  # in a variable
    (f"query Q($f: AccessHistoryFilter) {{ {HISTORY} }}", {"f": {"actions": ["REA"]}}),
]


@pytest.mark.parametrize(("query", "variables"), MISSPELT)
async def test_no_name_is_suggested(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None
) -> None:
    response = await client.post("/graphql", json={"query": query, "variables": variables},
                                 headers={"origin": ORIGIN})
    errors = response.json()["errors"]
    assert {e["extensions"]["code"] for e in errors} == {"BAD_USER_INPUT"}
    text = " | ".join(e["message"] for e in errors)
    assert "Did you mean" not in text, text
    for name in ("'Section'", "'actions'", "READ'", "'filter'", "'skip'"):
        assert name not in text, text
