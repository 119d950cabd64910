"""The root types, merged from each area's Query and Mutation."""

from __future__ import annotations

import strawberry
from strawberry.extensions import MaskErrors, ParserCache, ValidationCache
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
from backend.schema.extensions import AccessHistoryWriter
from backend.schema.types import ENTRY_TYPES

# Each area lists its root types; the order fixes the order of fields in schema.graphql.
AREAS = (account, record, auth, passkeys, sharing, emergency, content, documents, history,
         support, lifecycle)


def _mask(error: Exception) -> bool:
    original = getattr(error, "original_error", None)
    if isinstance(original, PublicError) or isinstance(error, PublicError):
        return False
    # Errors raised before execution (syntax, validation) carry no original error.
    return original is not None


Query = merge_types("Query", tuple(t for area in AREAS for t in area.QUERIES))
_mutations = tuple(t for area in AREAS for t in area.MUTATIONS)
Mutation = merge_types("Mutation", _mutations) if _mutations else None

schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    types=ENTRY_TYPES,
    extensions=[
        AccessHistoryWriter,
        lambda: ParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
        lambda: MaskErrors(should_mask_error=_mask, error_message="Internal error"),
    ],
)
