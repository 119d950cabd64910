"""Checking the chains: recompute every MAC, and compare the heads with an anchor (DESIGN §4).

Reports name a record by its id and an event by its sequence number, never any content.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from tortoise.exceptions import FieldError
from tortoise.queryset import QuerySet

from backend import clock, sql
from backend.audit.chain import GENESIS, event_fields, mac, purge_seal
from backend.models import AccessEvent, PurgedRecord, Record

EVENT_COLUMNS = (
    "seq", "at", "actor_id", "actor_name", "actor_profession", "actor_role", "action", "mode",
    "sections", "entry_id", "reason", "mac",
)


ALTERED = "altered event (its MAC does not match)"


@dataclass(frozen=True)
class Problem:
    record_id: uuid.UUID | str
    seq: int
    what: str

    def __str__(self) -> str:
        return f"record {self.record_id} seq {self.seq}: {self.what}"


@dataclass
class Report:
    records: int = 0
    events: int = 0
    purged: int = 0  # anchored records purged since, their seal checked (check_anchor)
    seals: int = 0  # purge seals checked (verify over every record)
    under_previous: int = 0  # events still under the previous audit key (verify)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def expected_mac(key: bytes, record_id: uuid.UUID, row: dict[str, Any], previous: str) -> str:
    fields = event_fields(
        record_id=str(record_id),
        seq=row["seq"],
        at=row["at"].astimezone(UTC),
        actor_id=row["actor_id"],
        actor_name=row["actor_name"],
        actor_profession=row["actor_profession"],
        actor_role=row["actor_role"],
        action=row["action"],
        mode=row["mode"],
        sections=[],
        entry_id=row["entry_id"],
        reason=row["reason"],
    )
    # The sections exactly as stored: the writers store the sorted list their MAC covers, so
    # another order, an object of the same names, a null for [] or a list holding a number is
    # an altered event (sorted or read as a list, they shared its MAC, or could not be sorted).
    fields["sections"] = row["sections"]
    return mac(key, fields, previous)


@dataclass(frozen=True)
class ChainCheck:
    problem: Problem | None
    # Events whose MAC is under the previous audit key: the chain's first ones, written
    # before the service restarted with the current key and not yet rekeyed.
    under_previous: int = 0


def check_chain(
    key: bytes,
    record_id: uuid.UUID,
    head_seq: int,
    rows: list[dict[str, Any]],
    previous_key: bytes | None = None,
) -> ChainCheck:
    """The first altered, inserted or missing event of one chain, if any.

    With a previous key (a rotation under way), the chain may begin under it and go on under
    the current key; once an event is under the current key, every later one must be too.
    """
    keys = [key] if previous_key is None else [key, previous_key]
    previous = GENESIS
    expected_seq = 1
    under_previous = 0
    for index, row in enumerate(rows):
        seq = row["seq"]
        if type(seq) is not int:  # SQLite keeps text or a real number in an integer column
            return ChainCheck(Problem(record_id, expected_seq, UNREADABLE))
        if seq > expected_seq:
            return ChainCheck(Problem(record_id, expected_seq, "missing event"))
        if seq > head_seq:
            return ChainCheck(Problem(record_id, seq, "inserted event (beyond the record's head)"))
        used = _key_of(keys, record_id, row, previous)
        if used is None:
            following = rows[index + 1] if index + 1 < len(rows) else None
            if following is not None and _key_of(keys, record_id, {**following, "seq": seq}, previous):
                # The next event belongs here: this one was put before it, or belongs after it.
                if _key_of(keys, record_id, {**row, "seq": seq + 1}, following["mac"]):
                    return ChainCheck(Problem(
                        record_id, seq, f"reordered events (seq {seq} and {seq + 1} in each other's place)"))
                return ChainCheck(Problem(record_id, seq, "inserted event (the chain continues without it)"))
            return ChainCheck(Problem(record_id, seq, ALTERED))
        if used is key:
            keys = [key]  # the current key from here on: the previous one may not come back
        else:
            under_previous += 1
        previous = row["mac"]
        expected_seq = seq + 1
    if expected_seq <= head_seq:
        return ChainCheck(
            Problem(record_id, expected_seq, f"missing event (the record's head is seq {head_seq})")
        )
    return ChainCheck(None, under_previous)


def _key_of(
    keys: list[bytes], record_id: uuid.UUID, row: dict[str, Any], previous: str
) -> bytes | None:
    """Which of `keys` the event's MAC is under, if any."""
    for key in keys:
        if hmac.compare_digest(expected_mac(key, record_id, row, previous), row["mac"]):
            return key
    return None


