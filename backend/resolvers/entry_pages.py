"""First pages of several sections in one statement.

A client asking for allergies and medications (or every section) resolves each section
field concurrently; the per-request DataLoader gathers those page requests and reads them
with one `UNION ALL` of keyset scans, one branch per page, each on the index
`entry(record_id, section, care_date, id)` with its own `LIMIT`. The branches return rows in
no defined order, so each page is sorted again here.

Each row becomes an `EntryRow`, not an `Entry` model: a page is only read, and building
models (Tortoise's `_init_from_db`, its converters) was a notable part of a consultation's
CPU (issue #14). The values are those the ORM would give, on either database.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from operator import attrgetter, itemgetter
from typing import Any, NamedTuple

from tortoise.backends.base.client import BaseDBAsyncClient

from backend import sql
from backend.domain.enums import EntrySource, Section
from backend.models import Entry


class PageRequest(NamedTuple):
    """One page of one section, with the visibility already decided for this viewer.

    A named tuple: immutable and hashable (the request's loader keeps pages by it), and built
    in a third of the time of a frozen dataclass, which sets each field through
    `object.__setattr__` (ten per consultation of a whole record).
    """

    record_id: uuid.UUID
    section: Section
    first: int
    after: tuple[dt.date, uuid.UUID] | None
    include_superseded: bool
    with_total: bool  # the visible total counted in the same statement
    # None: every entry; otherwise unmasked entries, and the masked ones this account wrote
    # (`masked_author` may itself be None: unmasked entries only).
    hide_masked: bool
    masked_author: uuid.UUID | None


@dataclass(slots=True)
class EntryRow:
    """An entry of a page: the columns its readers use (`schema.types.to_entry`, the cursor).

    Read-only by use; not frozen, as a frozen dataclass sets each field through
    `object.__setattr__`, which made building one about six times slower.
    """

    id: uuid.UUID
    section: Section
    title: str
    code: str
    care_date: dt.date
    source: EntrySource
    author_name: str
    author_profession: str | None
    created_at: dt.datetime | str  # the driver's value: SQLite's is text
    supersedes_id: uuid.UUID | None
    superseded: bool
    masked: bool
    details: dict[str, Any] | str  # the driver's JSON text: decoded when a detail is read
    file_id: uuid.UUID | None


_COLUMNS = tuple(f.name for f in fields(EntryRow))
_columns_of = itemgetter(*_COLUMNS)
# Per dialect: (position, converter) of the columns whose driver value is not yet the ORM's,
# but those `to_entry` reads only if their fields are read (schema/types.py).
_READ_LATER = ("details", "created_at")
_converters: dict[str, list[tuple[int, Callable[[Any], Any]]]] = {}


def _converters_for(conn: BaseDBAsyncClient) -> list[tuple[int, Callable[[Any], Any]]]:
    dialect = conn.capabilities.dialect
    found = _converters.get(dialect)
    if found is None:
        readers = ((i, sql.reader(Entry, column, conn)) for i, column in enumerate(_COLUMNS))
        found = _converters[dialect] = [
            (i, read) for i, read in readers if read is not None and _COLUMNS[i] not in _READ_LATER
        ]
    return found


@dataclass
class PageRows:
    entries: list[EntryRow]  # up to first + 1, newest first
    total: int | None  # the visible total when counted and the page has a row


def _visible(alias: str, req: PageRequest, params: list[Any]) -> str:
    """The WHERE clause of the entries of one section this viewer may see."""
    params.extend((req.record_id, str(req.section)))
    n = len(params)
    where = f'{alias}."record_id" = ${n - 1} AND {alias}."section" = ${n}'
    if req.hide_masked:
        params.append(False)
        where += f' AND ({alias}."masked" = ${len(params)}'
        if req.masked_author is not None:
            params.append(req.masked_author)
            where += f' OR {alias}."author_id" = ${len(params)}'
        where += ")"
    if not req.include_superseded:
        params.append(False)
        where += f' AND {alias}."superseded" = ${len(params)}'
    return where


def _branch(k: int, req: PageRequest, params: list[Any]) -> str:
    if req.with_total:
        # Only fixed text and $n placeholders go into the statement; values are parameters.
        total = f'(SELECT COUNT(*) FROM "entry" c WHERE {_visible("c", req, params)})'  # noqa: S608
    else:
        total = "CAST(NULL AS BIGINT)"
    where = _visible("e", req, params)
    if req.after is not None:
        date, entry_id = req.after
        params.extend((date, entry_id))
        d, i = len(params) - 1, len(params)
        where += f' AND (e."care_date" < ${d} OR (e."care_date" = ${d} AND e."id" < ${i}))'
    params.append(req.first + 1)
    limit = len(params)
    return (
        f'SELECT {k} AS "page_no", p{k}.* FROM (SELECT e.*, {total} AS "visible_total"'  # noqa: S608
        f' FROM "entry" e WHERE {where}'
        f' ORDER BY e."care_date" DESC, e."id" DESC LIMIT ${limit}) AS p{k}'
    )


async def count_visible(req: PageRequest) -> int:
    """The entries of the page's section this viewer may see (its cursor aside)."""
    params: list[Any] = []
    where = _visible("c", req, params)
    rows = await sql.fetch(f'SELECT COUNT(*) FROM "entry" c WHERE {where}', params)  # noqa: S608
    return int(rows[0][0])


# An entry's place in its page, newest first when sorted in reverse: its date, then its id
# (the index's order). An attrgetter: the sort calls it once per row, in C.
_newest_first = attrgetter("care_date", "id")


def _shape(req: PageRequest) -> tuple[bool, bool, bool, bool, bool]:
    """What a page's branch of the statement depends on, its values aside."""
    return (req.with_total, req.hide_masked, req.masked_author is not None, req.include_superseded,
            req.after is not None)


def _branch_params(req: PageRequest, params: list[Any]) -> None:
    """The parameters `_branch` adds for `req`, in its order, without writing the text."""
    visible: list[Any] = [req.record_id, str(req.section)]
    if req.hide_masked:
        visible.append(False)
        if req.masked_author is not None:
            visible.append(req.masked_author)
    if not req.include_superseded:
        visible.append(False)
    if req.with_total:
        params.extend(visible)
    params.extend(visible)
    if req.after is not None:
        params.extend(req.after)
    params.append(req.first + 1)


# The statement's text by the shapes of its pages (a consultation sends the same few), so it
# is written once; each request only lists its values. Bounded: a shape is five booleans.
_STATEMENTS: dict[tuple[tuple[bool, bool, bool, bool, bool], ...], str] = {}
_STATEMENTS_MAX = 1024


def _statement(requests: Sequence[PageRequest]) -> tuple[str, list[Any]]:
    params: list[Any] = []
    shapes = tuple(map(_shape, requests))
    text = _STATEMENTS.get(shapes)
    if text is None:
        text = " UNION ALL ".join(_branch(k, req, params) for k, req in enumerate(requests))
        if len(_STATEMENTS) >= _STATEMENTS_MAX:
            _STATEMENTS.clear()
        _STATEMENTS[shapes] = text
        return text, params
    for req in requests:
        _branch_params(req, params)
    return text, params


async def load_pages(requests: Sequence[PageRequest]) -> list[PageRows]:
    text, params = _statement(requests)
    pages = [PageRows([], None) for _ in requests]
    conn = sql.default()
    converters = _converters_for(conn)
    for row in await sql.fetch(text, params, conn):
        page = pages[int(row["page_no"])]
        values = list(_columns_of(row))
        for i, convert in converters:
            values[i] = convert(values[i])
        page.entries.append(EntryRow(*values))
        if row["visible_total"] is not None:
            page.total = int(row["visible_total"])
    for page in pages:
        page.entries.sort(key=_newest_first, reverse=True)
    return pages
