"""Cheaper execution of plain fields (issue #14).

A consultation returns a few hundred fields, most of them plain attributes of an object
(an entry's `id`, `title`, `date`; an edge's `node`). For each, graphql-core builds a
resolve info, calls strawberry's wrapper, which calls the field's `get_result`, which calls
`getattr`, then dispatches the value through `complete_value`. On the consultation that was
about a fifth of the server's CPU (docs/benchmarks.md).

`prepare(schema)` marks, once at start-up, the fields strawberry itself treats as "basic"
(no resolver, no field extension, no permission): their resolver becomes a direct `getattr`,
and those of a scalar or enum type are completed by the executor below without a resolve
info. So are the fields whose resolver strawberry would call with the source alone (a sync
method taking only `self`, with no extension, permission, argument, info or exception
handler, such as a record's `ins` or `sectionAccess`): they are read by calling the method,
as strawberry's wrapper would, without the wrapper. Any value the short path cannot
complete as a plain leaf (None on a non-null field, a failed coercion, an exception) goes
through graphql-core's own path, which raises the same errors as before. Fields with any
other resolver, or a permission, are never touched.

Entries are returned through the `Entry` interface; its runtime type is found by the
object's class in a table built at start-up, with strawberry's own resolution for anything
not in the table.
"""

from __future__ import annotations

import datetime as dt
import types
import weakref
from asyncio import CancelledError, Future, ensure_future, get_running_loop
from collections.abc import Awaitable, Callable, Generator, Sequence
from contextvars import Context, copy_context
from enum import EnumMeta
from functools import lru_cache
from keyword import iskeyword
from operator import attrgetter, is_
from types import CoroutineType
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLInterfaceType,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfoHelpers,
    GraphQLScalarType,
    GraphQLString,
    GraphQLUnionType,
    Undefined,
)
from graphql.execution.collect_fields import CollectedFields, collect_subfields
from graphql.execution.executor import to_nodes
from graphql.execution.values import VariableValues, get_argument_values
from graphql.language import (
    FieldNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
)
from graphql.pyutils import Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.types.base_scalars import isoformat
from strawberry.types.base import StrawberryObjectDefinition

from backend.schema.arguments import ASYNC_RESOLVE, STRAWBERRY_DEFINITION

# Set by strawberry.cast on an object returned as another type.
_CAST = "__as_strawberry_type__"
# Set on a GraphQLField whose value is read from its source alone: the function reading it
# (the attribute's getter, or the method strawberry would call with the source alone).
_PLAIN = "_dmp_plain"
# Set on such a field of a scalar or enum type: its value's completer.
_LEAF = "_dmp_plain_leaf"
# Set on a field read as a plain attribute: the attribute's name.
_ATTRIBUTE = "_dmp_attribute"
# Set on an object type: the class of its values. On an interface or union: the object
# type of each class it returns.
_ORIGIN = "_dmp_origin"
_RUNTIME = "_dmp_runtime"


def _attribute(name: str) -> Callable[..., Any]:
    def resolve(source: Any, _info: Any, **_kwargs: Any) -> Any:
        return getattr(source, name)

    resolve._is_default = True  # type: ignore[attr-defined]  # as strawberry marks its own
    return resolve


def _is_basic(field: GraphQLField) -> bool:
    """A field strawberry resolves as a plain attribute (strawberry's own test)."""
    definition = (field.extensions or {}).get(STRAWBERRY_DEFINITION)
    return (
        definition is not None
        and getattr(field.resolve, "_is_default", False)
        and getattr(definition, "is_basic_field", False)
    )


def _source_only(schema: Any, field: GraphQLField) -> Callable[[Any], Any] | None:
    """The resolver of a field strawberry calls with the source and nothing else: a sync
    method taking only `self`, without extension, permission or exception handler. Its
    result is what strawberry's wrapper would return; the wrapper stays graphql-core's."""
    definition: Any = (field.extensions or {}).get(STRAWBERRY_DEFINITION)
    resolver = getattr(definition, "base_resolver", None)
    if resolver is None or definition.extensions or getattr(definition, "permission_classes", None):
        return None
    if (
        resolver.is_async
        or resolver.arguments
        or resolver.self_parameter is None
        or resolver.info_parameter is not None
        or resolver.root_parameter is not None
        or resolver.parent_parameter is not None
        or schema.schema_converter._get_field_exception_handlers(definition)
    ):
        return None
    function = resolver.wrapped_func
    return function if callable(function) else None


