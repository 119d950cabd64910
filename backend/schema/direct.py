"""Running a document the schema has already accepted, without its extension pipeline.

Each request through strawberry's `Schema.execute` builds nine schema extensions, enters
and leaves their hooks through context managers, looks the document up in the parser and
validation caches, and wraps the result twice: on a consultation, a tenth of the server's
CPU before and after the fields themselves (docs/benchmarks.md). Most requests send a
document the server has seen before and accepted.

`prepare` parses and checks a document once, exactly as the extensions do (the token limit,
the size and cost limits, the depth and alias rules, graphql's own rules); a document with
any error is not prepared and goes through the full pipeline, which reports it. `execute`
then does, for a prepared document, what the extensions do around execution, in the same
order: tell the request log the operation, execute, log errors as strawberry does, write
the access history (withholding the data if that fails), and mask unexpected errors.
A request whose variables are refused has executed nothing: the full pipeline answers it.

A schema extension added to `schema/root.py` does not run here: give its work a function,
call it from both (as `write_access_history` and `tell_request_log` are), or a document
already accepted would skip it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from inspect import isawaitable
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FragmentDefinitionNode,
    OperationDefinitionNode,
    default_field_resolver,
    default_type_resolver,
    parse,
    specified_rules,
)
from graphql.execution.collect_fields import FragmentDetails
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionResult as StrawberryResult
from strawberry.types.graphql import OperationType
from strawberry.utils.operation import get_operation_type

from backend.resolvers.context import Context
from backend.schema import variables
from backend.schema.extensions import write_access_history
from backend.schema.limits import KEPT_TEXT, MAX_TOKENS, CostRule, introspects, shape_errors
from backend.schema.observability import tell_request_log
from backend.schema.root import LIMIT_RULES, PUBLIC_ERRORS, schema

# The rules the extensions validate with: graphql's, then AddValidationRules', then the
# cost limiter's, in the order the extensions add them.
RULES = (*specified_rules, *LIMIT_RULES, CostRule)


@dataclass(frozen=True)
class Prepared:
    document: DocumentNode
    operation_type: OperationType
    introspects: bool
    executable: _Executable | None  # None where graphql-core's `Executor.build` must run
    # The name the request log gives the operation when the request names none: its first
    # operation's, as strawberry's pipeline names it (`ExecutionContext.operation_name`).
    first_name: str | None


@dataclass(frozen=True)
class _Executable:
    """What graphql-core's `Executor.build` does with the document on every request, done
    once: it finds the operation and the fragments, and coerces the variables (here by the
    operation's plan, schema/variables.py)."""

    operation: OperationDefinitionNode
    fragment_definitions: dict[str, FragmentDefinitionNode]
    fragments: dict[str, FragmentDetails]
    variables: variables.Plan


def _executable(document: DocumentNode, operation_name: str | None) -> _Executable | None:
    """The operation and fragments as `Executor.build` finds them, with the plan of the
    operation's variables; None where `build` must run: fragments with variables, or
    variables the plan leaves to graphql-core."""
    operation: OperationDefinitionNode | None = None
    definitions: dict[str, FragmentDefinitionNode] = {}
    fragments: dict[str, FragmentDetails] = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            if operation_name is None:
                if operation is not None:
                    return None  # several operations and no name: `build` refuses it
                operation = definition
            elif definition.name and definition.name.value == operation_name:
                operation = definition
        elif isinstance(definition, FragmentDefinitionNode):
            if definition.variable_definitions:
                return None  # fragment variables: `build` reads their signatures
            definitions[definition.name.value] = definition
            fragments[definition.name.value] = FragmentDetails(definition, None)
    if operation is None:
        return None
    plan = variables.plan(schema._schema, operation)
    if plan is None:
        return None
    return _Executable(operation, definitions, fragments, plan)


# The longest text whose answer is remembered (limits.KEPT_TEXT).
MAX_CACHED_TEXT = KEPT_TEXT


def prepare(query: str, operation_name: str | None) -> Prepared | None:
    """The document, parsed and checked; None if anything about it is wrong. Remembered for
    512 texts up to `MAX_CACHED_TEXT` characters (a length test: O(1))."""
    if len(query) > MAX_CACHED_TEXT:
        return _prepare(query, operation_name)
    return _prepare_cached(query, operation_name)


def _prepare(query: str, operation_name: str | None) -> Prepared | None:
    try:
        document = parse(query, max_tokens=MAX_TOKENS)
        operation_type = get_operation_type(document, operation_name)
    except Exception:  # noqa: BLE001 - the full pipeline reports it
        return None
    if shape_errors(document) or validate_document(schema._schema, document, RULES):
        return None
    first = next((d for d in document.definitions if isinstance(d, OperationDefinitionNode)), None)
    return Prepared(
        document, operation_type, introspects(document), _executable(document, operation_name),
        first.name.value if first is not None and first.name is not None else None,
    )


_prepare_cached = lru_cache(maxsize=512)(_prepare)


async def execute(
    prepared: Prepared,
    context: Context,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    operation_extensions: dict[str, Any] | None,
) -> StrawberryResult | None:
    """The result, as the full pipeline gives it; None if the variables were refused."""
    tell_request_log(context.request, operation_name or prepared.first_name, prepared.operation_type.value)
    # graphql-core's `execute` without its wrappers: it checks that the schema has no
    # @defer or @stream (this one has neither, so the result is always a single one), then
    # builds the executor and runs the operation, as here; for a prepared document whose
    # variables its plan accepts, without `build` (`_Executable`).
    executable = prepared.executable
    executor: Any
    executor_class: Any = schema.execution_context_class  # strawberry's, taking operation_extensions
    if executable is not None and (values := executable.variables.coerce(variables)) is not None:
        executor = executor_class(
            schema._schema,
            executable.fragment_definitions,
            executable.fragments,
            None,
            context,
            executable.operation,
            values,
            default_field_resolver,
            default_type_resolver,
            default_field_resolver,
            is_awaitable=optimized_is_awaitable,
            operation_extensions=operation_extensions,
        )
    else:
        executor = executor_class.build(
            schema._schema,
            prepared.document,
            context_value=context,
            raw_variable_values=variables,
            operation_name=operation_name,
            is_awaitable=optimized_is_awaitable,  # as strawberry passes it
            operation_extensions=operation_extensions,
        )
    if isinstance(executor, list):
        return None  # the variables were refused: a request error, nothing ran
    outcome = executor.execute_operation()
    result = await outcome if isawaitable(outcome) else outcome
    if not isinstance(result, ExecutionResult):  # incremental delivery, which `execute` refuses
        raise TypeError("an accepted document gave incremental results")
    if result.errors:
        if result.data is None and all(error.path is None for error in result.errors):
            return None  # a request error: nothing ran
        schema._process_errors(result.errors)
    await write_access_history(context, result)
    errors = PUBLIC_ERRORS._process_errors(result.errors) if result.errors else None
    return StrawberryResult(data=result.data, errors=errors)
# The cache's counters, as `prepare` showed them when it was the cached function itself.
prepare.cache_info = _prepare_cached.cache_info  # type: ignore[attr-defined]
prepare.cache_clear = _prepare_cached.cache_clear  # type: ignore[attr-defined]