# A batch of chains is read in one statement: at most `BATCH_RECORDS` records, holding at most
# `BATCH_EVENTS` events by their heads (one record at least, however long its chain), so
# that memory holds one batch at a time however many records there are. Past about a hundred
# records a batch, the time is the MACs' and the rows' own; 400 heads make 800 parameters in
# `macs_at`, within the 999 of SQLite builds before 3.32.
BATCH_RECORDS = 400
BATCH_EVENTS = 10_000


# What reading an event may raise where a column holds a value no writer stores (SQLite keeps
# any value in any column: text for a time, text that is not JSON for the sections).
UNREADABLE_ERRORS = (ValueError, TypeError, OverflowError, FieldError)
UNREADABLE = "altered event (it holds a value no writer stores)"


def first_problem_of_unreadable(
    key: bytes, record_id: uuid.UUID, readable: list[dict[str, Any]], previous_key: bytes | None = None
) -> Problem:
    """The first problem of a chain whose events after `readable` (its first ones, in order)
    cannot be read: one among `readable`, or else the event that follows them."""
    head = readable[-1]["seq"] if readable and type(readable[-1]["seq"]) is int else 0
    check = check_chain(key, record_id, head, readable, previous_key)
    return check.problem or Problem(record_id, head + 1, UNREADABLE)


async def readable_events(record_id: uuid.UUID, *columns: str, conn: Any = None) -> list[dict[str, Any]]:
    """A chain's events read one by one, in order, up to the first that cannot be read."""
    events = AccessEvent.filter(record_id=record_id).using_db(conn)
    readable: list[dict[str, Any]] = []
    for event_id in await events.order_by("seq").values_list("id", flat=True):
        try:
            readable += await AccessEvent.filter(id=event_id).using_db(conn).values(*columns)
        except UNREADABLE_ERRORS:
            break
    return readable


async def verify(
    key: bytes,
    record_ids: list[uuid.UUID] | None = None,
    previous_key: bytes | None = None,
    *,
    batch_records: int = BATCH_RECORDS,
    batch_events: int = BATCH_EVENTS,
) -> Report:
    report = Report()
    query = Record.all()
    if record_ids is not None:
        query = query.filter(id__in=record_ids)
    async for heads in _heads_by_page(query, batch_records):
        for batch in _by_events(heads, batch_events):
            try:
                chains = await chains_as_written(batch)
            except UNREADABLE_ERRORS:
                await _verify_one_by_one(key, batch, previous_key, report)
                continue
            for record_id, rows, head_seq in chains:
                _check_into(report, key, record_id, head_seq, rows, previous_key)
    if record_ids is None:
        await _check_seals(report, [key] if previous_key is None else [key, previous_key], batch_records)
    return report


async def _check_seals(report: Report, keys: list[bytes], size: int) -> None:
    """Every purge seal must verify under the audit key (or the previous one while a rotation
    is under way). Without an anchor nothing tells which records a purge should have left a
    seal for, but a seal altered or written without the key is caught here, before an anchor
    is taken over it."""
    after: Any = None
    while True:
        query = PurgedRecord.all() if after is None else PurgedRecord.filter(record_id__gt=after)
        page = await query.order_by("record_id").limit(size)
        for purged in page:
            report.seals += 1
            if seal_key_of(keys, purged) is None:
                report.problems.append(Problem(
                    uuid.UUID(str(purged.record_id)), purged.last_seq,
                    "the record's purge seal does not verify",
                ))
        if len(page) < size:
            return
        after = page[-1].record_id


def _check_into(
    report: Report, key: bytes, record_id: uuid.UUID, head_seq: int, rows: list[dict[str, Any]],
    previous_key: bytes | None,
) -> None:
    report.records += 1
    report.events += len(rows)
    check = check_chain(key, record_id, head_seq, rows, previous_key)
    report.under_previous += check.under_previous
    if check.problem is not None:
        report.problems.append(check.problem)


async def _verify_one_by_one(
    key: bytes, batch: list[tuple[uuid.UUID, int]], previous_key: bytes | None, report: Report
) -> None:
    """A batch one of whose events cannot be read: each chain on its own, and the one that
    holds it reported at its first problem, instead of the command stopping on a traceback."""
    for record_id, head_seq in batch:
        try:
            chain = await chain_as_written(record_id, head_seq)
        except UNREADABLE_ERRORS:
            readable = await readable_events(record_id, *EVENT_COLUMNS)
            report.records += 1
            report.events += len(readable)
            report.problems.append(first_problem_of_unreadable(key, record_id, readable, previous_key))
            continue
        if chain is not None:
            _check_into(report, key, record_id, chain[1], chain[0], previous_key)


