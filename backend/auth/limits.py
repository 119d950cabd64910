"""Counters shared by every process, kept in the database with atomic conditional updates.

A try is counted before the thing it guards is compared, and a counter never passes its
limit: `UPDATE … SET n = n + 1 WHERE … AND n < limit` either counts the try or refuses it,
whatever the number of parallel requests, aliases or server processes.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from backend import clock
from backend.models import Account, RateCounter

# Code failures per account and UTC day; reaching it locks code login (DESIGN §5).
DAILY_CODE_FAILURES = 10
LOCK_REASON = "too many wrong codes"


async def take(key: str, window_start: datetime, limit: int) -> bool:
    """Count one use of `key` in the window starting at `window_start`; False past the limit."""
    under_limit = RateCounter.filter(key=key, window_start=window_start, count__lt=limit)
    for _ in range(2):
        if await under_limit.update(count=F("count") + 1):
            return True
        if await RateCounter.filter(key=key, window_start=window_start).exists():
            # Either the limit is reached, or another request created the row after our
            # update looked: one more conditional update tells which.
            return bool(await under_limit.update(count=F("count") + 1))
        try:
            async with in_transaction():  # a savepoint when the caller is in a transaction
                await RateCounter.create(key=key, window_start=window_start, count=1)
            return True
        except IntegrityError:
            continue  # another request created it first: count on the row it made
    return False


async def reserve_failure(account_id: uuid.UUID) -> bool:
    """Reserve one of today's code failures for a try about to be compared.

    Returns False when the account is locked or today's failures are used up. A try that
    turns out right gives its reservation back with `release_failure`.
    """
    today = clock.now().date()
    same_day = Account.filter(
        id=account_id, locked_at=None, failure_day=today, failure_count__lt=DAILY_CODE_FAILURES
    )
    if await same_day.update(failure_count=F("failure_count") + 1):
        return True
    # First failure of a new day: only one of several parallel requests can move the day…
    if await Account.filter(
        Q(id=account_id), Q(locked_at=None), Q(failure_day=None) | ~Q(failure_day=today)
    ).update(failure_day=today, failure_count=1):
        return True
    # …and the others count on the day it moved.
    return bool(await same_day.update(failure_count=F("failure_count") + 1))


async def release_failure(account_id: uuid.UUID) -> None:
    today = clock.now().date()
    await Account.filter(id=account_id, failure_day=today, failure_count__gt=0).update(
        failure_count=F("failure_count") - 1
    )


async def lock_if_capped(account_id: uuid.UUID) -> bool:
    """Lock code login once today's failures reach the cap; True only for the request that locks."""
    return bool(await Account.filter(
        id=account_id,
        locked_at=None,
        failure_day=clock.now().date(),
        failure_count__gte=DAILY_CODE_FAILURES,
    ).update(locked_at=clock.now(), lock_reason=LOCK_REASON))