def prepare(schema: Any) -> None:
    """Mark the plain fields and index the interfaces' implementations of `schema`."""
    named_types = [t for t in schema._schema.type_map.values() if not t.name.startswith("__")]
    for graphql_type in named_types:
        if isinstance(graphql_type, GraphQLObjectType):
            definition = getattr(schema.schema_converter.type_map.get(graphql_type.name), "definition", None)
            if isinstance(definition, StrawberryObjectDefinition) and not definition.is_graphql_generic:
                setattr(graphql_type, _ORIGIN, definition.origin)
            for field in graphql_type.fields.values():
                getter: Callable[[Any], Any] | None
                if _is_basic(field):
                    name = field.extensions[STRAWBERRY_DEFINITION].python_name
                    field.resolve = _attribute(name)
                    getter = attrgetter(name)
                    setattr(field, _ATTRIBUTE, name)
                else:
                    getter = _source_only(schema, field)
                    if getter is None:
                        continue
                setattr(field, _PLAIN, getter)
                field_type = field.type
                inner = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
                if isinstance(inner, GraphQLScalarType | GraphQLEnumType):
                    setattr(field, _LEAF, _leaf(inner, non_null=inner is not field_type))
    # After the object types, whose classes the interfaces and unions index.
    for graphql_type in named_types:
        if isinstance(graphql_type, GraphQLInterfaceType | GraphQLUnionType):
            _index_implementations(schema, graphql_type)


def _index_implementations(schema: Any, abstract: GraphQLInterfaceType | GraphQLUnionType) -> None:
    """Resolve the runtime type by the object's class, strawberry's resolution as fallback."""
    by_class: dict[type, GraphQLObjectType] = {}
    for possible in schema._schema.get_possible_types(abstract):
        origin = getattr(possible, _ORIGIN, None)
        if origin is not None:
            by_class[origin] = possible
    fallback = abstract.resolve_type
    if fallback is None or not by_class:
        return
    setattr(abstract, _RUNTIME, by_class)

    def resolve_type(obj: Any, info: Any, abstract_type: Any) -> Any:
        runtime = by_class.get(type(obj))
        if runtime is not None and not hasattr(obj, _CAST):
            return runtime.name
        return fallback(obj, info, abstract_type)

    abstract.resolve_type = resolve_type


class _NotPlain(Exception):  # noqa: N818 - a signal, not an error
    """A value the plain completion leaves to graphql-core."""


_NOT_PLAIN = _NotPlain()
Completer = Callable[[Any], Any]


# Set on the completer of a non-null object, list or abstract value: the completer of the
# value itself. Every completer built here returns None for None and only for None, so a
# caller that holds the inner one checks for None itself instead of calling the wrapper.
_INNER = "_dmp_inner"


def _not_plain() -> Any:
    raise _NOT_PLAIN


def _non_null(inner: Completer) -> Completer:
    def complete(value: Any) -> Any:
        if value is None:
            raise _NOT_PLAIN
        return inner(value)

    setattr(complete, _INNER, inner)
    return complete


def _list(item: Completer) -> Completer:
    inner: Completer | None = getattr(item, _INNER, None)

    def complete(value: Any) -> Any:
        if value is None:
            return None
        if type(value) is not list and type(value) is not tuple:
            raise _NOT_PLAIN
        return [item(v) for v in value]

    if inner is None:
        return complete

    def complete_non_null(value: Any) -> Any:
        if value is None:
            return None
        if type(value) is not list and type(value) is not tuple:
            raise _NOT_PLAIN
        return [inner(v) if v is not None else _not_plain() for v in value]

    return complete_non_null


@lru_cache(maxsize=256)
def _enum_names(leaf_type: GraphQLLeafType) -> dict[int, str]:
    """The GraphQL name of each member of the Python enum behind an enum type, by the
    member's identity: strawberry's `coerce_output_value` finds it by comparing the value
    with each of the type's values in turn. Members live as long as their enum, so no other
    object can share their identity. Made once per type (a leaf's completer and the object
    completers that name its members share the table; none changes it)."""
    wrapped: Any = getattr(leaf_type, "wrapped_cls", None)
    if not isinstance(leaf_type, GraphQLEnumType) or not isinstance(wrapped, EnumMeta):
        return {}
    members: list[Any] = list(wrapped)
    return {id(member): leaf_type.coerce_output_value(member) for member in members}