async def _heads_by_page(
    query: QuerySet[Record], size: int
) -> AsyncIterator[list[tuple[uuid.UUID, int]]]:
    """The records of `query` and their heads, `size` at a time in the order of their ids."""
    after: Any = None
    while True:
        page_query = query if after is None else query.filter(id__gt=after)
        page = await page_query.order_by("id").limit(size).values_list("id", "event_seq")
        if not page:
            return
        yield [(uuid.UUID(str(record_id)), int(seq)) for record_id, seq in page]
        if len(page) < size:
            return
        after = page[-1][0]


def _by_events(
    heads: list[tuple[uuid.UUID, int]], most: int
) -> Iterator[list[tuple[uuid.UUID, int]]]:
    """`heads` cut into runs of at most `most` events by their heads, one record at least."""
    batch: list[tuple[uuid.UUID, int]] = []
    events = 0
    for head in heads:
        if batch and events + head[1] > most:
            yield batch
            batch, events = [], 0
        batch.append(head)
        events += head[1]
    if batch:
        yield batch


# How many times a chain written to while it is read is read again before only the part
# written before its head was read is checked.
_STABLE_READS = 5


async def chains_as_written(
    heads: list[tuple[uuid.UUID, int]],
) -> list[tuple[uuid.UUID, list[dict[str, Any]], int]]:
    """The events and head of each record of `heads` (its id and its head as read before),
    read so that they agree, as `chain_as_written` reads one, leaving out a record gone
    since. The events of all of them are read in one statement; then the heads of those
    whose events do not end at their head, in one more; a chain found written to meanwhile
    is read again on its own."""
    ids = [record_id for record_id, _ in heads]
    rows_of: dict[uuid.UUID, list[dict[str, Any]]] = {record_id: [] for record_id in ids}
    events = AccessEvent.filter(record_id__in=ids).order_by("record_id", "seq")
    chain: list[dict[str, Any]] = []
    current: Any = None
    for row in await events.values("record_id", *EVENT_COLUMNS):
        raw = row.pop("record_id")
        if raw != current:  # the rows come record by record: the id is read once per chain
            current, chain = raw, rows_of[uuid.UUID(str(raw))]
        chain.append(row)
    unsettled = {
        record_id for record_id, seq in heads
        if not (rows_of[record_id] and rows_of[record_id][-1]["seq"] == seq)
    }
    now: dict[uuid.UUID, int] = {}
    if unsettled:
        found = await Record.filter(id__in=list(unsettled)).values_list("id", "event_seq")
        now = {uuid.UUID(str(record_id)): int(seq) for record_id, seq in found}
    chains: list[tuple[uuid.UUID, list[dict[str, Any]], int]] = []
    for record_id, before in heads:
        rows = rows_of[record_id]
        if record_id in unsettled:
            if record_id not in now:
                continue  # purged since the heads were read: its seal is checked against an anchor
            if now[record_id] != before:
                # Written to meanwhile: read again on its own, the batch's reading its first.
                again = await chain_as_written(record_id, now[record_id], _STABLE_READS - 1)
                if again is not None:
                    chains.append((record_id, *again))
                continue
        chains.append((record_id, rows, before))
    return chains


async def chain_as_written(
    record_id: uuid.UUID, head_seq: int, reads: int = _STABLE_READS
) -> tuple[list[dict[str, Any]], int] | None:
    """A record's events and its head, read so that they agree, or None if the record is
    gone. The service goes on writing while `dmp audit verify` runs: a head read before the
    events may be behind them ("an event beyond the head") and one read after may be ahead
    ("a missing event"), though nothing is wrong. An event and the head's move commit
    together, in order: where the head is the same before and after the events are read, no
    event committed in between, and the two agree. A chain written to on every one of its
    `reads` is checked up to the head read before its events (what was written before it)."""
    rows: list[dict[str, Any]] = []
    before = after = head_seq  # the head as read before the events, and after them
    for _ in range(reads):
        before = after
        rows = await AccessEvent.filter(record_id=record_id).order_by("seq").values(*EVENT_COLUMNS)
        if rows and rows[-1]["seq"] == before:
            return rows, before  # the events end at the head: nothing was written between
        now: list[Any] = await Record.filter(id=record_id).values_list("event_seq", flat=True)
        if not now:
            return None
        after = int(now[0])
        if after == before:
            return rows, before  # the head did not move: what differs was not written now
    # Written to on every read: the events committed before the last reading of the head
    # preceded the last reading of the events.
    return [row for row in rows if row["seq"] <= before], before


