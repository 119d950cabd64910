"""Identifiers of record entries: UUIDs of version 7 (RFC 9562), which begin with the time
they were made, to the millisecond, and end with 74 random bits.

Entries are listed by date of care, newest first, then by id: with time-ordered ids, entries
of the same date of care come the most recently written first, and a correction before the
version it replaces (`entry_id(after=…)`, even within one millisecond). The time an id holds is
the entry's `createdAt`, which the API gives anyway.

The bits after the time are random, drawn for each id, and carry nothing else: not a counter.
Ids counted up within a millisecond (as `uuid_utils`' `uuid7` makes them) told whoever saw some
entries of one import how many of the batch they were not shown, and where: a masked entry,
which no one but its owner may know of, was a missing number between two that were shown.
So the entries made in one millisecond (an import's batch) come in no particular order among
themselves. Entries written before ids were made so keep their random (version 4) ids: among
themselves, on the same date, their order is arbitrary too.
"""

from __future__ import annotations

import secrets
import time
import uuid

_RANDOM_BITS = 74  # rand_a (12 bits) and rand_b (62 bits)
_SPACE = 1 << _RANDOM_BITS
_VERSION_AND_VARIANT = (0x7 << 76) | (0b10 << 62)


def _make(ms: int, random: int) -> uuid.UUID:
    high, low = random >> 62, random & ((1 << 62) - 1)
    return uuid.UUID(int=(ms << 80) | _VERSION_AND_VARIANT | (high << 64) | low)


def _parts(made: uuid.UUID) -> tuple[int, int]:
    """An id's millisecond and its random bits (as `_make` took them)."""
    value = made.int
    return value >> 80, (((value >> 64) & 0xFFF) << 62) | (value & ((1 << 62) - 1))


def entry_id(after: uuid.UUID | None = None) -> uuid.UUID:
    """A new entry's id; greater than `after` (the version it replaces) when that one is an id
    of this kind, though made in the same millisecond or with a clock since set back."""
    ms = time.time_ns() // 1_000_000
    if after is None or after.version != 7:
        return _make(ms, secrets.randbits(_RANDOM_BITS))
    after_ms, after_random = _parts(after)
    if after_ms < ms:
        return _make(ms, secrets.randbits(_RANDOM_BITS))
    # Above `after` within its millisecond, at a random distance (it tells nothing); the next
    # millisecond when no room is left.
    room = _SPACE - 1 - after_random
    if room <= 0:
        return _make(after_ms + 1, secrets.randbits(_RANDOM_BITS))
    return _make(after_ms, after_random + 1 + secrets.randbelow(room))


def entry_ids(count: int) -> list[uuid.UUID]:
    """`count` new ids, of this millisecond or later, each with its own random bits."""
    return [entry_id() for _ in range(count)]
