"""GraphQL limits and error shaping, as schema extensions (DESIGN §6, issue: hardening)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValidationContext,
    ValidationRule,
)
from strawberry.extensions import AddValidationRules, MaskErrors, SchemaExtension

from backend.config import settings
from backend.domain.enums import Role

MAX_DEPTH = 15
MAX_ALIASES = 15
MAX_TOKENS = 3000
MAX_COST = 10_000
DEFAULT_PAGE = 20
MAX_PAGE = 100
# Fields once every fragment spread is expanded: bounds the work of every later rule,
# which would otherwise be exponential in nested spreads (`...A ...A` inside `A1`, …).
MAX_EXPANDED_FIELDS = 5000
# Introspection is depth-limited too (the depth limiter skips `__` fields), and lists of
# the schema (`types`, `fields`, `args`, …) nest at most 3 deep, as the explorer's query does.
MAX_TOTAL_DEPTH = 20
MAX_INTROSPECTION_LISTS = 3
INTROSPECTION_LISTS = frozenset({
    "types", "fields", "inputFields", "interfaces", "possibleTypes", "enumValues", "args",
    "directives",
})


def _cost(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    multiplier: int,
    seen: frozenset[str],
) -> int:
    """Each field costs its multiplier; a paged field multiplies what is below it by `first`.

    Fragments on different concrete types exclude each other: only the dearest counts.
    """
    if selection_set is None:
        return 0
    total = 0
    by_type: dict[str, int] = {}
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
        else:
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                cost = _cost(selection.selection_set, fragments, multiplier, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is None or name in seen:
                    continue
                condition = fragment.type_condition
                cost = _cost(fragment.selection_set, fragments, multiplier, seen | {name})
            else:
                continue
            if condition is None:
                total += cost
            else:
                key = condition.name.value
                by_type[key] = by_type.get(key, 0) + cost
        if total > MAX_COST * 10:
            break
    return total + max(by_type.values(), default=0)


def _is_connection(field: FieldNode) -> bool:
    return any(
        isinstance(s, FieldNode) and s.name.value == "edges"
        for s in (field.selection_set.selections if field.selection_set else ())
    )


# PostgreSQL's text cannot hold U+0000 (it failed as an internal error there, and SQLite
# kept it): no text the service is sent may contain it.
NUL_REFUSED = "Text may not contain the NUL character (U+0000)"


class NoNulCharacter(ValidationRule):
    """The NUL character in a string written in the document (variables: graphql_view)."""

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        if "\x00" in node.value:
            self.report_error(GraphQLError(NUL_REFUSED, node, extensions={"code": "BAD_USER_INPUT"}))


# Root fields whose one call is already the most a request may ask: the whole record with its
# documents (one export is built at a time per process, so aliases queued fifteen of them in
# one request, a 1.4 GB answer), an import's 5,000 items (aliases imported 35,000 in one).
ONCE_PER_OPERATION = frozenset({"exportMyRecord", "importCareHistory"})


def _root_fields(
    selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode], seen: frozenset[str],
) -> Iterator[FieldNode]:
    """An operation's root fields, through its fragments (each spread once on a path)."""
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _root_fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:
                yield from _root_fields(fragment.selection_set, fragments, seen | {name})


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
                asked = [
                    f.name.value for f in _root_fields(definition.selection_set, fragments, frozenset())
                    if f.name.value in ONCE_PER_OPERATION
                ]
                for name in sorted(n for n, times in Counter(asked).items() if times > 1):
                    context.report_error(GraphQLError(
                        f"{name} may be asked once per request (aliases and fragments included)",
                        extensions={"code": "BAD_USER_INPUT"},
                    ))


@dataclass(frozen=True)
class _Shape:
    fields: int  # fields once fragments are expanded
    depth: int  # deepest field, introspection included
    lists: int  # deepest nesting of introspection lists