def digest_of(heads: list[dict[str, Any]]) -> str:
    ordered = sorted(heads, key=lambda h: str(h["record"]))
    lines = "\n".join(f"{h['record']}:{h['seq']}:{h['mac']}" for h in ordered)
    return hashlib.sha256(lines.encode()).hexdigest()


async def head_mac(record_id: uuid.UUID, seq: int, conn: Any = None) -> str:
    """The MAC of a chain's event at `seq` (its head); "" when there is none."""
    macs = await AccessEvent.filter(record_id=record_id, seq=seq).using_db(conn).values_list("mac", flat=True)
    return str(macs[0]) if macs else ""


async def macs_at(heads: list[tuple[uuid.UUID, int]]) -> dict[tuple[uuid.UUID, int], str]:
    """The MAC of the event at each (record id, seq) of `heads` that has one, in one statement."""
    if not heads:
        return {}
    where = " OR ".join(f'("record_id" = ${2 * n + 1} AND "seq" = ${2 * n + 2})' for n in range(len(heads)))
    statement = f'SELECT "record_id", "seq", "mac" FROM "access_event" WHERE {where}'  # noqa: S608 - placeholders only
    rows = await sql.fetch(statement, [value for head in heads for value in head])
    return {(uuid.UUID(str(row[0])), int(row[1])): str(row[2]) for row in rows}


# The heads of the records with events and the MAC of the event at each, a page in the order
# of their ids: one statement, so that a purge committed while the anchor is taken leaves a
# record out whole rather than its head without its MAC.
_HEADS_WITH_MACS = (
    'SELECT r."id", r."event_seq", e."mac" FROM "record" r LEFT JOIN "access_event" e'
    ' ON e."record_id" = r."id" AND e."seq" = r."event_seq" WHERE r."event_seq" > 0{after}'
    ' ORDER BY r."id" LIMIT $1'
)


async def anchor(*, batch_records: int = BATCH_RECORDS) -> dict[str, Any]:
    """The head of every chain (record id, last seq, last MAC) and one digest over them."""
    heads: list[dict[str, Any]] = []
    after: Any = None
    while True:
        if after is None:
            page = await sql.fetch(_HEADS_WITH_MACS.format(after=""), [batch_records])
        else:
            page = await sql.fetch(_HEADS_WITH_MACS.format(after=' AND r."id" > $2'), [batch_records, after])
        heads += [
            {"record": str(uuid.UUID(str(row[0]))), "seq": int(row[1]), "mac": str(row[2] or "")}
            for row in page
        ]
        if len(page) < batch_records:
            break
        after = page[-1][0]
    return {
        "at": clock.now().astimezone(UTC).isoformat(timespec="seconds"),
        "records": len(heads),
        "digest": digest_of(heads),
        "heads": heads,
    }


def write_anchor(path: str, data: dict[str, Any]) -> None:
    """Write an anchor file whole or not at all: into a new file beside it, flushed to disk,
    then renamed over `path`. Written in place, a failure midway (a full disk, the command
    killed) left a cut file where the last good anchor was, often the one kept as "latest"."""
    directory = os.path.dirname(os.path.abspath(path))
    handle = tempfile.NamedTemporaryFile(  # closed below, then renamed or removed
        "w", encoding="utf-8", dir=directory, prefix=".anchor-", suffix=".tmp", delete=False
    )
    try:
        with handle:
            json.dump(data, handle, indent=1)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        os.unlink(handle.name)
        raise
    folder = os.open(directory, os.O_RDONLY)  # the rename itself durable, as the file is
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


class BadAnchor(ValueError):
    """The anchor file is not one `dmp audit anchor --out` wrote, or was edited."""


