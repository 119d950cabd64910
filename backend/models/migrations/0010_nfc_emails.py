"""Addresses stored before sign-in read them in Unicode's composed form (NFC) are rewritten as
sign-in reads them, so their accounts can sign in by e-mail again.

Sign-in looks an account up by the address as typed, trimmed, in NFC and in lower case
(`backend.auth.contacts.normalize_email`). An address stored before that normalisation in
the decomposed form (NFD: `é` as `e` and a combining accent, as some keyboards and pastes
give it), or in capitals or with a trailing newline (`dmp create-account` before it checked
addresses as the sign-up does), was never found. `account.email` and `account.pending_email`
(it becomes `email` once confirmed) are rewritten; a record's `pending_contact` and the
outbox's `recipient` are destinations, never looked up, and stay as they are.

Two accounts whose addresses become the same one are both left unchanged (neither is merged
nor dropped), and a warning names their ids, never the address: an operator settles which
keeps it (docs/operations.md, "Upgrade notes").
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

log = logging.getLogger("dmp.migrations")
_PARAM = re.compile(r"\$(\d+)")
# Read in pages, by id: a national service holds millions of accounts.
PAGE = 1000
_FIRST = 'SELECT "id", "email", "pending_email" FROM "account" ORDER BY "id" LIMIT $1'
_NEXT = 'SELECT "id", "email", "pending_email" FROM "account" WHERE "id" > $1 ORDER BY "id" LIMIT $2'


def as_signed_in(address: str) -> str:
    """The address as sign-in reads it (normalize_email's rewriting, without its checks),
    written out here: a migration must keep doing what it did when the code moves on."""
    return unicodedata.normalize("NFC", address.strip()).lower()


async def _query(conn: Any, statement: str, values: list[Any]) -> list[dict[str, Any]]:
    if conn.capabilities.dialect == "sqlite":
        statement = _PARAM.sub(r"?\1", statement)
    rows: list[dict[str, Any]] = await conn.execute_query_dict(statement, values)
    return rows


async def normalize_addresses(conn: Any) -> None:
    """Rewrite each address that sign-in would not find as it is stored; leave both accounts
    of a collision as they are, and name them in a warning."""
    moving: dict[str, list[tuple[Any, str]]] = {}  # new address -> [(account id, stored)]
    pending: list[tuple[Any, str]] = []
    last: Any = None
    while True:
        rows = await (_query(conn, _FIRST, [PAGE]) if last is None else _query(conn, _NEXT, [last, PAGE]))
        for row in rows:
            email, pending_email = row["email"], row["pending_email"]
            if email is not None and as_signed_in(email) != email:
                moving.setdefault(as_signed_in(email), []).append((row["id"], email))
            # No constraint on a pending address: confirming it meets the unique one then.
            if pending_email is not None and as_signed_in(pending_email) != pending_email:
                pending.append((row["id"], as_signed_in(pending_email)))
        if len(rows) < PAGE:
            break
        last = rows[-1]["id"]
    for account_id, address in pending:
        await _query(conn, 'UPDATE "account" SET "pending_email" = $1 WHERE "id" = $2', [address, account_id])
    for address, accounts in sorted(moving.items()):
        holders = await _query(conn, 'SELECT "id" FROM "account" WHERE "email" = $1', [address])
        if len(accounts) == 1 and not holders:
            ((account_id, stored),) = accounts
            await _query(conn, 'UPDATE "account" SET "email" = $1 WHERE "id" = $2 AND "email" = $3',
                         [address, account_id, stored])
            continue
        ids = sorted(str(i) for i in [*(holder["id"] for holder in holders), *(i for i, _ in accounts)])
        log.warning(
            "e-mail addresses left unchanged: accounts %s would have the same address once "
            "normalised (NFC, lower case); keep it on one of them (docs/operations.md, "
            "\"Upgrade notes\")", ", ".join(ids),
        )


async def _forward(apps: Any, schema_editor: Any) -> None:
    # The migration's transaction (`tortoise sqlmigrate` shows this step as Python, not SQL).
    await normalize_addresses(schema_editor.client)


class Migration(migrations.Migration):
    dependencies = [('models', '0009_outbox_urgent')]

    initial = False

    operations = [
        # Backwards, nothing to undo: the earlier release reads NFC addresses as well.
        ops.RunPython(_forward, ops.RunPython.noop),
    ]
