"""No refusal suggests a name of the schema ("Did you mean …?") to a caller refused
introspection (in production, anyone but support, practitioners and partners).

Field suggestions were off, the others were not: a misspelt type, input field or argument
was answered with the names nearest to it, which spelt the schema out to anyone. A caller
who may read the schema keeps them (a partner fixing an import, a developer).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from backend import config
from backend.app import create_app
from tests.conftest import DB_URL, ORIGIN, TEST_DIR

PRODUCTION = "https://dmp.example"


@pytest.fixture
async def production() -> AsyncIterator[httpx.AsyncClient]:
    saved = config.settings()
    cfg = config.load({
        "DMP_ENV": "production", "DMP_DATABASE_URL": DB_URL,
        "DMP_DATA_DIR": str(TEST_DIR / "prod"), "DMP_PUBLIC_ORIGIN": PRODUCTION,
        "DMP_DATA_KEY": secrets.token_hex(32), "DMP_AUDIT_KEY": secrets.token_hex(32),
        "DMP_SMTP_HOST": "localhost", "DMP_MAIL_FROM": "DMP <no-reply@dmp.example>",
    })
    config.reset(cfg)
    try:
        app = create_app(cfg, outbox_worker=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PRODUCTION) as c:
            yield c
    finally:
        config.reset(saved)

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
async def test_no_name_is_suggested_to_a_caller_refused_introspection(
    production: httpx.AsyncClient, query: str, variables: dict[str, Any] | None
) -> None:
    response = await production.post("/graphql", json={"query": query, "variables": variables},
                                     headers={"origin": PRODUCTION})
    errors = response.json()["errors"]
    assert {e["extensions"]["code"] for e in errors} == {"BAD_USER_INPUT"}
    text = " | ".join(e["message"] for e in errors)
    assert "Did you mean" not in text, text
    for name in ("'Section'", "'actions'", "READ'", "'filter'", "'skip'"):
        assert name not in text, text


async def test_names_are_suggested_to_a_caller_who_may_read_the_schema(client: httpx.AsyncClient) -> None:
    # Outside production everyone may introspect: the suggestion helps, and hides nothing.
    response = await client.post("/graphql", json={"query": MISSPELT[0][0]}, headers={"origin": ORIGIN})
    assert "Did you mean 'Section'?" in response.text
