"""The executor's short paths for plain fields (backend/schema/execution.py) answer exactly
what strawberry's own execution answers: same data, same errors at the same paths.

Two schemas are built from the same types: one with strawberry's executor, one prepared
with the product's. Every query runs on both and the results are compared whole.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from inspect import isawaitable
from typing import Any

import pytest
import strawberry
from graphql import execute, parse
from strawberry.permission import BasePermission, PermissionExtension

from backend.schema import execution


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.interface
class Thing:
    id: strawberry.ID
    title: str


@strawberry.type
class Book(Thing):
    pages: int | None
    published: dt.date


@strawberry.type
class Song(Thing):
    colour: Colour
    seconds: int
    recorded: dt.datetime = dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    starts: dt.time = dt.time(20, 30)


@strawberry.type
class Edge:
    cursor: str
    node: Thing


@strawberry.type
class Holder:
    label: str


class Never(BasePermission):
    message = "never"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return False


@strawberry.type
class Page:
    edges: list[Edge]
    # Non-null, but may hold None to prove the error is located as graphql-core locates it.
    label: str
    holders: list[Holder]

    @strawberry.field
    def computed(self) -> str:
        return f"computed:{self.label}"

    # Methods strawberry calls with the source alone: read as plain fields.
    @strawberry.field
    def first_holder(self) -> Holder:
        return self.holders[0]

    @strawberry.field
    def holder_list(self) -> list[Holder]:
        return list(self.holders)

    @strawberry.field
    def favourite(self) -> Colour:
        return Colour.RED

    @strawberry.field
    def explode(self) -> str:
        raise ValueError("exploded")

    # Not read as plain fields: an info parameter, an argument, a permission.
    @strawberry.field
    def with_info(self, info: strawberry.Info) -> str:
        return f"{info.field_name}:{self.label}"

    @strawberry.field
    def greet(self, name: str = "vous") -> str:
        return f"bonjour {name}"

    @strawberry.field(extensions=[PermissionExtension([Never()], fail_silently=True)])
    def guarded(self) -> str | None:
        return "secret"


@dataclass
class NotAThing:
    """Not a strawberry type: returned where a Thing is expected, an error."""

    id: str = "x"
    title: str = "x"


def _page(label: Any = "main", odd: Any = None) -> Page:
    things: list[Any] = [
        Book(id=strawberry.ID("b1"), title="Livre", pages=120, published=dt.date(2024, 5, 1)),
        Song(id=strawberry.ID("s1"), title="Chanson", colour=Colour.BLUE, seconds=200),
        Book(id=strawberry.ID("b2"), title="Autre", pages=None, published=dt.date(2023, 1, 2)),
    ]
    if odd is not None:
        things.append(odd)
    return Page(
        edges=[Edge(cursor=f"c{i}", node=t) for i, t in enumerate(things)],
        label=label,
        holders=[Holder(label="h1"), Holder(label="h2")],
    )


@strawberry.type
class Query:
    @strawberry.field
    async def page(self) -> Page:
        return _page()

    @strawberry.field
    def broken_label(self) -> Page | None:
        return _page(label=None)

    @strawberry.field
    def numbered_label(self) -> Page | None:
        page = _page(label=5)
        page.edges[0].cursor = True  # type: ignore[assignment]  # a bool where a String is expected
        return page

    @strawberry.field
    def foreign_node(self) -> Page | None:
        return _page(odd=NotAThing())

    @strawberry.field
    def cast_node(self) -> Page | None:
        """A Book instance marked by strawberry.cast as a Song: resolved as a Song."""
        book = Book(id=strawberry.ID("b9"), title="Relié", pages=3, published=dt.date(2022, 2, 2))
        book.colour = Colour.RED  # type: ignore[attr-defined]
        book.seconds = 60  # type: ignore[attr-defined]
        return _page(odd=strawberry.cast(Song, book))

    @strawberry.field
    def bad_enum(self) -> Page | None:
        page = _page()
        page.edges[1].node.colour = "green"  # type: ignore[attr-defined]
        return page

    @strawberry.field
    def none_edge(self) -> Page | None:
        page = _page()
        page.edges.insert(1, None)  # type: ignore[arg-type]  # None in a list of non-null edges
        return page

    @strawberry.field
    def none_node(self) -> Page | None:
        page = _page()
        page.edges[2].node = None  # type: ignore[assignment]  # None in a non-null field
        return page

    @strawberry.field
    def odd_times(self) -> Page | None:
        """Dates and times of other types than their scalar's: a datetime where a Date is
        expected (a subclass of date), text where a date, a DateTime or a Time is expected."""
        page = _page()
        page.edges[0].node.published = dt.datetime(2024, 5, 1, 12, 30)  # type: ignore[attr-defined]
        song = page.edges[1].node
        song.recorded = "2020-01-02"  # type: ignore[attr-defined]
        song.starts = "20:30"  # type: ignore[attr-defined]
        return page

    @strawberry.field
    def text_date(self) -> Page | None:
        page = _page()
        page.edges[2].node.published = "2023-01-02"  # type: ignore[attr-defined]
        return page

    @strawberry.field
    def colours(self) -> list[Colour]:
        return [Colour.RED, Colour.BLUE]

    @strawberry.field
    def raw_colours(self) -> list[Colour]:
        return ["blue", Colour.RED]  # type: ignore[list-item]  # a member's value, then a member


def _schemas() -> tuple[strawberry.Schema, strawberry.Schema]:
    reference = strawberry.Schema(query=Query, types=[Book, Song])
    product = strawberry.Schema(
        query=Query, types=[Book, Song], execution_context_class=execution.ExecutionContext
    )
    execution.prepare(product)
    return reference, product


REFERENCE, PRODUCT = _schemas()

NODE = "node { __typename id title ... on Book { pages published } ... on Song { colour seconds } }"
QUERIES = {
    "connection": f"{{ page {{ edges {{ cursor {NODE} }} label holders {{ label }} }} }}",
    "aliases and typename": (
        "{ page { __typename a: label b: label edges { c: cursor node { t: __typename } } } }"
    ),
    "fragments": """
        query { page { ...P } }
        fragment P on Page { edges { node { ...T } } }
        fragment T on Thing { id ... on Song { colour } }
    """,
    "a resolver beside plain fields": f"{{ page {{ computed label edges {{ {NODE} }} }} }}",
    "skip and include": """
        query($yes: Boolean!) {
          page { label @skip(if: $yes) edges @include(if: $yes) { cursor @skip(if: $yes) node { id } } }
        }
    """,
    "directives in fragments": """
        query($yes: Boolean!) {
          page { edges { node { ...N @include(if: $yes) ... on Song @skip(if: $yes) { seconds } } } }
        }
        fragment N on Thing { id ... on Book { pages } }
    """,
    "non-null holding None": f"{{ brokenLabel {{ edges {{ {NODE} }} label }} }}",
    "a String holding a number or a bool": f"{{ numberedLabel {{ label edges {{ cursor {NODE} }} }} }}",
    "an object of no schema type": f"{{ foreignNode {{ edges {{ {NODE} }} }} }}",
    "an object cast to another type": f"{{ castNode {{ edges {{ {NODE} }} }} }}",
    "an enum value out of range": f"{{ badEnum {{ edges {{ {NODE} }} }} }}",
    "a list of enums": "{ colours }",
    "None in a list of non-null objects": f"{{ noneEdge {{ label edges {{ cursor {NODE} }} }} }}",
    "None in a non-null object field": f"{{ noneNode {{ edges {{ cursor {NODE} }} }} }}",
    "dates and times": (
        "{ page { edges { node { id ... on Book { published } ... on Song { recorded starts } } } } }"
    ),
    "dates and times of other types": (
        "{ oddTimes { edges { node { id ... on Book { published } ... on Song { recorded starts } } } } }"
    ),
    "text where a date is expected": f"{{ textDate {{ edges {{ {NODE} }} }} }}",
    "an enum given by its value": "{ rawColours }",
    "methods of the source alone": (
        "{ page { firstHolder { label } holderList { label } favourite computed label } }"
    ),
    "a method that raises": "{ page { label explode computed } }",
    "methods that are not plain": '{ page { withInfo greet g: greet(name: "Léa") guarded label } }',
    "directives beside a resolver": """
        query($yes: Boolean!) {
          page { withInfo label @skip(if: $yes) edges @include(if: $yes) { cursor } ...H }
        }
        fragment H on Page { holders @skip(if: $yes) { label } }
    """,
}


def _plain(result: Any) -> dict[str, Any]:
    return {
        "data": result.data,
        "errors": [
            {"message": e.message, "path": e.path, "locations": e.locations}
            for e in result.errors or []
        ],
    }


@pytest.mark.parametrize("name", sorted(QUERIES))
async def test_same_answer_as_strawberry(name: str) -> None:
    query = QUERIES[name]
    variables = {"yes": True} if "$yes" in query else None
    expected = _plain(await REFERENCE.execute(query, variable_values=variables))
    got = _plain(await PRODUCT.execute(query, variable_values=variables))
    assert got == expected
    if variables:
        variables = {"yes": False}
        expected = _plain(await REFERENCE.execute(query, variable_values=variables))
        assert _plain(await PRODUCT.execute(query, variable_values=variables)) == expected


async def test_errors_are_still_errors() -> None:
    """The fallbacks are exercised: each odd value gives graphql-core's error, not data."""
    for name in (
        "non-null holding None", "an object of no schema type", "an enum value out of range",
        "None in a list of non-null objects", "None in a non-null object field",
        "dates and times of other types", "text where a date is expected",
    ):
        result = await PRODUCT.execute(QUERIES[name])
        assert result.errors, name


