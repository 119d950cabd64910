"""GraphQL limits and error shaping, as schema extensions (DESIGN §6, issue: hardening)."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from strawberry.extensions import AddValidationRules, MaskErrors, SchemaExtension

from backend.config import settings
from backend.domain.enums import Role

MAX_DEPTH = 15
MAX_ALIASES = 15
MAX_TOKENS = 3000
MAX_COST = 2500
DEFAULT_PAGE = 20
MAX_PAGE = 100


def _cost(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    multiplier: int,
    seen: frozenset[str],
) -> int:
    """Each field costs its multiplier; a paged field multiplies what is below it by `first`."""
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            total += multiplier
            size = 1
            for argument in selection.arguments or ():
                if argument.name.value in ("first", "last"):
                    value = argument.value
                    size = int(value.value) if isinstance(value, IntValueNode) else MAX_PAGE
                    size = max(1, min(size, 10_000))
            if size == 1 and selection.selection_set is not None and _is_connection(selection):
                size = DEFAULT_PAGE
            total += _cost(selection.selection_set, fragments, multiplier * size, seen)
        elif isinstance(selection, InlineFragmentNode):
            total += _cost(selection.selection_set, fragments, multiplier, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:
                total += _cost(fragment.selection_set, fragments, multiplier, seen | {name})
        if total > MAX_COST * 10:
            break
    return total


def _is_connection(field: FieldNode) -> bool:
    return any(
        isinstance(s, FieldNode) and s.name.value == "edges"
        for s in (field.selection_set.selections if field.selection_set else ())
    )


class CostRule(ValidationRule):
    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        document = context.document
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                cost = _cost(definition.selection_set, fragments, 1, frozenset())
                if cost > MAX_COST:
                    context.report_error(
                        GraphQLError(
                            f"Query too costly: {cost} > {MAX_COST} (ask for smaller pages)",
                            extensions={"code": "BAD_USER_INPUT"},
                        )
                    )


class CostLimiter(AddValidationRules):
    def __init__(self) -> None:
        super().__init__([CostRule])


def _introspects(selection_set: SelectionSetNode | None,
                 fragments: dict[str, FragmentDefinitionNode], seen: frozenset[str]) -> bool:
    if selection_set is None:
        return False
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value in ("__schema", "__type"):
                return True
            if _introspects(selection.selection_set, fragments, seen):
                return True
        elif isinstance(selection, InlineFragmentNode):
            if _introspects(selection.selection_set, fragments, seen):
                return True
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name not in seen and name in fragments and _introspects(
                fragments[name].selection_set, fragments, seen | {name}
            ):
                return True
    return False


INTROSPECTION_ROLES = frozenset({Role.SUPPORT, Role.PRACTITIONER, Role.INSURER})


class IntrospectionGate(SchemaExtension):
    """In production, introspection only for support, practitioner and partner callers."""

    def on_validate(self) -> Iterator[None]:
        yield
        if not settings().production:
            return
        context = self.execution_context.context
        role = getattr(getattr(context, "viewer", None), "role", None)
        if role in INTROSPECTION_ROLES:
            return
        document = self.execution_context.graphql_document
        if document is None:
            return
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        if any(
            isinstance(d, OperationDefinitionNode) and _introspects(d.selection_set, fragments, frozenset())
            for d in document.definitions
        ):
            error = GraphQLError("Introspection is not available", extensions={"code": "FORBIDDEN"})
            self.execution_context.pre_execution_errors = [
                *(self.execution_context.pre_execution_errors or []), error
            ]


class PublicErrors(MaskErrors):
    """Mask unexpected errors as INTERNAL; give every other error a code."""

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return GraphQLError(
            message="Internal error",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=None,
            extensions={"code": "INTERNAL"},
        )

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors(errors)
        for error in processed:
            if not (error.extensions or {}).get("code"):
                # Parse and validation errors: the caller's query is at fault.
                error.extensions = {**(error.extensions or {}), "code": "BAD_USER_INPUT"}
        return processed
