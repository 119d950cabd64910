"""The prepared documents' cache holds short texts only.

`direct.prepare` remembers its answer for 512 texts, a refusal included. It kept the text
itself, whatever its length: 512 requests of 10 MB each, refused or not, held 5 GB until
the server restarted. A document is remembered only up to `direct.MAX_CACHED_TEXT`
characters (far above any application's), a longer one is prepared again each time.
"""

from __future__ import annotations

import gc
import tracemalloc

import httpx
import pytest

from tests.conftest import ORIGIN

pytestmark = pytest.mark.usefixtures("clean")

MB = 1024 * 1024


def long_document(n: int) -> str:
    # Past the token limit: refused, and never kept by strawberry's own parser cache.
    return f"query Long{n} {{" + " a" * (MB // 2) + " }"


async def test_long_documents_are_not_kept(client: httpx.AsyncClient) -> None:
    async def send(n: int) -> None:
        response = await client.post("/graphql", json={"query": long_document(n)},
                                      headers={"origin": ORIGIN})
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

    await send(0)  # what a first request builds once
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(1, 5):
            await send(n)
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < MB, kept  # four texts of 1 MB each were kept


def test_short_documents_are_still_prepared_once() -> None:
    from backend.schema import direct

    query = "query Short { __typename }"
    assert direct.prepare(query, None) is direct.prepare(query, None)


def test_the_table_of_documents_within_limits_keeps_short_ones_only() -> None:
    from graphql import parse

    from backend.schema import limits

    long = parse('{ a(x: "' + "x" * MB + '") }')
    short = parse('{ a(x: "x") }')
    assert limits._shape_errors_once(long) == limits._shape_errors_once(short) == []
    assert limits._WITHIN_LIMITS.get(id(short)) is short
    assert id(long) not in limits._WITHIN_LIMITS


async def test_strawberry_caches_keep_no_long_text(client: httpx.AsyncClient) -> None:
    """A long text that parses and then fails validation (an unknown field, a long string)
    was kept by strawberry's parser cache, and its document by the validation cache: about
    2 MB per 1 MB request, up to 512 of them."""
    from strawberry.extensions.parser_cache import _get_parse_cache
    from strawberry.extensions.validation_cache import _get_validate_cache

    parsed, validated = _get_parse_cache(512), _get_validate_cache(512)

    async def send(query: str) -> None:
        response = await client.post("/graphql", json={"query": query}, headers={"origin": ORIGIN})
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

    long = '{ nope(x: "' + "a" * (256 * 1024 + 1) + '") }'  # past limits.KEPT_TEXT
    before = parsed.cache_info().currsize, validated.cache_info().currsize
    await send(long)
    assert (parsed.cache_info().currsize, validated.cache_info().currsize) == before
    # A short one is still remembered by both.
    await send('{ nope(x: "' + "b" * 100 + '") }')
    assert parsed.cache_info().currsize == before[0] + 1
    assert validated.cache_info().currsize == before[1] + 1