def test_enum_members_are_named_by_identity() -> None:
    """The plain completion names a member from a table built once, not by comparing values."""
    colour = PRODUCT._schema.type_map["Colour"]
    assert execution._enum_names(colour) == {id(Colour.RED): "RED", id(Colour.BLUE): "BLUE"}
    assert execution._enum_names(PRODUCT._schema.type_map["String"]) == {}


def _counting_schema(seen: list[str]) -> strawberry.Schema:
    """The product's schema, with an executor that notes each field executed field by field."""

    class Counting(execution.ExecutionContext):
        def execute_field(self, parent_type, source, field_details_list, path, position_context):  # type: ignore[no-untyped-def]
            seen.append(f"{parent_type.name}.{field_details_list[0].node.name.value}")
            return super().execute_field(parent_type, source, field_details_list, path, position_context)

    schema = strawberry.Schema(query=Query, types=[Book, Song], execution_context_class=Counting)
    execution.prepare(schema)
    return schema


async def test_plain_fields_are_completed_without_graphql_core() -> None:
    """The short path is taken: the plain subtree never reaches graphql-core's completion."""
    seen: list[str] = []
    schema = _counting_schema(seen)
    result = await schema.execute(QUERIES["connection"])
    assert not result.errors
    assert len(result.data["page"]["edges"]) == 3  # type: ignore[index]
    # Only the root field is executed field by field; Page and below are completed whole.
    assert seen == ["Query.page"]
    assert issubclass(schema.execution_context_class, execution.StrawberryGraphQLCoreExecutionContext)


