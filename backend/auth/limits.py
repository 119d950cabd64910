"""Counters shared by every process, kept in the database with atomic conditional updates.

A try is counted before the thing it guards is compared, and a counter never passes its
limit: `… SET n = n + 1 WHERE … AND n < limit` either counts the try or refuses it,
whatever the number of parallel requests, aliases or server processes.
"""

from __future__ import annotations

import math
import uuid
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any

from backend import clock, sql
from backend.errors import RateLimited

# Code failures per account and UTC day; reaching it locks code login (DESIGN §5).
DAILY_CODE_FAILURES = 10
LOCK_REASON = "too many wrong codes"


# Hand-written (backend/sql.py): every sign-in step runs these, and the ORM's statement
# building cost more than the statements themselves (docs/benchmarks.md, step 35).
_TAKE = (
    'UPDATE "rate_counter" SET "count" = "count" + 1'
    ' WHERE "key" = $1 AND "window_start" = $2 AND "count" < $3 RETURNING 1'
)
# The window's first use makes the row. A row already there (at its limit, or made by
# another request since the update looked) makes nothing, without an error (which inside a
# transaction would abort it) and, on PostgreSQL, without taking a value of the table's id
# sequence, which a plain `INSERT … ON CONFLICT` takes on every call: under a flood of
# refused tries, that would use the sequence up. (The cast: PostgreSQL reads the key as
# text in the select list and as the column's varchar in the condition, and refuses both.)
_CREATE = (
    'INSERT INTO "rate_counter" ("key", "window_start", "count") SELECT CAST($1 AS VARCHAR(200)), $2, 1'
    ' WHERE NOT EXISTS (SELECT 1 FROM "rate_counter" WHERE "key" = $1 AND "window_start" = $2)'
    ' ON CONFLICT ("key", "window_start") DO NOTHING RETURNING 1'
)


_GIVE_BACK = (
    'UPDATE "rate_counter" SET "count" = "count" - 1'
    ' WHERE "key" = $1 AND "window_start" = $2 AND "count" > 0'
)


async def give_back(key: str, window_start: datetime) -> None:
    """Uncount one use `take` counted: for a bound on failures, taken before the work that may
    fail (so that requests at once cannot all pass it) and given back when it did not."""
    await sql.fetch(_GIVE_BACK, [key, window_start])


async def take(key: str, window_start: datetime, limit: int, conn: Any = None) -> bool:
    """Count one use of `key` in the window starting at `window_start`; False past the limit.

    One statement while the window's row exists, two for its first use, three at the limit.
    In `conn`, a transaction, the use is counted with its work: rolled back with it."""
    if await sql.fetch(_TAKE, [key, window_start, limit], conn):
        return True
    if await sql.fetch(_CREATE, [key, window_start], conn):
        return True
    # The row is there: at its limit, or made by another request since the update looked.
    return bool(await sql.fetch(_TAKE, [key, window_start, limit], conn))


_AT_BOUND = (
    'SELECT 1 FROM "rate_counter" WHERE "key" = $1 AND "window_start" = $2 AND "count" >= $3'
)


async def at_bound(key: str, window_start: datetime, limit: int) -> bool:
    """Whether `key`'s count in the window already reached `limit`: a look, counting nothing
    and locking nothing, for an early refusal before costly work that `take` then counts."""
    return bool(await sql.fetch(_AT_BOUND, [key, window_start, limit]))


_COUNT_FAILURE = (
    'UPDATE "account" SET "failure_count" = "failure_count" + 1 WHERE "id" = $1'
    ' AND "locked_at" IS NULL AND "failure_day" = $2 AND "failure_count" < $3'
)
_FIRST_FAILURE_OF_DAY = (
    'UPDATE "account" SET "failure_day" = $2, "failure_count" = 1 WHERE "id" = $1'
    ' AND "locked_at" IS NULL AND ("failure_day" IS NULL OR "failure_day" <> $2)'
)
_RELEASE_FAILURE = (
    'UPDATE "account" SET "failure_count" = "failure_count" - 1 WHERE "id" = $1'
    ' AND "failure_day" = $2 AND "failure_count" > 0'
)
_LOCK_IF_CAPPED = (
    'UPDATE "account" SET "locked_at" = $4, "lock_reason" = $5 WHERE "id" = $1'
    ' AND "locked_at" IS NULL AND "failure_day" = $2 AND "failure_count" >= $3'
)


