"""Purging expired records (DESIGN §2): closed for 10 years, or deletion requested 30 days ago.

Everything of the record goes — entries, stored files, the access history, outbox messages —
and so does its owner's account with their sessions, codes and passkeys. Files on disk are
removed after the rows are committed: a crash in between leaves only ciphertext whose key
was in the deleted rows. Such leftovers, and the files of uploads whose transaction failed or
was cut, are swept once a day old (`sweep_orphan_files`). What stays is a keyed hash of the
record's INS (`PurgedIdentity`), so that an insurer's import does not open the record again.

A record whose purge fails (a database error on its rows, a seal that cannot be written) is
rolled back whole and left for the next run; the run goes on with the others. A failure that
says the database cannot be reached stops the run.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from backend import clock, db
from backend.audit.chain import purge_seal, purged_ins_mac
from backend.audit.grounds import purge_ungrounded
from backend.audit.verify import head_mac
from backend.config import settings
from backend.domain.enums import RecordStatus
from backend.files import storage
from backend.models import (
    AccessEvent,
    Account,
    ActivationCode,
    BlockedPractitioner,
    EmergencySession,
    Entry,
    Grant,
    ImportKey,
    LoginAttempt,
    OneTimeCode,
    OutboxMessage,
    PasskeyChallenge,
    PasskeyCredential,
    PurgedIdentity,
    PurgedRecord,
    RateCounter,
    Record,
    Session,
    StoredFile,
)
from backend.notify.delivery import NEVER
from backend.resolvers.lifecycle import DELETION_GRACE, RETENTION

# A record is purged once its owner can no longer take it back: the moment `reopenUntil`
# (closed) or `cancelDeletionUntil` (deleted) has passed, the same durations as the
# lifecycle's, so that the date the patient is given is never a day after the purge.
UNDELIVERABLE_KEPT = timedelta(days=30)
# An activation code's lifetime (auth/activation.py), and then some.
ABANDONED_AFTER = timedelta(days=45)
# A file younger than this may belong to an upload whose row is not committed yet.
ORPHAN_AGE = timedelta(days=1)
_IN_CHUNKS = 500

log = logging.getLogger("dmp.purge")


@dataclass
class PurgeReport:
    closed: int = 0
    deleted: int = 0
    abandoned: int = 0  # pending records nobody activated, holding nothing
    files: int = 0
    expired_rows: int = 0
    orphan_files: int = 0
    record_ids: list[uuid.UUID] = field(default_factory=list)
    # Records whose purge failed and was rolled back: they stay whole, for the next run.
    failed_ids: list[uuid.UUID] = field(default_factory=list)
    # Files of purged records that could not be removed: left to `sweep_orphan_files`.
    files_kept: int = 0
    # Orphan files the sweep would have removed and did not, being too many (TooManyOrphans).
    orphans_left: int = 0


# The sweep refuses to remove more than this many files when they are also more than half of
# the stored files: a database that holds none of them is more likely the wrong one (a restore
# not yet pointed at, an empty database) than the owner of that many orphans.
ORPHANS_WITHOUT_QUESTION = 10


class TooManyOrphans(Exception):
    def __init__(self, orphans: int, stored: int) -> None:
        super().__init__(f"{orphans} of {stored} stored files are held by no row of this database")
        self.orphans, self.stored = orphans, stored


async def purge_expired_state(now: datetime) -> int:
    """Authentication state that can no longer be used: challenges, attempts, counters,
    sessions; and messages sent a day ago, whose text holds codes in clear (the codes
    themselves are stored hashed): the outbox is a queue, not an archive."""
    day_ago = now - timedelta(days=1)
    removed = await OutboxMessage.filter(sent_at__lt=day_ago).delete()
    # Messages the mail server can never take (docs/operations.md, Outbox): a month to make
    # them due again once it can, then gone with the codes in their text.
    removed += await OutboxMessage.filter(
        sent_at=None, next_attempt_at=NEVER, created_at__lt=now - UNDELIVERABLE_KEPT
    ).delete()
    removed += await PasskeyChallenge.filter(expires_at__lt=now).delete()
    removed += await LoginAttempt.filter(expires_at__lt=day_ago).delete()
    removed += await OneTimeCode.filter(expires_at__lt=day_ago).delete()
    removed += await RateCounter.filter(window_start__lt=now - timedelta(days=2)).delete()
    removed += await Session.filter(expires_at__lt=now - timedelta(days=30)).delete()
    return int(removed)


def due_filter(now: datetime) -> Q:
    # 3,653 days: ten years, whatever number of 29 Februaries they hold.
    closed = Q(status=RecordStatus.CLOSED, closed_at__lt=now - RETENTION)
    deleted = Q(status=RecordStatus.DELETED, deletion_requested_at__lt=now - DELETION_GRACE)
    return closed | deleted


def abandoned_filter(now: datetime) -> Q:
    """PENDING records opened more than an activation code's lifetime ago that nobody
    activated and that hold nothing (no entry, no file, no code still valid): an identity
    typed wrong at the point of care, or a record opened for a patient who never came.
    Purged, they free the INS for a record opened with the right identity."""
    return Q(
        Q(status=RecordStatus.PENDING, owner_id=None, created_at__lt=now - ABANDONED_AFTER),
        ~Q(id__in=Subquery(Entry.all().values("record_id"))),
        ~Q(id__in=Subquery(StoredFile.all().values("record_id"))),
        ~Q(id__in=Subquery(ActivationCode.filter(expires_at__gt=now).values("record_id"))),
    )


class Ungrounded(Exception):
    """The record's history does not show what its row says (a closing, a deletion request
    old enough, or for a pending record no activation): not purged."""


async def purge_record(
    record: Record, *, remember_identity: bool = True, still: Q | None = None,
    grounds: dict[str, Any] | None = None,
) -> list[uuid.UUID] | None:
    """Delete one record and its owner's account; returns the ids of its stored files, or
    None when there was nothing to purge: the record is gone (another run purged it) or no
    longer matches `still`, checked under the record's lock (its owner reopened it, or
    cancelled the deletion, since the run listed it).

    The record's history goes too; a sealed `PurgedRecord` row keeps where its chain ended,
    so that `dmp audit verify --anchor` can tell this purge from rows deleted another way.
    With `remember_identity`, its INS is kept as a keyed hash (`PurgedIdentity`). With
    `grounds` (`backend.audit.grounds.purge_ungrounded`'s cutoffs), the record is purged only if
    its own history, which the audit key seals, shows what its row says (Ungrounded otherwise):
    the row's status and dates are columns whoever can write to the database can set.
    """
    async with in_transaction() as conn:
        # The record's row lock first, as an event write takes it: the head read is the last.
        # Taken by id alone, and `still` checked in a statement of its own once the lock is held:
        # in READ COMMITTED, a statement that waited for a row lock re-checks that row's columns
        # only, its subqueries (an entry, a file, a code of `abandoned_filter`) keep the snapshot
        # of before the wait, and would not see an import or a code committed meanwhile.
        locked = await Record.filter(id=record.id).using_db(conn).select_for_update().first()
        if locked is None:
            return None
        if still is not None and not await Record.filter(Q(id=record.id) & still).using_db(conn).exists():
            return None
        record.status = locked.status
        owner_id: uuid.UUID | None = locked.owner_id  # type: ignore[attr-defined]
        last_seq = locked.event_seq
        if grounds is not None:
            cfg = settings()
            why = await purge_ungrounded(
                cfg.audit_key, record.id, last_seq, conn, previous_key=cfg.previous_audit_key, **grounds
            )
            if why is not None:
                raise Ungrounded(why)
        last_mac = await head_mac(record.id, last_seq, conn)
        purged_at = clock.now()
        await PurgedRecord.create(
            using_db=conn, record_id=record.id, purged_at=purged_at, last_seq=last_seq, last_mac=last_mac,
            mac=purge_seal(settings().audit_key, str(record.id), purged_at, last_seq, last_mac),
        )
        # The INS stays known as purged, as a keyed hash: an insurer's import sent again does
        # not open a new record for it (lifted by `openRecordForPatient`).
        if remember_identity:
            ins_mac = purged_ins_mac(settings().audit_key, record.ins)
            await PurgedIdentity.filter(ins_mac=ins_mac).using_db(conn).delete()
            await PurgedIdentity.create(using_db=conn, ins_mac=ins_mac, purged_at=purged_at)
        file_ids = [
            uuid.UUID(str(f))
            for f in await StoredFile.filter(record_id=record.id).using_db(conn).values_list("id", flat=True)
        ]
        await ImportKey.filter(record_id=record.id).using_db(conn).delete()
        await Entry.filter(record_id=record.id).using_db(conn).update(supersedes_id=None)
        await Entry.filter(record_id=record.id).using_db(conn).delete()
        await StoredFile.filter(record_id=record.id).using_db(conn).delete()
        await AccessEvent.filter(record_id=record.id).using_db(conn).delete()
        await ActivationCode.filter(record_id=record.id).using_db(conn).delete()
        await Grant.filter(record_id=record.id).using_db(conn).delete()
        await BlockedPractitioner.filter(record_id=record.id).using_db(conn).delete()
        await EmergencySession.filter(record_id=record.id).using_db(conn).delete()
        outbox = Q(record_id=record.id)
        if owner_id is not None:
            outbox |= Q(account_id=owner_id)
        await OutboxMessage.filter(outbox).using_db(conn).delete()
        await Record.filter(id=record.id).using_db(conn).delete()
        if owner_id is not None:
            await OneTimeCode.filter(account_id=owner_id).using_db(conn).delete()
            await PasskeyChallenge.filter(account_id=owner_id).using_db(conn).delete()
            await PasskeyCredential.filter(account_id=owner_id).using_db(conn).delete()
            await LoginAttempt.filter(account_id=owner_id).using_db(conn).delete()
            await Session.filter(account_id=owner_id).using_db(conn).delete()
            await Account.filter(id=owner_id).using_db(conn).delete()
    return file_ids


async def _purge_one(
    record: Record, report: PurgeReport, *, remember_identity: bool, still: Q, grounds: dict[str, Any],
) -> list[uuid.UUID] | None:
    """`purge_record`, with a failure of this record's own logged and counted: its transaction
    is rolled back, so the record stays whole. Logged by the record's id and the exception's
    type only: a message may quote the data. A database that cannot be reached is no failure
    of one record: it stops the run."""
    try:
        return await purge_record(record, remember_identity=remember_identity, still=still, grounds=grounds)
    except Ungrounded as why:  # its words name no content
        log.error("record %s not purged: %s", record.id, why, extra={"error": "Ungrounded"})
        report.failed_ids.append(record.id)
        return None
    except Exception as exc:
        if db.unavailable(exc):
            raise
        log.error("record %s not purged: %s", record.id, type(exc).__name__,
                  extra={"error": type(exc).__name__})
        report.failed_ids.append(record.id)
        return None


def _remove_files(record: Record, file_ids: list[uuid.UUID], report: PurgeReport) -> None:
    """The files of a record whose rows are committed: one that cannot be removed stays for the
    orphan sweep (it is ciphertext whose key went with the rows)."""
    for file_id in file_ids:
        try:
            report.files += storage.remove(file_id)
        except OSError as exc:
            log.error("record %s purged, file %s not removed: %s", record.id, file_id, type(exc).__name__,
                      extra={"error": type(exc).__name__})
            report.files_kept += 1


async def purge(now: datetime | None = None, *, sweep_all: bool = False) -> PurgeReport:
    now = now or clock.now()
    report = PurgeReport()
    # What each purge rests on, as its history must show it (backend/audit/grounds.py).
    due = {"closed_before": now - RETENTION, "deletion_requested_before": now - DELETION_GRACE}
    for record in await Record.filter(due_filter(now)).order_by("id"):
        file_ids = await _purge_one(
            record, report, remember_identity=True, still=due_filter(now), grounds=due
        )
        if file_ids is None:
            continue
        _remove_files(record, file_ids, report)
        if record.status == RecordStatus.CLOSED:
            report.closed += 1
        else:
            report.deleted += 1
        report.record_ids.append(record.id)
    for record in await Record.filter(abandoned_filter(now)).order_by("id"):
        # Nothing of the patient's wish to keep: the INS stays free for imports.
        never = {"never_activated": True}
        if await _purge_one(record, report, remember_identity=False, still=abandoned_filter(now),
                            grounds=never) is None:
            continue
        report.abandoned += 1
        report.record_ids.append(record.id)
    report.expired_rows = await purge_expired_state(now)
    try:
        report.orphan_files = await sweep_orphan_files(now, sweep_all=sweep_all)
    except TooManyOrphans as refused:
        report.orphans_left = refused.orphans
        log.error(
            "orphan files not swept: too many for this database (the wrong database?)",
            extra={"orphans": refused.orphans, "stored_files": refused.stored},
        )
    return report


class NotReleased(Exception):
    """No record waiting for activation has this INS; the message says what there is instead."""


async def release_pending(ins: str) -> int:
    """An operator's release of the record waiting for activation that holds `ins`: purged now,
    whatever it holds, as `dmp purge` purges an abandoned one after 45 days (an identity typed
    wrong at the point of care, or an INS taken with a made-up identity by an import or a
    practice app whose token was misused, which the real patient's practitioner can then only
    open as IDENTITY_MISMATCH). Its activation codes go with it. Only a record nobody activated,
    as its own history shows (`never_activated`); the INS stays known as purged, so that an
    import does not open it again before the patient's practitioner does. Returns the number of
    files removed."""
    record = await Record.filter(ins=ins).first()
    if record is None:
        raise NotReleased("no record has this INS")
    pending = Q(status=RecordStatus.PENDING, owner_id=None)
    if record.status != RecordStatus.PENDING:
        raise NotReleased(f"this INS's record is {record.status.value.lower()}, not waiting for activation: "
                          "only a record nobody activated is released")
    try:
        file_ids = await purge_record(record, remember_identity=True, still=pending,
                                      grounds={"never_activated": True})
    except Ungrounded as why:  # its words name no content
        raise NotReleased(f"not released: {why}") from None
    if file_ids is None:
        raise NotReleased("the record was activated or purged meanwhile: not released")
    log.info("pending record %s released by an operator", record.id,
             extra={"event": "record_released", "count": len(file_ids)})
    report = PurgeReport()
    _remove_files(record, file_ids, report)
    return report.files


async def sweep_orphan_files(now: datetime, *, sweep_all: bool = False) -> int:
    """Remove the files on disk no stored-file row holds, once older than ORPHAN_AGE.

    They are ciphertext nobody can read any more (their wrapped key was never committed, or
    went with the purged rows) and half-written temporary files of a cut write. Files whose
    name is not a file id are not the service's and stay. More than ORPHANS_WITHOUT_QUESTION
    of them that are also more than half of the stored files are not removed (TooManyOrphans,
    nothing removed) unless `sweep_all`: against an empty or wrong database, every document
    would look like an orphan.
    """
    cutoff = (now - ORPHAN_AGE).timestamp()
    removed = 0
    candidates: dict[uuid.UUID, Path] = {}
    for path, file_id in storage.files_on_disk():
        try:
            written = path.stat().st_mtime
        except FileNotFoundError:  # renamed by an upload in flight, or removed, since it was listed
            continue
        if written > cutoff:
            continue
        if file_id is None:
            path.unlink(missing_ok=True)
            removed += 1
        else:
            candidates[file_id] = path
    ids = list(candidates)
    orphans: list[Path] = []
    for start in range(0, len(ids), _IN_CHUNKS):
        chunk = ids[start : start + _IN_CHUNKS]
        held = {uuid.UUID(str(i)) for i in await StoredFile.filter(id__in=chunk).values_list("id", flat=True)}
        orphans.extend(candidates[file_id] for file_id in chunk if file_id not in held)
    if not sweep_all and len(orphans) > ORPHANS_WITHOUT_QUESTION and 2 * len(orphans) > len(ids):
        raise TooManyOrphans(len(orphans), len(ids))
    for path in orphans:
        path.unlink(missing_ok=True)
        removed += 1
    return removed
