"""The cost limit lets a whole record's first pages through and stops oversized pages."""

from __future__ import annotations

import httpx
from graphql import GraphQLEnumType, GraphQLObjectType, GraphQLScalarType, build_schema, get_named_type

from tests.conftest import Caller
from tests.test_schema_contract import SCHEMA_FILE


def _scalars(type_: GraphQLObjectType) -> str:
    return " ".join(
        name for name, f in type_.fields.items()
        if isinstance(get_named_type(f.type), (GraphQLScalarType, GraphQLEnumType)) and not f.args
    )


def whole_record_query(first: int) -> str:
    schema = build_schema(SCHEMA_FILE.read_text())
    record = schema.type_map["PatientRecord"]
    assert isinstance(record, GraphQLObjectType)
    entry_types = [t for t in schema.type_map.values()
                   if isinstance(t, GraphQLObjectType) and any(i.name == "Entry" for i in t.interfaces)]
    fragments = " ".join(f"... on {t.name} {{ {_scalars(t)} author {{ displayName profession }} }}"
                         for t in entry_types)
    parts = []
    for name, field in record.fields.items():
        named = get_named_type(field.type)
        if "first" in field.args:
            parts.append(f"{name}(first: {first}) {{ totalCount pageInfo {{ hasNextPage endCursor }} "
                         f"edges {{ cursor node {{ {fragments} }} }} }}")
        elif isinstance(named, GraphQLObjectType):
            parts.append(f"{name} {{ {_scalars(named)} }}")
        else:
            parts.append(name)
    return "query Whole($ins: String!) { patientRecord(ins: $ins) { " + " ".join(parts) + " } }"


async def test_whole_record_first_page_passes_the_limits(client: httpx.AsyncClient) -> None:
    result = await Caller(client).gql(whole_record_query(20), {"ins": "185057512345673"})
    # Validation passed: the only error is the anonymous caller's, raised while executing.
    assert result.codes == ["UNAUTHENTICATED"], result.errors


async def test_hundred_of_everything_is_refused_before_execution(client: httpx.AsyncClient) -> None:
    result = await Caller(client).gql(whole_record_query(100), {"ins": "185057512345673"})
    assert result.codes == ["BAD_USER_INPUT"]
    assert "too costly" in result.errors[0]["message"]


async def test_a_repeated_query_is_validated_once(client: httpx.AsyncClient) -> None:
    """Over HTTP, an accepted document is prepared once (schema/direct.py), then reused."""
    from backend.schema import direct

    query = "query Repeated { me { id role } }"
    await Caller(client).gql(query)
    before = direct.prepare.cache_info()
    for _ in range(3):
        assert (await Caller(client).gql(query)).ok() == {"me": None}
    after = direct.prepare.cache_info()
    assert after.hits - before.hits == 3
    assert after.misses == before.misses


async def test_the_validation_cache_hits_in_the_full_pipeline() -> None:
    """Documents that go through the schema's extensions are validated once too."""
    from strawberry.extensions.validation_cache import _get_validate_cache

    from backend.schema.root import schema

    cached = _get_validate_cache(512)
    query = "query RepeatedInFull { me { id role } }"
    await schema.execute(query)
    before = cached.cache_info()
    for _ in range(3):
        await schema.execute(query)
    after = cached.cache_info()
    # The same document and the same rule classes: validated once, then served from the cache.
    assert after.hits - before.hits == 3
    assert after.misses == before.misses
