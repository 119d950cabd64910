"""Coercing the variables of an accepted document, by functions built once per type.

graphql-core coerces a request's variables value by value, asking the type of each what it
is (`coerce_input_value`), after walking the whole value once more to bound its nesting
(`input_is_nested_too_deeply`). For an insurer's import of 1,000 care items that was more
than half of the request's CPU (docs/benchmarks.md, step 25). Here each variable's type is
turned once into a function that coerces a value of that type exactly as
`coerce_input_value` does when the value is valid.

The first thing such a function does not accept (a null where the type is non-null, an
unknown field, a scalar that refuses the value) stops it: the request's variables then go
to graphql-core, which coerces them again and reports the errors itself. A variable with a
default value, a type that contains itself (whose nesting has no bound), or a one-of input
is never coerced here: the whole request goes to graphql-core.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    OperationDefinitionNode,
    Undefined,
    is_leaf_type,
)
from graphql.execution.get_variable_signature import GraphQLVariableSignature, get_variable_signature
from graphql.execution.values import VariableValues, VariableValueSource
from graphql.language.parser import MAX_NESTING_DEPTH
from graphql.pyutils import is_iterable
from graphql.type.definition import is_required_input_field
from graphql.utilities.coerce_input_value import coerce_default_value

Coercer = Callable[[Any], Any]


class _Refused(Exception):  # noqa: N818 - a signal: graphql-core decides, and reports
    pass


class _NotCompiled(Exception):  # noqa: N818 - a type this module leaves to graphql-core
    pass


@dataclass(frozen=True)
class Plan:
    """How an operation's variables are coerced: (name, signature, coercer) per variable."""

    variables: tuple[tuple[str, GraphQLVariableSignature, Coercer], ...]

    def coerce(self, inputs: dict[str, Any] | None) -> VariableValues | None:
        """The coerced variables, as graphql-core's `get_variable_values` gives them when
        they are valid; None when graphql-core must coerce them (and report what is wrong)."""
        inputs = inputs or {}
        sources: dict[str, VariableValueSource] = {}
        coerced: dict[str, Any] = {}
        for name, signature, coerce in self.variables:
            value = inputs.get(name, Undefined)
            if value is Undefined:
                return None  # absent: graphql-core omits it or refuses it
            try:
                coerced[name] = coerce(value)
            except _Refused:
                return None
            sources[name] = VariableValueSource(signature, value)
        return VariableValues(sources, coerced)


def plan(schema: GraphQLSchema, operation: OperationDefinitionNode) -> Plan | None:
    """The plan of an operation's variables; None if any of them is left to graphql-core."""
    variables = []
    for definition in operation.variable_definitions or ():
        if definition.default_value is not None:
            return None
        signature = get_variable_signature(schema, definition)
        if not isinstance(signature, GraphQLVariableSignature):
            return None  # an error, which graphql-core reports
        try:
            coerce = _coercer(signature.type, (), 0)
        except _NotCompiled:
            return None
        variables.append((signature.name, signature, coerce))
    return Plan(tuple(variables))


def _coercer(type_: GraphQLInputType, within: Sequence[GraphQLInputObjectType], depth: int) -> Coercer:
    """`coerce_input_value(value, type_)` for a valid value; raises `_Refused` otherwise."""
    if depth > MAX_NESTING_DEPTH:  # graphql-core refuses deeper values
        raise _NotCompiled
    if isinstance(type_, GraphQLNonNull):
        inner = _coercer(type_.of_type, within, depth)

        def non_null(value: Any) -> Any:
            if value is None:
                raise _Refused
            return inner(value)

        return non_null
    if isinstance(type_, GraphQLList):
        item = _coercer(type_.of_type, within, depth + 1)

        def listed(value: Any) -> Any:
            if value is None:
                return None
            if not is_iterable(value):  # a single value is a list of one
                return [item(value)]
            return [item(v) for v in value]

        return listed
    if isinstance(type_, GraphQLInputObjectType):
        return _input_object(type_, within, depth)
    if is_leaf_type(type_):
        coerce_leaf = type_.coerce_input_value

        def leaf(value: Any) -> Any:
            if value is None:
                return None
            try:
                coerced = coerce_leaf(value)
            except Exception as e:  # noqa: BLE001 - graphql-core words the refusal
                raise _Refused from e
            if coerced is Undefined:
                raise _Refused
            return coerced

        return leaf
    raise _NotCompiled


def _input_object(
    type_: GraphQLInputObjectType, within: Sequence[GraphQLInputObjectType], depth: int
) -> Coercer:
    if type_ in within or type_.is_one_of:
        raise _NotCompiled  # a type within itself: its nesting has no bound
    within = (*within, type_)
    names = frozenset(type_.fields)
    fields = tuple(
        (name, field.out_name or name, _coercer(field.type, within, depth + 1),
         is_required_input_field(field), field)
        for name, field in type_.fields.items()
    )
    out_type = type_.out_type

    def input_object(value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, dict) or not names.issuperset(value):
            raise _Refused  # not an object, or a field the type does not have
        coerced: dict[str, Any] = {}
        for name, out_name, coerce, required, field in fields:
            field_value = value.get(name, Undefined)
            if field_value is Undefined:
                if required:
                    raise _Refused
                default = coerce_default_value(field)
                if default is not Undefined:
                    coerced[out_name] = default
            else:
                coerced[out_name] = coerce(field_value)
        return out_type(coerced)

    return input_object
