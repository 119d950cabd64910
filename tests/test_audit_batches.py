"""`dmp audit verify` and `anchor` read the chains a batch of records at a time (one statement
for a batch's events), and report what they reported reading them one by one."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from tortoise import Tortoise

from backend import config
from backend.audit import verify as verifying
from backend.models import AccessEvent, PurgedRecord, Record
from backend.purge import purge_record
from tests.conftest import TEST_DIR, db_kind
from tests.history_helpers import READ, setup
from tests.server import run_dmp
from tests.test_authz_reading import count_queries


async def sql(script: str) -> None:
    await Tortoise.get_connection("default").execute_script(script)


async def chains(client: httpx.AsyncClient, n: int) -> list[Record]:
    """`n` records with chains of 2 to 4 events, in the order of their ids (the order of the
    batches)."""
    records = []
    for i in range(n):
        s = await setup(client)
        for _ in range(2 + i % 3):  # two events at least, whatever the order of the ids
            (await s["as_pro"].gql(READ, {"ins": s["record"].ins})).ok()
        records.append(await Record.get(id=s["record"].id))  # its head as it now is
    return sorted(records, key=lambda record: str(record.id))


def failed_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("FAILED ")]


async def test_verify_in_batches_finds_a_tampered_event_in_a_later_batch(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = await chains(client, 5)
    key = config.settings().audit_key
    done = run_dmp("audit", "verify")
    assert done.returncode == 0, done.stderr
    intact = await verifying.verify(key, batch_records=2)
    assert intact.ok and intact.records == 5
    assert f"access history intact: 5 record(s), {intact.events} event(s)\n" == done.stdout

    last = records[-1]  # alone in the third batch of two records
    second = (await AccessEvent.filter(record_id=last.id).order_by("seq"))[1]
    await sql(f"UPDATE access_event SET reason = 'effacé' WHERE id = {second.id}")
    done = run_dmp("audit", "verify")
    assert done.returncode == 1
    assert failed_lines(done.stdout) == [
        f"FAILED record {last.id} seq 2: altered event (its MAC does not match)"
    ]

    batches: list[list[Any]] = []
    read_batch = verifying.chains_as_written

    async def reading(heads: list[tuple[Any, int]]) -> Any:
        batches.append([record_id for record_id, _ in heads])
        return await read_batch(heads)

    monkeypatch.setattr(verifying, "chains_as_written", reading)
    with count_queries() as statements:
        report = await verifying.verify(key, batch_records=2)
    assert batches == [[r.id for r in records[0:2]], [r.id for r in records[2:4]], [last.id]]
    # One statement reads the events of a batch, however many records it holds.
    assert len([s for s in statements if "access_event" in s]) == 3, statements
    assert [f"FAILED {problem}" for problem in report.problems] == failed_lines(done.stdout)
    assert (report.records, report.events) == (intact.records, intact.events)

    # Cut by events too: at most one event a batch puts each record in its own.
    batches.clear()
    report = await verifying.verify(key, batch_events=1)
    assert batches == [[r.id] for r in records]
    assert [f"FAILED {problem}" for problem in report.problems] == failed_lines(done.stdout)


async def test_anchor_and_its_check_in_batches(client: httpx.AsyncClient) -> None:
    records = await chains(client, 6)
    key = config.settings().audit_key
    anchor = TEST_DIR / f"anchor-batches-{db_kind()}-{records[0].id}.json"
    done = run_dmp("audit", "anchor", "--out", str(anchor))
    assert done.returncode == 0, done.stderr
    saved = json.loads(anchor.read_text())
    batched = await verifying.anchor(batch_records=2)
    assert batched["heads"] == saved["heads"] and batched["records"] == 6
    assert f"records=6 sha256={batched['digest']}\n" in done.stdout

    # In the second batch of two: a record purged with its seal, one gone without.
    await purge_record(records[2])
    await purge_record(records[3])
    await PurgedRecord.filter(record_id=records[3].id).delete()
    # In the third: a head's MAC replaced, and a tail cut with the head moved back to it.
    head = await AccessEvent.get(record_id=records[4].id, seq=records[4].event_seq)
    await sql(f"UPDATE access_event SET mac = '{'0' * 64}' WHERE id = {head.id}")
    cut = records[5]
    await sql(f"DELETE FROM access_event WHERE record_id = '{cut.id}' AND seq = {cut.event_seq}")
    await sql(f"UPDATE record SET event_seq = {cut.event_seq - 1} WHERE id = '{cut.id}'")

    done = run_dmp("audit", "verify", "--anchor", str(anchor))
    assert done.returncode == 1
    expected = failed_lines(done.stdout)
    assert len(expected) == 4, done.stdout
    chains_found = await verifying.verify(key, batch_records=2)
    against = await verifying.check_anchor(key, verifying.load_anchor(anchor.read_text()), batch_records=2)
    assert [f"FAILED {p}" for p in chains_found.problems + against.problems] == expected
    assert (against.records, against.purged) == (6, 1)
    assert [str(p) for p in against.problems] == [
        f"record {records[3].id} seq {records[3].event_seq}: the record and its history are gone, "
        "and no purge is recorded",
        f"record {records[4].id} seq {records[4].event_seq}: diverges from the anchor",
        f"record {cut.id} seq {cut.event_seq}: missing event: the chain ends at seq "
        f"{cut.event_seq - 1}, shorter than the anchor",
    ]