async def reserve_failure(account_id: uuid.UUID) -> date | None:
    """Reserve one of today's code failures for a try about to be compared; the day it was
    counted on, which the try's lock or release then names (a try may end after midnight).

    Returns None when the account is locked or today's failures are used up. A try that
    turns out right gives its reservation back with `release_failure`.
    """
    day = clock.now().date()
    same_day = [account_id, day, DAILY_CODE_FAILURES]
    if await sql.execute(_COUNT_FAILURE, same_day):
        return day
    # First failure of a new day: only one of several parallel requests can move the day…
    if await sql.execute(_FIRST_FAILURE_OF_DAY, same_day[:2]):
        return day
    # …and the others count on the day it moved.
    return day if await sql.execute(_COUNT_FAILURE, same_day) else None


def utc_day() -> datetime:
    """The window of a per-day bound (`take`): the start of the day (UTC) now."""
    return clock.now().replace(hour=0, minute=0, second=0, microsecond=0)


def utc_hour() -> datetime:
    """The window of a per-hour bound (`take`): the start of the hour now."""
    return clock.now().replace(minute=0, second=0, microsecond=0)


HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


async def require(
    key: str, window_start: datetime, limit: int, message: str | None = None, *, window: timedelta,
    conn: Any = None,
) -> None:
    """Count one use as `take` does (in `conn`, if given); past the limit, `rate_limited`."""
    if await take(key, window_start, limit, conn):
        return
    raise rate_limited(window_start, window, message)


def rate_limited(window_start: datetime, window: timedelta, message: str | None = None) -> RateLimited:
    """RATE_LIMITED (`message`, or the default words) with `extensions.retryAfter`: the whole
    seconds until the window, `window` long from `window_start`, ends and its count starts
    again (at least 1)."""
    retry_after = max(1, math.ceil((window_start + window - clock.now()).total_seconds()))
    if message is None:
        return RateLimited(retryAfter=retry_after)
    return RateLimited(message, retryAfter=retry_after)


class ResetTry(Enum):
    """A password-reset code's try, counted today (`take_reset_try`)."""

    COUNTED = "counted"  # the code may be compared
    # The account's tries are used up, not those of the identifier typed: the try is answered
    # as a wrong code, the code not compared (a refusal would tell that the identifier names
    # the account whose tries another identifier used up).
    ACCOUNT_USED_UP = "account used up"
    USED_UP = "used up"  # the identifier's own tries: RESET_TRIES_USED_UP


async def take_reset_try(own: str, account: str | None = None) -> ResetTry:
    """Count one try of a password-reset code today on `own`, the budget of the identifier
    typed (its keyed hash, `id:…`; an account's id for an attempt that kept none), and then on
    `account`'s, the account it names, whichever of its identifiers was typed. Right or
    wrong, a try counts: a right one ends the reset."""
    if not await take(f"reset-code:{own}", utc_day(), DAILY_CODE_FAILURES):
        return ResetTry.USED_UP
    if account is not None and not await take(f"reset-code:{account}", utc_day(), DAILY_CODE_FAILURES):
        return ResetTry.ACCOUNT_USED_UP
    return ResetTry.COUNTED


async def release_failure(account_id: uuid.UUID, day: date) -> None:
    """Give back a failure reserved on `day` (a right try's)."""
    await sql.execute(_RELEASE_FAILURE, [account_id, day])


async def lock_if_capped(account_id: uuid.UUID, day: date | None = None) -> bool:
    """Lock code login once `day`'s failures (today's by default) reach the cap; True only
    for the request that locks."""
    now = clock.now()
    return bool(await sql.execute(
        _LOCK_IF_CAPPED, [account_id, day or now.date(), DAILY_CODE_FAILURES, now, LOCK_REASON]
    ))