def load_anchor(text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
        heads = [
            {"record": str(uuid.UUID(h["record"])), "seq": int(h["seq"]), "mac": str(h["mac"])}
            for h in data["heads"]
        ]
        stated = str(data["digest"])
    except (ValueError, KeyError, TypeError):
        raise BadAnchor("not an anchor file written by `dmp audit anchor --out`") from None
    if not hmac.compare_digest(digest_of(heads), stated):
        raise BadAnchor("the anchor file's digest does not match its heads")
    return heads


def seal_of(key: bytes, purged: PurgedRecord) -> str:
    """The seal a purged record's row should carry under `key`."""
    return purge_seal(key, str(purged.record_id), purged.purged_at, purged.last_seq, purged.last_mac)


def seal_key_of(keys: list[bytes], purged: PurgedRecord) -> bytes | None:
    """Which of `keys` a purged record's seal is under, if any."""
    for key in keys:
        if hmac.compare_digest(seal_of(key, purged), purged.mac):
            return key
    return None


def _purged_since(
    keys: list[bytes], record_id: uuid.UUID, head: dict[str, Any], purged: PurgedRecord | None
) -> Problem | None:
    """None if a record missing since the anchor was purged by `dmp purge` after its anchored
    head (`purged`, its row in PurgedRecord, if any); otherwise what is wrong."""
    if purged is None:
        return Problem(
            record_id, head["seq"], "the record and its history are gone, and no purge is recorded"
        )
    if seal_key_of(keys, purged) is None:
        return Problem(record_id, head["seq"], "the record's purge seal does not verify")
    if purged.last_seq < head["seq"] or (
        purged.last_seq == head["seq"] and not hmac.compare_digest(purged.last_mac, head["mac"])
    ):
        return Problem(record_id, head["seq"], "the purged chain did not reach the anchored head")
    return None


async def _purged_meanwhile(ids: list[uuid.UUID]) -> dict[uuid.UUID, PurgedRecord | None]:
    """Of records found, whose event at the anchored head was then not: those gone since (a
    purge committed between the two reads), with their purge's row if there is one."""
    if not ids:
        return {}
    found = await Record.filter(id__in=ids).values_list("id", flat=True)
    still = {uuid.UUID(str(record_id)) for record_id in found}
    gone = [record_id for record_id in ids if record_id not in still]
    if not gone:
        return {}
    seals = {
        uuid.UUID(str(purged.record_id)): purged for purged in await PurgedRecord.filter(record_id__in=gone)
    }
    return {record_id: seals.get(record_id) for record_id in gone}


async def check_anchor(
    key: bytes,
    heads: list[dict[str, Any]],
    record_ids: list[uuid.UUID] | None = None,
    previous_key: bytes | None = None,
    *,
    batch_records: int = BATCH_RECORDS,
) -> Report:
    """Every anchored chain must still reach its anchored head, with the same MAC there, or
    have been purged after it (a PurgedRecord sealed with the audit key, or the previous one
    while a rotation is under way). The heads are checked `batch_records` at a time, each
    batch in three statements, and two more for the records whose event at the anchored head
    was not found: purged between the statements, they are checked as any purged record."""
    keys = [key] if previous_key is None else [key, previous_key]
    report = Report()
    wanted = {str(r) for r in record_ids} if record_ids is not None else None
    chosen = [head for head in heads if wanted is None or head["record"] in wanted]
    for start in range(0, len(chosen), batch_records):
        batch = [(uuid.UUID(head["record"]), head) for head in chosen[start:start + batch_records]]
        ids = [record_id for record_id, _ in batch]
        found = await Record.filter(id__in=ids).values_list("id", flat=True)
        present = {uuid.UUID(str(record_id)) for record_id in found}
        gone = [record_id for record_id in ids if record_id not in present]
        seals = {
            uuid.UUID(str(purged.record_id)): purged
            for purged in (await PurgedRecord.filter(record_id__in=gone) if gone else [])
        }
        macs = await macs_at([(record_id, head["seq"]) for record_id, head in batch if record_id in present])
        purged_meanwhile = await _purged_meanwhile([
            record_id for record_id, head in batch
            if record_id in present and (record_id, head["seq"]) not in macs
        ])
        for record_id, head in batch:
            report.records += 1
            if record_id not in present:
                problem = _purged_since(keys, record_id, head, seals.get(record_id))
                if problem is None:
                    report.purged += 1
                else:
                    report.problems.append(problem)
                continue
            mac_there = macs.get((record_id, head["seq"]))
            if mac_there is None and record_id in purged_meanwhile:
                problem = _purged_since(keys, record_id, head, purged_meanwhile[record_id])
                if problem is None:
                    report.purged += 1
                else:
                    report.problems.append(problem)
            elif mac_there is None:
                # The number alone: the rest of the event may hold a value no writer stores.
                seqs: list[Any] = await AccessEvent.filter(record_id=record_id).values_list("seq", flat=True)
                ends = max((seq for seq in seqs if type(seq) is int), default=0)
                report.problems.append(Problem(
                    record_id, head["seq"], f"missing event: the chain ends at seq {ends}, "
                    f"shorter than the anchor"))
            elif not hmac.compare_digest(mac_there, head["mac"]):
                report.problems.append(Problem(record_id, head["seq"], "diverges from the anchor"))
    return report
