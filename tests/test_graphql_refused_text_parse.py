"""A request whose variables hold refused text (NUL, a lone surrogate) has its document
parsed to see whether it is made of batch mutations, which report such text per item.
That parse took the document whole, whatever its length: a body of 8 MB of `a` fields with
one NUL in its variables held the server's event loop for half a minute. It stops at the
token limit, as every other parse of a request's document does (a document past it is
refused anyway).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from graphql import parse

from backend import graphql_view
from backend.schema.limits import MAX_TOKENS, NUL_REFUSED
from tests.conftest import ORIGIN

pytestmark = pytest.mark.usefixtures("clean")

LONG = "mutation { importCareHistory(items: $items) { created } " + " a" * (MAX_TOKENS * 3) + " }"


@pytest.mark.parametrize("variables", [
    '{"items": "\\u0000"}',  # NUL: refused on the prepared path
    '{"items": "\\ud800"}',  # a lone surrogate: refused once strawberry has parsed the body
])
async def test_a_long_document_with_refused_text_is_not_parsed_whole(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, variables: str
) -> None:
    tokens_asked: list[int | None] = []

    def spy(source: str, **kwargs: Any) -> Any:
        tokens_asked.append(kwargs.get("max_tokens"))
        return parse(source, **kwargs)

    monkeypatch.setattr(graphql_view, "parse", spy)
    body = f'{{"query": {json.dumps(LONG)}, "variables": {variables}}}'
    response = await client.post("/graphql", content=body,
                                 headers={"content-type": "application/json", "origin": ORIGIN})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert tokens_asked and all(asked == MAX_TOKENS for asked in tokens_asked)


async def test_a_batch_mutation_still_reports_nul_per_item(client: httpx.AsyncClient) -> None:
    # The parse still answers for a document within the limit: not refused whole.
    body = '{"query": "mutation I($items: [CareItemInput!]!) { importCareHistory(items: $items) ' \
           '{ created } }", "variables": {"items": "\\u0000"}}'
    response = await client.post("/graphql", content=body,
                                 headers={"content-type": "application/json", "origin": ORIGIN})
    assert NUL_REFUSED not in response.text, response.text
    assert "CareItemInput" in response.json()["errors"][0]["message"]  # the item's own refusal