async def test_methods_of_the_source_alone_are_read_without_strawberry_wrapper() -> None:
    """A method taking only `self` is read as a plain field; a guarded one still is not."""
    seen: list[str] = []
    schema = _counting_schema(seen)
    result = await schema.execute(QUERIES["methods of the source alone"])
    assert not result.errors
    holders = [{"label": "h1"}, {"label": "h2"}]
    assert result.data == {"page": {"firstHolder": {"label": "h1"}, "holderList": holders,
                                    "favourite": "RED", "computed": "computed:main", "label": "main"}}
    assert seen == ["Query.page"]  # Page and below completed whole
    seen.clear()
    result = await schema.execute("{ page { guarded label } }")
    assert not result.errors and result.data == {"page": {"guarded": None, "label": "main"}}
    assert "Page.guarded" in seen  # the permission ran through strawberry's path


async def test_collected_fields_are_shared_by_the_requests_sending_the_same_document(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An object graphql-core completes itself (a resolver among its fields) has its
    sub-fields collected once for a document without directives, then taken from the shared
    table by every request sending that document (its parsed nodes); with directives, each
    request collects them with its own variables."""
    calls: list[str] = []
    collect = execution.collect_subfields

    def counting(*args: Any) -> Any:
        calls.append(args[4].name)  # the object type
        return collect(*args)

    monkeypatch.setattr(execution, "collect_subfields", counting)
    execution._COLLECTED.clear()
    document = parse("{ page { withInfo label edges { cursor node { id } } } }")
    expected = (await REFERENCE.execute("{ page { withInfo label edges { cursor node { id } } } }")).data
    for run in range(3):
        outcome = execute(PRODUCT._schema, document, executor_class=PRODUCT.execution_context_class)
        result = await outcome if isawaitable(outcome) else outcome
        assert not result.errors and result.data == expected
        if run == 0:  # the first request collects (for its completers too), the others do not
            assert "Page" in calls and len(execution._COLLECTED) == 1
            calls.clear()
    assert calls == [] and len(execution._COLLECTED) == 1

    execution._COLLECTED.clear()
    with_directives = parse(QUERIES["directives beside a resolver"])
    for yes in (True, False, True):
        outcome = execute(
            PRODUCT._schema, with_directives, variable_values={"yes": yes},
            executor_class=PRODUCT.execution_context_class,
        )
        result = await outcome if isawaitable(outcome) else outcome
        reference = await REFERENCE.execute(
            QUERIES["directives beside a resolver"], variable_values={"yes": yes}
        )
        assert result.data == reference.data and not result.errors
    assert execution._COLLECTED == {}


async def test_sibling_selections_of_one_type_keep_their_own_fields() -> None:
    """Two branches selecting different fields of the same type each get their own
    completer. The sub-fields of a shared selection are collected anew for each branch;
    a branch's lists must not be mistaken for the next one's when Python reuses their
    memory (a freed list's id given to a sibling's), which happened for about one fresh
    document in four. Each variant below is a new document, so nothing comes from a cache."""
    template = (
        "{{ page {{ edges {{ node {{ id }} }}{pad}"
        " a: edges {{ node {{ title }} }} b: edges {{ cursor node {{ __typename }} }}"
        " holders {{ label }} h: holders {{ __typename }} }} }}"
    )
    for k in range(60):
        query = template.format(pad=" " * (k + 1))
        expected = _plain(await REFERENCE.execute(query))
        assert not expected["errors"]
        assert _plain(await PRODUCT.execute(query)) == expected, k