# Built-in scalars that give back a value of this exact Python type unchanged.
_KEPT: dict[GraphQLScalarType, type] = {GraphQLString: str, GraphQLID: str, GraphQLBoolean: bool}
# strawberry's date and time scalars, which serialize a value with its `isoformat`: the
# Python type whose values the type's own `isoformat` gives the same text for.
_ISO_TYPES: dict[str, type[dt.date] | type[dt.time]] = {
    "Date": dt.date, "DateTime": dt.datetime, "Time": dt.time,
}


def _isoformat(leaf_type: GraphQLLeafType) -> tuple[type, Callable[[Any], str]] | None:
    """For strawberry's Date, DateTime and Time: the exact Python type of their values and
    its `isoformat`, which a value of that type is completed with (what their serializer,
    `methodcaller("isoformat")`, calls); None for any other type."""
    python_type = _ISO_TYPES.get(leaf_type.name)
    if python_type is None or getattr(leaf_type, "serialize", None) is not isoformat:
        return None
    return python_type, python_type.isoformat


def _leaf(leaf_type: GraphQLLeafType, *, non_null: bool = False) -> Completer:
    """The completion of a scalar or enum value; of a non-null one, refusing None itself
    (one call per value instead of two)."""
    coerce = leaf_type.coerce_output_value
    names = _enum_names(leaf_type)
    kept = _KEPT.get(leaf_type) if isinstance(leaf_type, GraphQLScalarType) else None
    iso_type, iso = _isoformat(leaf_type) or (None, None)

    def complete(value: Any) -> Any:
        if type(value) is kept:
            return value
        if type(value) is iso_type:
            return iso(value)  # type: ignore[misc]  # set whenever iso_type is
        if value is None:
            if non_null:
                raise _NOT_PLAIN
            return None
        if names:
            name = names.get(id(value))
            if name is not None:
                return name
        if hasattr(value, "__await__"):  # a method's awaitable: graphql-core awaits it
            raise _NOT_PLAIN
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            raise _NOT_PLAIN
        return coerced

    return complete


CollectSubfields = Callable[[GraphQLObjectType, Any], Any]


_NO_VARIABLES = VariableValues({}, {})


def _object_completer(
    origin: type, type_name: str, fields: Sequence[tuple[str, GraphQLField | None, Completer | None]]
) -> Completer:
    """The completer of an object's plain selection, written as one function.

    A closure looping over the fields called two functions per field (its getter, its
    completer) and built the dict in a comprehension of its own; the function written here
    builds the dict in one expression, reads attributes directly, returns a `str` or `bool`
    that a String, ID or Boolean field holds without calling its completer (which would
    return it unchanged), and names an enum member from its type's table. Only fixed text
    goes into the source: the response names and attribute names are checked identifiers,
    written as literals or attribute reads; every other value (the class, the completers,
    the getters, the tables) is passed in its namespace.
    """
    namespace: dict[str, Any] = {"origin": origin, "_NOT_PLAIN": _NOT_PLAIN, "_not_plain": _not_plain}
    items: list[str] = []
    for k, (response_name, field, sub) in enumerate(fields):
        if not response_name.isidentifier():  # a GraphQL name always is
            raise ValueError(response_name)
        if field is None or sub is None:  # __typename: the type's name, as String completes it
            items.append(f"{response_name!r}: {type_name!r}")
            continue
        attribute = getattr(field, _ATTRIBUTE, None)
        if isinstance(attribute, str) and attribute.isidentifier() and not iskeyword(attribute):
            read = f"value.{attribute}"
        else:
            namespace[f"g{k}"] = getattr(field, _PLAIN)
            read = f"g{k}(value)"
        namespace[f"c{k}"] = sub
        field_type = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
        kept = _KEPT.get(field_type) if isinstance(field_type, GraphQLScalarType) else None
        names = _enum_names(field_type) if isinstance(field_type, GraphQLEnumType) else None
        iso = _isoformat(field_type) if isinstance(field_type, GraphQLScalarType) else None
        inner = getattr(sub, _INNER, None)
        if kept is not None:
            namespace[f"k{k}"] = kept
            items.append(f"{response_name!r}: v if type(v := {read}) is k{k} else c{k}(v)")
        elif iso is not None:
            namespace[f"t{k}"], namespace[f"i{k}"] = iso
            items.append(f"{response_name!r}: i{k}(v) if type(v := {read}) is t{k} else c{k}(v)")
        elif inner is not None:  # a non-null object, list or abstract value
            namespace[f"i{k}"] = inner
            items.append(f"{response_name!r}: i{k}(v) if (v := {read}) is not None else _not_plain()")
        elif names:  # an enum member is named from the table, anything else by the completer
            namespace[f"n{k}"] = names
            items.append(
                f"{response_name!r}: n if (n := n{k}.get(id(v := {read}))) is not None else c{k}(v)"
            )
        else:
            items.append(f"{response_name!r}: c{k}({read})")
    source = (
        "def complete(value):\n"
        "    if value is None:\n"
        "        return None\n"
        "    if type(value) is not origin:\n"
        "        raise _NOT_PLAIN\n"
        "    return {" + ", ".join(items) + "}\n"
    )
    exec(compile(source, f"<plain completer of {type_name}>", "exec"), namespace)  # noqa: S102 - fixed text, checked names
    complete: Completer = namespace["complete"]
    return complete


