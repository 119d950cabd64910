"""The root types, merged from each area's Query and Mutation."""

from __future__ import annotations

import strawberry
from strawberry.extensions import MaskErrors, ParserCache, ValidationCache
from strawberry.tools import merge_types

from backend.errors import PublicError
from backend.schema.account import AccountMutation, AccountQuery
from backend.schema.extensions import AccessHistoryWriter
from backend.schema.record import RecordMutation, RecordQuery
from backend.schema.types import ENTRY_TYPES


def _mask(error: Exception) -> bool:
    original = getattr(error, "original_error", None)
    if isinstance(original, PublicError) or isinstance(error, PublicError):
        return False
    # Errors raised before execution (syntax, validation) carry no original error.
    return original is not None


Query = merge_types("Query", (AccountQuery, RecordQuery))
Mutation = merge_types("Mutation", (AccountMutation, RecordMutation))

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
