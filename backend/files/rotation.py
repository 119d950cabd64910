"""Rotating the data key: every stored file's key re-wrapped by the current data key.

After `DMP_DATA_KEY` is replaced (the old key moved to `DMP_PREVIOUS_DATA_KEYS`), files
sealed before still open through the previous key. `dmp rewrap-files` wraps each of their
keys again with the new one: a few bytes per row, the files on disk untouched. Once it
reports none left, the previous key can be dropped from the configuration.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from backend.files.crypto import FileIntegrityError, KeyUnavailable, key_id, rewrap
from backend.files.storage import keyring
from backend.models import StoredFile

BATCH = 200


@dataclass
class RewrapReport:
    rewrapped: int = 0
    # Sealed under a key that is no longer configured: they cannot be opened until it is.
    key_unavailable: int = 0
    # Whose wrapped key does not unwrap under the key it names: altered.
    damaged: int = 0
    # Changed meanwhile by another process (rewrapped there, or deleted).
    skipped: int = 0
    # Still under another key than the current one once the run ended: those it could not
    # mend, and any sealed meanwhile behind its cursor by a process still running with the
    # old key. The previous key may be dropped only when this is 0.
    remaining: int = 0


async def rewrap_files() -> RewrapReport:
    """Re-wrap, in batches by id, the key of every stored file not under the current data key.

    Each row is visited once: those it cannot mend (or that changed meanwhile) are counted
    and left behind the batch's cursor. At the end, the rows still under another key are
    counted again, whatever left them there.
    """
    ring = keyring()
    current = key_id(ring.current)
    report = RewrapReport()
    after: uuid.UUID | None = None
    while True:
        query = StoredFile.filter(key_id__not=current)
        if after is not None:
            query = query.filter(id__gt=after)
        rows = await query.order_by("id").limit(BATCH).values("id", "key_id", "wrapped_key")
        if not rows:
            report.remaining = await StoredFile.filter(key_id__not=current).count()
            return report
        for row in rows:
            file_id, kid, wrapped = row["id"], row["key_id"], bytes(row["wrapped_key"])
            after = file_id
            try:
                new_wrapped, new_kid = rewrap(ring, file_id, wrapped, kid)
            except KeyUnavailable:
                report.key_unavailable += 1
                continue
            except FileIntegrityError:
                report.damaged += 1
                continue
            # Only if nobody changed the row meanwhile.
            changed = await StoredFile.filter(id=file_id, key_id=kid, wrapped_key=wrapped).update(
                wrapped_key=new_wrapped, key_id=new_kid
            )
            if changed:
                report.rewrapped += 1
            else:
                report.skipped += 1