class _Builder:
    """Builds the completer of a selection, or None where something below is not plain."""

    def __init__(self, collect: CollectSubfields) -> None:
        self.collect = collect
        # By the selection's list, kept in the value: an id is only unique while its object
        # lives, and the lists a shared collection makes are new, freed once built from.
        self.built: dict[tuple[Any, int], tuple[Any, Completer | None]] = {}

    def completer(self, return_type: Any, field_details_list: Any) -> Completer | None:
        key = (return_type, id(field_details_list))
        found = self.built.get(key)
        if found is not None:
            return found[1]
        # While it is built: a selection is not its own sub-selection.
        self.built[key] = (field_details_list, None)
        completer = self._build(return_type, field_details_list)
        self.built[key] = (field_details_list, completer)
        return completer

    def _build(self, return_type: Any, field_details_list: Any) -> Completer | None:
        if isinstance(return_type, GraphQLNonNull):
            if isinstance(return_type.of_type, GraphQLScalarType | GraphQLEnumType):
                return _leaf(return_type.of_type, non_null=True)
            inner = self.completer(return_type.of_type, field_details_list)
            return _non_null(inner) if inner is not None else None
        if isinstance(return_type, GraphQLList):
            item = self.completer(return_type.of_type, field_details_list)
            return _list(item) if item is not None else None
        if isinstance(return_type, GraphQLScalarType | GraphQLEnumType):
            return _leaf(return_type)
        if isinstance(return_type, GraphQLObjectType):
            return self._object(return_type, field_details_list)
        if isinstance(return_type, GraphQLInterfaceType | GraphQLUnionType):
            return self._abstract(return_type, field_details_list)
        return None

    def _object(self, object_type: GraphQLObjectType, field_details_list: Any) -> Completer | None:
        origin = getattr(object_type, _ORIGIN, None)
        if origin is None:
            return None
        grouped, deferred, _forbidden = self.collect(object_type, field_details_list)
        if deferred:
            return None
        # (response name, field, completer); neither field nor completer: __typename.
        fields: list[tuple[str, GraphQLField | None, Completer | None]] = []
        for response_name, group in grouped.items():
            if any(d.defer_usage is not None or d.fragment_variable_values for d in group):
                return None
            name = group[0].node.name.value
            if name == "__typename":
                fields.append((response_name, None, None))
                continue
            field = object_type.fields.get(name)
            if field is None or getattr(field, _PLAIN, None) is None:
                return None
            sub = self.completer(field.type, group)
            if sub is None:
                return None
            fields.append((response_name, field, sub))
        return _object_completer(origin, object_type.name, fields)

    def _abstract(
        self, abstract: GraphQLInterfaceType | GraphQLUnionType, field_details_list: Any
    ) -> Completer | None:
        by_class: dict[type, GraphQLObjectType] | None = getattr(abstract, _RUNTIME, None)
        if not by_class:
            return None
        # A runtime type whose selection is not plain stays out: its values go to graphql-core.
        # strawberry.cast marks an instance with `setattr`: the mark is looked for in the
        # instance's dict, not with `hasattr`, which would call a class's `__getattr__` (an
        # entry's reads its details) for every value. A class holding the mark itself, or
        # whose instances have no dict, is left to graphql-core.
        completers = {
            cls: sub
            for cls, runtime in by_class.items()
            if (sub := self.completer(runtime, field_details_list)) is not None
            and not hasattr(cls, _CAST)
            and "__dict__" in dir(cls)
        }

        def complete(value: Any) -> Any:
            if value is None:
                return None
            sub = completers.get(type(value))
            if sub is None or _CAST in value.__dict__:
                raise _NOT_PLAIN
            return sub(value)

        return complete


