"""Identifiers of record entries: UUIDs of version 7 (RFC 9562), which begin with the time
they were made.

Entries are listed by date of care, newest first, then by id: with time-ordered ids, entries
of the same date of care come the most recently written first, and a correction before the
version it replaces. `uuid_utils` keeps the ids of one process strictly increasing within a
millisecond (a counter, not a clock pushed ahead). The time an id holds is the entry's
`createdAt`, which the API gives anyway. Entries written before ids were made so keep their
random (version 4) ids: among themselves, on the same date, their order is arbitrary.
"""

import uuid

from uuid_utils.compat import uuid7


def entry_id() -> uuid.UUID:
    return uuid7()


def entry_ids(count: int) -> list[uuid.UUID]:
    """`count` increasing ids, in the order the entries are written."""
    return [uuid7() for _ in range(count)]
