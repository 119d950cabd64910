"""Resolvers called without strawberry's per-call argument conversion (issue #14).

On every call of a field with a resolver, strawberry's wrapper converts the arguments
graphql-core gives it (`convert_arguments`: a dozen type tests per argument), then builds the
chain of field extensions anew. On a whole record that was 7 % of the instructions of a
request (ten section fields of three arguments each, docs/benchmarks.md step 17), for values
it returns unchanged: an argument of a plain type (Int, String, Boolean, Float, optional or
not) is kept as graphql-core coerced it (`convert_argument` keeps leaf values).

`prepare_resolvers(schema)` gives each field whose arguments are all of plain types a
resolver that does, in the same order, what strawberry's does: the strawberry `Info`, the
arguments by their Python names, the resolver's `self`, `root`, `parent` and `info`
parameters, then the field's extensions (the section permission among them) around the
resolver, their chain built once at start-up by strawberry's own
`build_field_extension_resolvers`. Fields with an exception handler, an extension that
reshapes arguments, or an argument of any other type (an input object, an enum, an ID, a
list, a `Maybe`) keep strawberry's resolver.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial, reduce
from typing import Any

from graphql import GraphQLObjectType
from strawberry.extensions.field_extension import FieldExtension, build_field_extension_resolvers
from strawberry.types.base import StrawberryMaybe, StrawberryOptional
from strawberry.types.field import StrawberryField

# Where strawberry keeps a GraphQL field's definition.
STRAWBERRY_DEFINITION = "strawberry-definition"
_PLAIN_TYPES = (int, str, bool, float)
# Strawberry's resolver, kept on the field it was replaced on (tests compare the two).
STRAWBERRY_RESOLVE = "_dmp_strawberry_resolve"
# Set on a field whose direct resolver always returns an awaitable (an async resolver).
ASYNC_RESOLVE = "_dmp_async_resolve"


def _plain(argument_type: Any) -> bool:
    if isinstance(argument_type, StrawberryMaybe):
        return False
    if isinstance(argument_type, StrawberryOptional):
        argument_type = argument_type.of_type
    return any(argument_type is t for t in _PLAIN_TYPES)


def direct_resolver(schema: Any, definition: StrawberryField) -> Callable[..., Any] | None:
    """The resolver of a field whose arguments need no conversion, or None."""
    resolver = definition.base_resolver
    if resolver is None or schema.schema_converter._get_field_exception_handlers(definition):
        return None
    if any(type(e).map_arguments is not FieldExtension.map_arguments for e in definition.extensions):
        return None
    names: dict[str, str] = {}
    for argument in definition.arguments:
        if not _plain(argument.type) or argument.python_name is None:
            return None
        names[schema.config.name_converter.from_argument(argument)] = argument.python_name

    takes_self = resolver.self_parameter is not None
    sources = [p.name for p in (resolver.parent_parameter, resolver.root_parameter) if p is not None]
    info_name = resolver.info_parameter.name if resolver.info_parameter is not None else None
    info_class = schema.config.info_class
    get_result = definition.get_result

    def call(source: Any, info: Any, **kwargs: Any) -> Any:
        # The source the extensions pass on (the section permission passes the field's own).
        # Strawberry keeps a parameter named `info` out of the extensions' arguments.
        if info_name == "info":
            kwargs["info"] = info
        return get_result(source, info=info, args=[source] if takes_self else [], kwargs=kwargs)

    functions = build_field_extension_resolvers(definition) if definition.extensions else []
    chain: Callable[..., Any] = reduce(lambda inner, outer: partial(outer, inner), functions, call)

    def resolve(source: Any, raw_info: Any, **raw: Any) -> Any:
        info = info_class(_raw_info=raw_info, _field=definition)
        kwargs = {names[name]: value for name, value in raw.items()}
        for name in sources:
            kwargs[name] = source
        if info_name is not None and info_name != "info":
            kwargs[info_name] = info
        return chain(source, info, **kwargs)

    return resolve


def prepare_resolvers(schema: Any) -> None:
    """Give each field that qualifies, outside the subscription type, its direct resolver."""
    for graphql_type in schema._schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        if graphql_type is schema._schema.subscription_type:
            continue
        for field in graphql_type.fields.values():
            definition = (field.extensions or {}).get(STRAWBERRY_DEFINITION)
            if not isinstance(definition, StrawberryField) or getattr(field.resolve, "_is_default", False):
                continue
            resolve = direct_resolver(schema, definition)
            if resolve is not None:
                setattr(field, STRAWBERRY_RESOLVE, field.resolve)
                setattr(field, ASYNC_RESOLVE, definition.is_async)
                field.resolve = resolve