def _without_directives(
    selection_set: SelectionSetNode | None, fragments: dict[str, Any], seen: set[str]
) -> bool:
    """Whether no directive appears anywhere below: the selection is then the same whatever
    the variables, and its completer can serve every request with the same document."""
    for selection in selection_set.selections if selection_set else ():
        if selection.directives:
            return False
        if isinstance(selection, FieldNode | InlineFragmentNode):
            if not _without_directives(selection.selection_set, fragments, seen):
                return False
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in seen:
                continue
            seen.add(name)
            details = fragments.get(name)
            if details is None:
                return False
            definition = details.definition
            if definition.directives or not _without_directives(
                definition.selection_set, fragments, seen
            ):
                return False
    return True


# Completers of selections without directives, shared by the requests that send the same
# document: the parser cache gives them the same syntax nodes. Keyed by the type and the
# identity of the field nodes, which the entry keeps alive so that no other node can take
# their identity while it is here.
_SHARED: dict[tuple[int, tuple[int, ...]], tuple[Any, Sequence[FieldNode], Completer | None]] = {}
_SHARED_MAX = 2048
# The sub-fields graphql-core collects for an object it completes itself (a record with its
# section fields), by the same rule.
_COLLECTED: dict[tuple[int, tuple[int, ...]], tuple[Any, Sequence[FieldNode], CollectedFields]] = {}
# Argument values of field nodes without variables, by the same rule: (node, field, values).
_ARGUMENTS: dict[tuple[int, int], tuple[FieldNode, GraphQLField, dict[str, Any]]] = {}


_Key = tuple[int, tuple[int, ...]]


def _nodes_of(field_details_list: Any) -> tuple[FieldNode, ...]:
    # One node is the usual case: read without building a generator.
    if len(field_details_list) == 1:
        return (field_details_list[0].node,)
    return tuple(d.node for d in field_details_list)


def _shared(table: dict[_Key, Any], return_type: Any, nodes: tuple[FieldNode, ...]) -> tuple[_Key, Any]:
    """The key of a selection in one of the shared tables, and its entry there or None."""
    key = (id(return_type), tuple(map(id, nodes)))
    entry = table.get(key)
    if entry is not None and entry[0] is return_type and all(map(is_, entry[1], nodes)):
        return key, entry
    return key, None


def _share(table: dict[_Key, Any], key: _Key, entry: Any) -> None:
    if len(table) >= _SHARED_MAX:
        table.clear()
    table[key] = entry


