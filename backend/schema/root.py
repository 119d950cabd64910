"""The root types, merged from each area's Query and Mutation."""

from __future__ import annotations

import functools
from collections.abc import Iterator

import strawberry
from graphql import ArgumentNode, GraphQLError, ValueNode
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.name_converter import NameConverter
from strawberry.tools import merge_types

from backend.errors import PublicError
from backend.schema import (
    account,
    auth,
    content,
    documents,
    emergency,
    history,
    lifecycle,
    passkeys,
    record,
    sharing,
    support,
)
from backend.schema.arguments import prepare_resolvers
from backend.schema.execution import ExecutionContext, prepare
from backend.schema.extensions import AccessHistoryWriter
from backend.schema.limits import (
    KEPT_TEXT,
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_TOKENS,
    CostLimiter,
    IntrospectionGate,
    NoNulCharacter,
    PublicErrors,
)
from backend.schema.observability import OperationName
from backend.schema.types import ENTRY_TYPES

# Each area lists its root types; the order fixes the order of fields in schema.graphql.
AREAS = (account, record, auth, passkeys, sharing, emergency, content, documents, history,
         support, lifecycle)


def _mask(error: Exception) -> bool:
    original = getattr(error, "original_error", None)
    if isinstance(original, PublicError) or isinstance(error, PublicError):
        return False
    # Errors raised before execution (syntax, validation) carry no original error; a
    # variable's value refused by its type carries graphql-core's own error about it (no
    # path: nothing was executed). What the caller sent is all these can quote.
    if isinstance(original, GraphQLError) and getattr(error, "path", None) is None:
        return False
    # An argument's value refused as the field ran (a null variable for a non-null argument
    # with a default): graphql-core's words about the argument, which the caller sent.
    if isinstance(original, GraphQLError) and any(
        isinstance(node, ArgumentNode | ValueNode) for node in original.nodes or ()
    ):
        return False
    return original is not None


Query = merge_types("Query", tuple(t for area in AREAS for t in area.QUERIES))
_mutations = tuple(t for area in AREAS for t in area.MUTATIONS)
Mutation = merge_types("Mutation", _mutations) if _mutations else None

# Built once: ValidationCache keys on the rule classes, and each limiter instance makes new
# ones, so limiters built per request would miss the cache on every request.
LIMIT_RULES = [
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
    NoNulCharacter,
]

class KeptParse(ParserCache):
    """Strawberry's parser cache, for texts up to `limits.KEPT_TEXT`: its 512 entries
    keyed by the text kept every long one that parses (a few 1 MB texts failing validation
    held gigabytes). A longer text is parsed by strawberry each time."""

    def on_parse(self) -> Iterator[None]:
        if len(self.execution_context.query or "") > KEPT_TEXT:
            yield
            return
        yield from super().on_parse()


class KeptValidation(ValidationCache):
    """Strawberry's validation cache, for the same texts: it is keyed by the parsed
    document, which a long text's would keep alive with its errors."""

    def on_validate(self) -> Iterator[None]:
        if len(self.execution_context.query or "") > KEPT_TEXT:
            yield
            return
        yield from super().on_validate()


# Masking as the PublicErrors extension does, for requests that skip the extensions
# (schema/direct.py); its `_process_errors` keeps no state.
PUBLIC_ERRORS = PublicErrors(should_mask_error=_mask)

class CachedNames(NameConverter):
    """Strawberry's names, each Python name converted once.

    Strawberry converts every argument's name on each call of its resolver (to find the
    argument in the request's values): on a whole record, thirty conversions per request.
    """

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one converter, alive as long as the schema
    def apply_naming_config(self, name: str) -> str:
        return super().apply_naming_config(name)


# Accepted documents run without these extensions (schema/direct.py does their work around
# execution): a new extension must be added there too.
schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    types=ENTRY_TYPES,
    config=StrawberryConfig(disable_field_suggestions=True, name_converter=CachedNames()),
    execution_context_class=ExecutionContext,
    extensions=[
        AccessHistoryWriter,
        OperationName,
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: KeptParse(maxsize=512),
        lambda: AddValidationRules(LIMIT_RULES),
        CostLimiter,
        IntrospectionGate,
        lambda: KeptValidation(maxsize=512),
        lambda: PublicErrors(should_mask_error=_mask),
    ],
)
# Plain fields are completed by the executor without a resolver call (schema/execution.py).
prepare(schema)
# Resolvers whose arguments need no conversion are called directly (schema/arguments.py).
prepare_resolvers(schema)