class _Measure:
    """Measures a document in time linear in its size: each fragment is measured once."""

    def __init__(self, document: DocumentNode) -> None:
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.done: dict[str, _Shape] = {}
        self.unknown: set[str] = set()
        self.cycles: list[str] = []  # fragments spread within themselves

    def fragment(self, name: str, active: frozenset[str]) -> _Shape:
        if name in self.done:
            return self.done[name]
        definition = self.fragments.get(name)
        if definition is None:
            self.unknown.add(name)
            return _Shape(0, 0, 0)
        if name in active:
            # A cycle: refused here, before the other rules are built. The alias, depth and
            # cost rules walk every path through it, factorial in the number of fragments.
            if name not in self.cycles:
                self.cycles.append(name)
            return _Shape(0, 0, 0)
        shape = self.selections(definition.selection_set, active | {name})
        self.done[name] = shape
        return shape

    def selections(self, selection_set: SelectionSetNode | None, active: frozenset[str]) -> _Shape:
        fields = depth = lists = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                inner = self.selections(selection.selection_set, active)
                is_list = selection.name.value in INTROSPECTION_LISTS
                fields += 1 + inner.fields
                depth = max(depth, 1 + inner.depth)
                lists = max(lists, inner.lists + (1 if is_list else 0))
            else:
                inner = (
                    self.selections(selection.selection_set, active)
                    if isinstance(selection, InlineFragmentNode)
                    else self.fragment(cast(FragmentSpreadNode, selection).name.value, active)
                )
                fields += inner.fields
                depth = max(depth, inner.depth)
                lists = max(lists, inner.lists)
            fields = min(fields, MAX_EXPANDED_FIELDS * 10)
        return _Shape(fields, depth, lists)


def shape_errors(document: DocumentNode) -> list[GraphQLError]:
    """Why a document is too large to validate further, or no reason."""
    measure = _Measure(document)
    errors: list[GraphQLError] = []
    fields = depth = lists = 0
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            shape = measure.selections(definition.selection_set, frozenset())
            fields += shape.fields
            depth = max(depth, shape.depth)
            lists = max(lists, shape.lists)
    for name in sorted(measure.unknown):
        errors.append(GraphQLError(f"Unknown fragment '{name}'."))
    for name in measure.cycles:
        errors.append(GraphQLError(f"Cannot spread fragment '{name}' within itself."))
    if fields > MAX_EXPANDED_FIELDS:
        errors.append(GraphQLError(
            f"Query too large: {fields} fields once fragments are expanded > {MAX_EXPANDED_FIELDS}"
        ))
    if depth > MAX_TOTAL_DEPTH:
        errors.append(GraphQLError(f"Query too deep: {depth} > {MAX_TOTAL_DEPTH}"))
    if lists > MAX_INTROSPECTION_LISTS:
        errors.append(GraphQLError(
            f"Introspection too deep: {lists} nested lists > {MAX_INTROSPECTION_LISTS}"
        ))
    for error in errors:
        error.extensions = {"code": "BAD_USER_INPUT"}
    return errors


class CostLimiter(AddValidationRules):
    """The cost rule; and, before any rule runs, a linear-time size check whose failure
    replaces every other rule (they are not all linear in fragment spreads)."""

    def __init__(self) -> None:
        super().__init__([CostRule])

    def on_validate(self) -> Iterator[None]:
        document = self.execution_context.graphql_document
        errors = _shape_errors_once(document) if document is not None else []
        if errors:
            self.execution_context.validation_rules = (_reporting(errors),)
        yield


# Documents already measured and found within the limits, by identity: the parser cache
# hands the same document object to every request with the same text. The document is kept
# as the value so that its id cannot be reused while it is in here.
_WITHIN_LIMITS: dict[int, DocumentNode] = {}
_WITHIN_LIMITS_MAX = 512


# The longest text a document is remembered for, here, by the prepared documents
# (schema/direct.py) and by strawberry's parser and validation caches (schema/root.py): far
# above any application's document (the token limit allows a few tens of kilobytes, but for
# long string literals). Every cache kept each text it saw, a refusal's too: 512 bodies of
# 10 MB held 5 GB.
KEPT_TEXT = 256 * 1024


def _short(document: DocumentNode) -> bool:
    loc = document.loc
    return loc is not None and len(loc.source.body) <= KEPT_TEXT


def _shape_errors_once(document: DocumentNode) -> list[GraphQLError]:
    if _WITHIN_LIMITS.get(id(document)) is document:
        return []
    errors = shape_errors(document)
    if not errors and _short(document):
        if len(_WITHIN_LIMITS) >= _WITHIN_LIMITS_MAX:
            _WITHIN_LIMITS.clear()
        _WITHIN_LIMITS[id(document)] = document
    return errors


def _introspects(selection_set: SelectionSetNode | None,
                 fragments: dict[str, FragmentDefinitionNode], memo: dict[str, bool]) -> bool:
    """Whether `__schema` or `__type` is asked anywhere below; each fragment looked at once."""
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            if selection.name.value in ("__schema", "__type"):
                return True
            if _introspects(selection.selection_set, fragments, memo):
                return True
        elif isinstance(selection, InlineFragmentNode):
            if _introspects(selection.selection_set, fragments, memo):
                return True
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name not in memo and name in fragments:
                memo[name] = False  # a cycle answers no; graphql's own rule refuses it
                memo[name] = _introspects(fragments[name].selection_set, fragments, memo)
            if memo.get(name):
                return True
    return False