def _helpers(executor: weakref.ref[ExecutionContext]) -> GraphQLResolveInfoHelpers:
    def track(values: Sequence[Any]) -> None:
        live = executor()
        if live is not None:  # a resolver runs only while its executor does
            live.track_async_work(values)

    def gather(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
        return gather_with_cancel(*values)

    return GraphQLResolveInfoHelpers(gather=gather, track=track)


class ExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, completing plain values without graphql-core's machinery.

    `complete_value` first tries to complete a value whose whole selection is made of plain
    fields (an entry connection's `edges { node { id title date } }`, a `pageInfo`, a list
    of section accesses) with a completer built for that selection: lists item by item,
    objects by their exact class, leaves by their type's coercion. The first thing it does
    not expect (an exception, a None where the schema says non-null, an unknown class)
    makes it give the whole value to graphql-core, whose completion then runs as before:
    reading plain attributes twice has no effect, and errors are raised and located by
    graphql-core alone. Selections with a resolver field, a deferred fragment, or under a
    schema extension that wraps resolvers are never completed here. A selection without
    directives is built once for all the requests sending the same document; one with
    directives (whose outcome depends on the variables) once per request.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A schema extension that wraps every field's resolution (`resolve`) must see them
        # all: the short paths are taken only when no extension does.
        manager = self.middleware_manager
        self._plain_allowed = manager is None or not manager.middlewares
        self._builder: _Builder | None = None  # for selections with directives
        # graphql-core's helpers are bound methods of the executor, which holds them: a cycle
        # that keeps the request (its context, loaders and rows) for the cyclic collector. The
        # same helpers, reaching the executor through a weak reference, let it go at once.
        self.async_helpers = _helpers(weakref.ref(self))

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Path,
        position_context: Any,
    ) -> Any:
        field = parent_type.fields.get(field_details_list[0].node.name.value)
        if self._plain_allowed and position_context is None:
            getter: Callable[[Any], Any] | None = getattr(field, _PLAIN, None)
            if getter is not None:
                complete = getattr(field, _LEAF, None) or self._completer(field.type, field_details_list)
                if complete is not None:
                    value: Any = None
                    try:
                        value = getter(source)
                        return complete(value)
                    except Exception:  # noqa: S110 - graphql-core's path below raises it, located
                        pass
                    if self.is_awaitable(value):  # a method's awaitable: awaited, not called again
                        info = self.build_resolve_info(field, to_nodes(field_details_list), parent_type, path)
                        return self.complete_awaitable_value(
                            field.type, field_details_list, info, path, value, None
                        )
            elif getattr(field, ASYNC_RESOLVE, False):
                return self._execute_async(field, parent_type, source, field_details_list, path)
        return super().execute_field(parent_type, source, field_details_list, path, position_context)

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        """graphql-core's `execute_fields`, with each field's coroutine started at once.

        graphql-core gathers a selection's coroutines into one asyncio task each. Here a
        field's coroutine runs at once, in a context of its own as a task's would, up to its
        first suspension: a DataLoader's `load` is then already made when the next field
        starts, so sibling sections still load in one statement, one event-loop turn
        earlier. The started coroutines are then driven from the request's task by
        `_finish`, each resumed as soon as what it waits for is done, as its own task would
        be (not one after the other: see `_finish`). Same results, same errors at
        the same paths; a field that raises (a non-null field's error) cancels the ones still
        running and waits for them, as graphql-core's `gather_with_cancel` does. What differs
        from a task: `asyncio.current_task()` inside a field is the request's task, so a
        query field's resolver must not use `asyncio.timeout` (none does).
        """
        if position_context is not None:  # incremental delivery: graphql-core's own way
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        started: list[_Started] = []
        failure: Exception | None = None  # a coroutine's, raised before it waited
        try:
            for response_name, field_details_list in grouped_field_set.items():
                result = self.execute_field(
                    parent_type, source_value, field_details_list,
                    Path(path, response_name, parent_type.name), None,
                )
                if result is Undefined:
                    continue
                if type(result) is CoroutineType:
                    context = copy_context()
                    try:
                        yielded = context.run(result.send, None)
                    except StopIteration as finished:  # it never had to wait
                        results[response_name] = finished.value
                        continue
                    except Exception as error:  # noqa: BLE001 - raised once the others are cancelled
                        failure = failure or error
                        continue
                    results[response_name] = None  # keeps the field's place in the answer
                    started.append(_Started(response_name, result, yielded, context))
                elif self.is_awaitable(result):  # another awaitable: run as graphql-core would
                    results[response_name] = None
                    started.append(_Started(response_name, ensure_future(result), None, None))
                else:
                    results[response_name] = result
        except Exception:
            if started:  # settled in the background, as graphql-core does with its awaitables
                self.settle_in_background([each.drive() for each in started])
            raise
        if failure is not None:
            return _failed(started, failure)
        if not started:
            return results
        return _finish(results, started)

    def _execute_async(
        self, field: GraphQLField, parent_type: GraphQLObjectType, source: Any,
        field_details_list: Any, path: Path,
    ) -> Any:
        """graphql-core's `execute_field` for a field whose resolver returns an awaitable
        (schema/arguments.py), its argument values read once per document when written in it."""
        info = self.build_resolve_info(field, to_nodes(field_details_list), parent_type, path)
        try:
            result = field.resolve(source, info, **self._arguments(field, field_details_list[0]))  # type: ignore[misc]
        except Exception as raw_error:  # noqa: BLE001 - located and reported as graphql-core does
            self.handle_field_error(raw_error, field.type, field_details_list, path)
            return None
        return self.complete_awaitable_value(field.type, field_details_list, info, path, result, None)

    def _arguments(self, field: GraphQLField, details: Any) -> dict[str, Any]:
        """The field's argument values; those of a node without variables are computed once
        and kept for the requests sending the same document (values of plain types only,
        which no resolver can change; each call unpacks them into a dict of its own)."""
        node = details.node
        key = (id(field), id(node))
        kept = _ARGUMENTS.get(key)
        if kept is not None and kept[0] is node and kept[1] is field:
            return kept[2]
        values = get_argument_values(
            field, node, self.variable_values, details.fragment_variable_values, self.hide_suggestions
        )
        if details.fragment_variable_values is None and all(
            a.value.kind != "variable" for a in node.arguments or ()
        ):
            if len(_ARGUMENTS) >= _SHARED_MAX:
                _ARGUMENTS.clear()
            _ARGUMENTS[key] = (node, field, values)
        return values

    def complete_value(
        self,
        return_type: Any,
        field_details_list: Any,
        info: Any,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        if self._plain_allowed and position_context is None:
            complete = self._completer(return_type, field_details_list)
            if complete is not None:
                try:
                    return complete(result)
                except Exception:  # noqa: S110 - graphql-core's completion below raises it, located
                    pass
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _completer(self, return_type: Any, field_details_list: Any) -> Completer | None:
        nodes = _nodes_of(field_details_list)
        key, shared = _shared(_SHARED, return_type, nodes)
        if shared is not None:
            return shared[2]  # type: ignore[no-any-return]
        try:
            if self._shareable(field_details_list):
                completer = _Builder(self._collect_shared).completer(return_type, field_details_list)
                _share(_SHARED, key, (return_type, nodes, completer))
                return completer
            if self._builder is None:
                self._builder = _Builder(self.collect_subfields)
            return self._builder.completer(return_type, field_details_list)
        except Exception:  # noqa: BLE001 - a selection this cannot read is graphql-core's
            return None

    def _shareable(self, field_details_list: Any) -> bool:
        """Whether the selection below these field nodes is the same for every request that
        sends their document: no directive, no deferred fragment, no fragment variable."""
        return all(
            d.defer_usage is None
            and not d.fragment_variable_values
            and _without_directives(d.node.selection_set, self.fragments, set())
            for d in field_details_list
        )

    def collect_subfields(self, return_type: GraphQLObjectType, field_details_list: Any) -> CollectedFields:
        """graphql-core's, where it completes an object itself (a record, whose section fields
        have resolvers): the sub-fields of a selection that `_shareable` accepts are collected
        once for every request sending the same document, as its completers are, instead of
        once per request. Others are graphql-core's, collected with the request's variables."""
        nodes = _nodes_of(field_details_list)
        key, shared = _shared(_COLLECTED, return_type, nodes)
        if shared is not None:
            return shared[2]  # type: ignore[no-any-return]
        if not self._shareable(field_details_list):
            return super().collect_subfields(return_type, field_details_list)
        collected: CollectedFields = self._collect_shared(return_type, field_details_list)
        if not collected.new_defer_usages and not collected.forbidden_directive_instances:
            _share(_COLLECTED, key, (return_type, nodes, collected))
        return collected

    def _collect_shared(self, object_type: GraphQLObjectType, field_details_list: Any) -> Any:
        """Sub-fields collected for a shared completer: no directive below, so the variables
        play no part (an empty set of them is passed, the request's are not kept)."""
        return collect_subfields(
            self.schema, self.fragments, _NO_VARIABLES, self.operation, object_type,
            field_details_list, self.hide_suggestions,
        )


@types.coroutine
def _one_turn() -> Generator[None, None, None]:
    """A bare yield: the task runs again on the event loop's next turn (`asyncio.sleep(0)`)."""
    yield


class _Started:
    """A field's coroutine started by `execute_fields`, suspended on what it `yielded`, with
    the context it runs in; or, without a context, an asyncio future already running."""

    __slots__ = ("context", "coroutine", "finished", "name", "yielded")

    def __init__(self, name: str, coroutine: Any, yielded: Any, context: Context | None) -> None:
        self.name = name
        self.coroutine = coroutine
        self.yielded = _received(yielded)
        self.context = context
        self.finished = False

    def waits(self) -> Any:
        """The future this waits for; None after a bare yield (it goes on after a turn)."""
        return self.coroutine if self.context is None else self.yielded

    def may_go_on(self) -> bool:
        """Whether what it waits for is done (a bare yield's turn is `_finish`'s to give)."""
        waits = self.waits()
        return waits is None or not _is_future(waits) or waits.done()

    def go_on(self, error: BaseException | None = None) -> tuple[bool, Any]:
        """Resume the coroutine once, as a task would once what it awaits is done, or throw
        `error` in: (True, its value) if it returned, (False, None) if it waits again; its
        exception raised."""
        if self.context is None:  # an asyncio future, done
            self.finished = True
            return True, self.coroutine.result()
        yielded = self.yielded
        if error is None and yielded is not None and not _is_future(yielded):
            error = RuntimeError(f"a field's coroutine yielded {yielded!r}, not a future")
        try:
            if error is None:
                self.yielded = _received(self.context.run(self.coroutine.send, None))
            else:
                self.yielded = _received(self.context.run(self.coroutine.throw, error))
        except StopIteration as returned:
            self.finished = True
            return True, returned.value
        except BaseException:
            self.finished = True
            raise
        return False, None

    async def drive(self, *, cancel: bool = False) -> Any:
        """Run the coroutine to its end from the request's task, as a task of its own would:
        each future it waits on is awaited here, then the coroutine is resumed in its own
        context and finds the future done, with its result or its exception. With `cancel`,
        it is cancelled first as `Task.cancel` would: its pending future is cancelled, or
        else a CancelledError is thrown in."""
        if self.context is None:  # an asyncio future, already running
            if cancel:
                self.coroutine.cancel()
            return await self.coroutine
        error: BaseException | None = None
        yielded = self.yielded
        if cancel and not (_is_future(yielded) and yielded.cancel()):
            error = CancelledError()
        while True:
            if not cancel:
                yielded = self.yielded
                if yielded is None:
                    try:
                        await _one_turn()
                    except BaseException as raised:  # noqa: BLE001 - the request's cancellation, passed on
                        error = raised
                elif _is_future(yielded):
                    try:
                        await yielded
                    except BaseException as raised:  # noqa: BLE001 - the coroutine reads it from the future
                        if not (yielded.done() and (yielded.cancelled() or yielded.exception() is raised)):
                            error = raised  # the request's task was cancelled: passed on
            cancel = False
            returned, value = self.go_on(error)
            if returned:
                return value
            error = None


def _is_future(value: Any) -> bool:
    return getattr(value, "_asyncio_future_blocking", None) is not None


def _received(yielded: Any) -> Any:
    """What a coroutine yielded, taken as a task takes it: a future's blocking mark is reset
    at once. Another field awaiting the same future (a DataLoader's, for the same key) while
    the mark is set would fail with "await wasn't used with future"."""
    if _is_future(yielded):
        yielded._asyncio_future_blocking = False
    return yielded


async def _failed(started: list[_Started], failure: Exception) -> dict[str, Any]:
    """A field's coroutine raised before it waited: as when a task of graphql-core's gather
    raises, the others are cancelled and waited for, then the error is raised."""
    await _cancel(started)
    raise failure


async def _finish(results: dict[str, Any], started: list[_Started]) -> dict[str, Any]:
    """The started fields' values, each coroutine resumed as soon as what it waits for is
    done, as its own task would be; the first error cancels the others, waits for them, and
    is raised (graphql-core's `gather_with_cancel`).

    Not one after the other: a field woken while another runs may own what that one waits
    for next. An `asyncio.Lock` released by one field is handed to the field waiting for it
    (SQLite's connection lock, between two root fields that each read): had that field to
    wait for the first to end before going on, neither would.
    """
    waiting = started
    try:
        while len(waiting) > 1:
            await _until_one_may_go_on(waiting)
            still: list[_Started] = []
            for each in waiting:
                if each.may_go_on():
                    returned, value = each.go_on()
                    if returned:
                        results[each.name] = value
                        continue
                still.append(each)
            waiting = still
        if waiting:  # the last one alone: what it waits for is awaited as it is
            results[waiting[0].name] = await waiting[0].drive()
    except BaseException:
        await _cancel([each for each in started if not each.finished])
        raise
    return results


async def _until_one_may_go_on(waiting: list[_Started]) -> None:
    """Wait for a turn of the event loop where a coroutine made a bare yield (after which it
    may go on, as a task would be), else until one of the futures waited for is done."""
    futures = [each.waits() for each in waiting]
    if any(future is None for future in futures):
        await _one_turn()
        return
    if any(each.may_go_on() for each in waiting):
        return
    woken: Future[None] = get_running_loop().create_future()

    def wake(_: Any) -> None:
        if not woken.done():
            woken.set_result(None)

    for future in futures:
        future.add_done_callback(wake)
    try:
        await woken
    finally:
        for future in futures:
            future.remove_done_callback(wake)


async def _cancel(started: list[_Started]) -> None:
    """Cancel each started field and wait for it; their own errors give way to the first."""
    for each in started:
        try:
            await each.drive(cancel=True)
        except BaseException:  # noqa: BLE001, S110 - the first error is the one raised
            pass