INTROSPECTION_ROLES = frozenset({Role.SUPPORT, Role.PRACTITIONER, Role.INSURER})


def _reporting(errors: list[GraphQLError]) -> type[ValidationRule]:
    class Refusal(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            for error in errors:
                context.report_error(error)

    return Refusal


class IntrospectionGate(SchemaExtension):
    """In production, introspection only for support, practitioner and partner callers.

    Decided before validation and reported as a validation error, so that nothing runs:
    errors added after validation would come too late to stop execution.
    """

    def on_validate(self) -> Iterator[None]:
        if self._refused():
            error = GraphQLError("Introspection is not available", extensions={"code": "FORBIDDEN"})
            self.execution_context.validation_rules = (
                *self.execution_context.validation_rules, _reporting([error])
            )
        yield

    def _refused(self) -> bool:
        role = getattr(getattr(self.execution_context.context, "viewer", None), "role", None)
        document = self.execution_context.graphql_document
        return not may_introspect(role) and document is not None and introspects(document)


def introspects(document: DocumentNode) -> bool:
    """Whether any operation of the document asks for `__schema` or `__type`."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return any(
        isinstance(d, OperationDefinitionNode) and _introspects(d.selection_set, fragments, {})
        for d in document.definitions
    )


def may_introspect(role: Role | None) -> bool:
    return not settings().production or role in INTROSPECTION_ROLES


NESTED_TOO_DEEP = "A value of the request is nested too deeply"


class InternalError(GraphQLError):
    """An unexpected error, masked: what the caller reads, and the name of the exception's
    type (`cause`), which the view logs against the request's id (never its message, which
    may quote data)."""

    cause: str


class PublicErrors(MaskErrors):
    """Mask unexpected errors as INTERNAL; give every other error a code."""

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        if isinstance(error.original_error, RecursionError):
            # A value of the request nested deeper than Python's stack (orjson reads 1,024
            # levels): the caller's error, not a bug to log. Its message names no value.
            return GraphQLError(
                NESTED_TOO_DEEP, nodes=error.nodes, source=error.source, positions=error.positions,
                path=error.path, extensions={"code": "BAD_USER_INPUT"},
            )
        masked = InternalError(
            message="Internal error",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=None,
            extensions={"code": "INTERNAL"},
        )
        original = error.original_error
        masked.cause = type(original if original is not None else error).__name__
        return masked

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors(errors)
        for at, error in enumerate(processed):
            if not (error.extensions or {}).get("code"):
                # Parse and validation errors: the caller's query is at fault.
                error.extensions = {**(error.extensions or {}), "code": "BAD_USER_INPUT"}
            if error.path is None:
                # A request refused before anything ran (a variable, or a value written in the
                # document, the schema refuses): said without the value. In place: the
                # validation cache keeps these errors for the text, and the cut is the same
                # for every caller (and the same again on a message already cut).
                error.message = without_value(error.message)
            if "Did you mean" in error.message and not self._may_introspect():
                # A copy: the validation cache hands the same error to every caller of the text.
                processed[at] = GraphQLError(
                    without_suggestion(error.message), error.nodes, error.source, error.positions,
                    error.path, error.original_error, error.extensions,
                )
        return processed

    def _may_introspect(self) -> bool:
        """Whether the caller may read the schema anyway (schema/direct.py's shared instance
        has no request: the caller is taken as anonymous)."""
        context = getattr(getattr(self, "execution_context", None), "context", None)
        return may_introspect(getattr(getattr(context, "viewer", None), "role", None))


# graphql-core's suggestions of the names nearest a misspelt one (a type, an argument, an
# input field): they spell the schema out, so they are cut for a caller refused
# introspection (in production, all but support, practitioners and partners), kept for the
# others, who may read the schema anyway. Field suggestions are off for all (the schema's
# config).
_SUGGESTION = re.compile(r" ?Did you mean [^?]*\?")


def without_suggestion(message: str) -> str:
    return _SUGGESTION.sub("", message)


# A refused variable's message begins with the variable and where in its value the fault is
# (`Variable '$items' has invalid value at [0].date: `); the reason follows, quoting the value
# as a refused literal's message does.
_VARIABLE_PREFIX = re.compile(r"(Variable '\$\w+' has invalid value(?: at [^:]*)?: )(.*)$", re.DOTALL)

# What graphql-core appends to a refused value's message, variable or literal: the value itself
# (a whole care item, with the patient's name and birth date), printed after "found:". The
# first one is graphql-core's own: type and field names hold no ", found: ", a value may.
_FOUND = re.compile(r"(?:[,;] found|[.?] Found): ")
# A leaf type's refusal of a value ("Int cannot represent non-integer value: \"many\"",
# "Enum 'Section' cannot represent non-enum value: X."): the value follows the first "value: ".
_VALUE = re.compile(r"(?<=value): ")
_LAST_SUGGESTION = re.compile(r" Did you mean [^?]*\?$")
# A syntax error names the token it did not expect last, with its text ("Expected Name, found
# String 'VIH positive'."): its text is cut, its kind kept, a name's too (text pasted into a
# query with an unescaped quote reads as names: "found Name 'positive'"); `locations` say where.
_TOKEN_VALUE = re.compile(
    r"((?:found|Unexpected) (?:String|BlockString|Int|Float|Name)) .*?(\.?)$", re.DOTALL
)
# A variable's object may have any text as a key, quoted back as an unknown field's name; a
# name the schema could have (a GraphQL name) is kept, as the place to look.
_UNKNOWN_FIELD = re.compile(r"unknown field '([^']*)'")
_GRAPHQL_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")
# A scalar's own error, which graphql-core quotes before the value ("Expected value of type
# 'Date!', but encountered error 'Invalid isoformat string: …'"; `; found:` already cut).
_ENCOUNTERED = re.compile(r"(Expected value of type '[^']*'), but encountered error '(.*)'$", re.DOTALL)


# What a scalar's or an enum's own refusal quotes (strawberry's `Value cannot represent a
# Date: "1985-02-29". day is out of range for month`, graphql-core's `Value 'X' does not exist
# in 'Section' enum.`): the value, then a reason that may quote it again.
_SCALAR_REFUSAL = re.compile(r"^(Value cannot represent an? \w+): (.*)$", re.DOTALL)
_ENUM_REFUSAL = re.compile(r"^Value (['\"]).*\1 (does not exist in '\w+' enum\.)", re.DOTALL)


def _scalar_reason(match: re.Match[str]) -> str:
    """`Value cannot represent a Date.`, then the parser's reason if it quotes nothing (`day is
    out of range for month`; not `Invalid isoformat string: 'Zoélie'`)."""
    rest = match.group(2)
    value_end = re.match(r"(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')\.?\s*", rest)
    reason = rest[value_end.end():].strip() if value_end else ""
    return _with_reason(match.group(1), reason)


def _with_reason(what: str, reason: str) -> str:
    if reason and not any(quote in reason for quote in "'\"") and reason.isprintable():
        return f"{what}: {reason.rstrip('.')}."
    return f"{what}."


def without_value(message: str) -> str:
    """A refused value's message (a variable's, or a literal's written in the document) without
    the value it quotes: where the value is wrong (the variable, `at [1]`, the type and field
    named) and why, not what it holds. "Did you mean …?" is kept (`without_suggestion`)."""
    if message.startswith("Syntax Error: "):
        return _TOKEN_VALUE.sub(r"\1\2", message)
    variable = _VARIABLE_PREFIX.match(message)
    prefix, reason = (variable.group(1), variable.group(2)) if variable else ("", message)
    return prefix + _UNKNOWN_FIELD.sub(_field_named, _reason_without_value(reason))


def _field_named(match: re.Match[str]) -> str:
    return match.group(0) if _GRAPHQL_NAME.fullmatch(match.group(1)) else "an unknown field"


def _reason_without_value(reason: str) -> str:
    found = _FOUND.search(reason)
    if found is not None:
        cut = reason[: found.start() + (1 if reason[found.start()] in ".?" else 0)]
        encountered = _ENCOUNTERED.match(cut)
        if encountered is not None:
            return _with_reason(encountered.group(1), encountered.group(2))
        return cut if cut.endswith((".", "?")) else cut + "."
    worded = _ENUM_REFUSAL.sub(r"Value \2", _SCALAR_REFUSAL.sub(_scalar_reason, reason, count=1), count=1)
    if worded != reason:
        return worded
    value = _VALUE.search(reason)
    if value is None:
        return reason
    # An enum's suggestion after the value ("… value: \"X\". Did you mean the enum value
    # 'Y'?"), as `without_suggestion` then decides; the last, at the end: never the value's.
    suggestion = _LAST_SUGGESTION.search(reason, value.end())
    return reason[: value.start()] + "." + (suggestion.group(0) if suggestion else "")
