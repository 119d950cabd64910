"""The chain: concurrent writers never fork it; `dmp audit verify` and `anchor` catch tampering."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise import Tortoise

from backend import clock, config
from backend.domain.enums import RecordStatus
from backend.models import AccessEvent, PurgedRecord, Record
from backend.purge import purge_record
from tests.conftest import TEST_DIR, Caller, db_kind
from tests.history_helpers import READ, setup
from tests.lifecycle_rows import set_state
from tests.server import dmp_server, run_dmp


async def sql(script: str) -> None:
    await Tortoise.get_connection("default").execute_script(script)


async def reads(caller: Caller, ins: str, n: int) -> None:
    results = await asyncio.gather(*(caller.gql(READ, {"ins": ins}) for _ in range(n)))
    for result in results:
        result.ok()


async def seqs(record: Record) -> list[int]:
    return list(await AccessEvent.filter(record_id=record.id).order_by("seq").values_list("seq", flat=True))


async def test_fifty_concurrent_reads_leave_a_valid_chain(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    await reads(s["as_pro"], s["record"].ins, 3)
    await reads(s["as_pro"], s["record"].ins, 50)
    assert await seqs(s["record"]) == list(range(1, 54))
    assert (await Record.get(id=s["record"].id)).event_seq == 53
    done = run_dmp("audit", "verify")
    assert done.returncode == 0, done.stderr
    assert "1 record(s), 53 event(s)" in done.stdout


async def test_fifty_concurrent_reads_against_two_server_processes(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    await reads(s["as_pro"], s["record"].ins, 1)
    with dmp_server("--workers", "2") as origin:
        cookie = {config.settings().session_cookie: s["as_pro"].session}
        async with httpx.AsyncClient(base_url=origin, cookies=cookie, timeout=60) as http:
            async def one() -> httpx.Response:
                return await http.post("/graphql", headers={"origin": origin},
                                       json={"query": READ, "variables": {"ins": s["record"].ins}})

            responses = await asyncio.gather(*(one() for _ in range(50)))
    for response in responses:
        body = response.json()
        assert response.status_code == 200 and not body.get("errors"), body
    assert await seqs(s["record"]) == list(range(1, 52))
    done = run_dmp("audit", "verify", "--ins", s["record"].ins)
    assert done.returncode == 0, done.stderr
    assert "51 event(s)" in done.stdout


async def chain_of_five(client: httpx.AsyncClient) -> tuple[Record, list[AccessEvent]]:
    s = await setup(client)
    for _ in range(5):
        (await s["as_pro"].gql(READ, {"ins": s["record"].ins})).ok()
    # A second record with its own chain, which stays intact throughout.
    other = await setup(client)
    (await other["as_pro"].gql(READ, {"ins": other["record"].ins})).ok()
    assert run_dmp("audit", "verify").returncode == 0
    return s["record"], list(await AccessEvent.filter(record_id=s["record"].id).order_by("seq"))


def failed(expected: str) -> str:
    done = run_dmp("audit", "verify")
    assert done.returncode == 1, done.stdout
    assert expected in done.stdout, done.stdout
    assert "verification failed" in done.stderr
    return done.stdout


async def test_altered_event_in_the_middle(client: httpx.AsyncClient) -> None:
    record, rows = await chain_of_five(client)
    await sql(f"UPDATE access_event SET actor_name = 'Quelqu''un d''autre' WHERE id = {rows[2].id}")
    out = failed(f"record {record.id} seq 3: altered event")
    assert out.count("FAILED") == 1  # the other record is fine
    assert record.ins not in out


async def test_altered_sections_at_the_tail(client: httpx.AsyncClient) -> None:
    record, rows = await chain_of_five(client)
    await sql(f"UPDATE access_event SET sections = '[\"MEDICATIONS\"]' WHERE id = {rows[4].id}")
    failed(f"record {record.id} seq 5: altered event")


async def test_inserted_event_in_the_middle(client: httpx.AsyncClient) -> None:
    record, rows = await chain_of_five(client)
    rid = record.id
    await sql(f"UPDATE access_event SET seq = seq + 1000 WHERE record_id = '{rid}' AND seq >= 3")
    await sql(f"UPDATE access_event SET seq = seq - 999 WHERE record_id = '{rid}' AND seq > 1000")
    await sql(
        "INSERT INTO access_event (record_id, seq, at, actor_id, actor_name, actor_profession, "
        "actor_role, action, mode, sections, entry_id, reason, mac) SELECT record_id, 3, at, "
        "actor_id, actor_name, actor_profession, actor_role, action, mode, sections, entry_id, "
        f"'inséré', mac FROM access_event WHERE id = {rows[1].id}"
    )
    await sql(f"UPDATE record SET event_seq = 6 WHERE id = '{rid}'")
    failed(f"record {rid} seq 3: inserted event")


async def test_inserted_event_at_the_tail(client: httpx.AsyncClient) -> None:
    record, rows = await chain_of_five(client)
    await sql(
        "INSERT INTO access_event (record_id, seq, at, actor_id, actor_name, actor_profession, "
        "actor_role, action, mode, sections, entry_id, reason, mac) SELECT record_id, 6, at, "
        "actor_id, actor_name, actor_profession, actor_role, action, mode, sections, entry_id, "
        f"reason, mac FROM access_event WHERE id = {rows[4].id}"
    )
    failed(f"record {record.id} seq 6: inserted event")


async def test_deleted_event_in_the_middle(client: httpx.AsyncClient) -> None:
    record, rows = await chain_of_five(client)
    await sql(f"DELETE FROM access_event WHERE id = {rows[1].id}")
    failed(f"record {record.id} seq 2: missing event")


async def test_deleted_and_renumbered_in_the_middle(client: httpx.AsyncClient) -> None:
    record, rows = await chain_of_five(client)
    rid = record.id
    await sql(f"DELETE FROM access_event WHERE id = {rows[1].id}")
    await sql(f"UPDATE access_event SET seq = seq + 1000 WHERE record_id = '{rid}' AND seq > 2")
    await sql(f"UPDATE access_event SET seq = seq - 1001 WHERE record_id = '{rid}' AND seq > 1000")
    await sql(f"UPDATE record SET event_seq = 4 WHERE id = '{rid}'")
    failed(f"record {rid} seq 2: altered event")


async def test_deleted_tail_is_caught_by_the_head(client: httpx.AsyncClient) -> None:
    record, rows = await chain_of_five(client)
    await sql(f"DELETE FROM access_event WHERE id = {rows[4].id}")
    failed(f"record {record.id} seq 5: missing event")


async def _cut_tail(record: Record, rows: list[AccessEvent]) -> None:
    """A careful truncation of a chain of five: last two events gone, the head moved back."""
    await sql(f"DELETE FROM access_event WHERE id IN ({rows[3].id}, {rows[4].id})")
    await sql(f"UPDATE record SET event_seq = 3 WHERE id = '{record.id}'")


async def _anchored(client: httpx.AsyncClient, label: str) -> tuple[Record, list[AccessEvent], Path]:
    """A record with a chain of five, and an anchor file taken of it."""
    record, rows = await chain_of_five(client)
    anchor = TEST_DIR / f"anchor-{label}-{db_kind()}-{record.id}.json"
    assert run_dmp("audit", "anchor", "--out", str(anchor)).returncode == 0
    return record, rows, anchor


async def test_truncated_tail_is_caught_by_the_anchor(client: httpx.AsyncClient) -> None:
    record, rows = await chain_of_five(client)
    anchor = TEST_DIR / f"anchor-{db_kind()}-{record.id}.json"
    done = run_dmp("audit", "anchor", "--out", str(anchor))
    assert done.returncode == 0, done.stderr
    saved = json.loads(anchor.read_text())
    assert done.stdout.startswith("anchor ") and saved["digest"] in done.stdout
    assert {"record": str(record.id), "seq": 5, "mac": rows[4].mac} in saved["heads"]
    assert run_dmp("audit", "verify", "--anchor", str(anchor)).returncode == 0

    await _cut_tail(record, rows)
    assert run_dmp("audit", "verify").returncode == 0  # the chain alone cannot tell
    done = run_dmp("audit", "verify", "--anchor", str(anchor))
    assert done.returncode == 1
    assert f"record {record.id} seq 5: missing event: the chain ends at seq 3" in done.stdout


async def test_diverging_chain_is_caught_by_the_anchor(client: httpx.AsyncClient) -> None:
    record, rows, anchor = await _anchored(client, "div")
    await sql(f"UPDATE access_event SET mac = '{'0' * 64}' WHERE id = {rows[4].id}")
    done = run_dmp("audit", "verify", "--anchor", str(anchor))
    assert done.returncode == 1
    assert f"record {record.id} seq 5: diverges from the anchor" in done.stdout


async def test_a_record_purged_since_the_anchor_passes_with_its_seal(client: httpx.AsyncClient) -> None:
    record, _, anchor = await _anchored(client, "purged")
    await set_state(record.id, RecordStatus.DELETED, clock.now() - timedelta(days=31))
    assert run_dmp("purge").returncode == 0
    assert not await Record.filter(id=record.id).exists()
    seal = await PurgedRecord.get(record_id=record.id)
    assert seal.last_seq == 6  # five reads, then the deletion request
    done = run_dmp("audit", "verify", "--anchor", str(anchor))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 purged since with a valid seal" in done.stdout


async def test_a_record_gone_without_its_seal_is_caught_by_the_anchor(client: httpx.AsyncClient) -> None:
    record, _, anchor = await _anchored(client, "unsealed")
    await purge_record(record)
    await PurgedRecord.filter(record_id=record.id).delete()  # rows deleted some other way
    done = run_dmp("audit", "verify", "--anchor", str(anchor))
    assert done.returncode == 1
    assert (
        f"record {record.id} seq 5: the record and its history are gone, and no purge is recorded"
        in done.stdout
    )


async def test_a_forged_or_short_purge_seal_is_caught_by_the_anchor(client: httpx.AsyncClient) -> None:
    # A seal edited after the purge does not verify.
    record, _, anchor = await _anchored(client, "forged")
    await purge_record(record)
    await PurgedRecord.filter(record_id=record.id).update(last_seq=9)
    done = run_dmp("audit", "verify", "--anchor", str(anchor))
    assert done.returncode == 1
    assert f"record {record.id} seq 5: the record's purge seal does not verify" in done.stdout
    await PurgedRecord.filter(record_id=record.id).delete()  # `verify` alone would name it too

    # A tail cut before a genuine purge: the seal is valid, but the chain it closes is short.
    record, rows, anchor = await _anchored(client, "short")
    await _cut_tail(record, rows)
    await purge_record(await Record.get(id=record.id))
    done = run_dmp("audit", "verify", "--anchor", str(anchor))
    assert done.returncode == 1
    assert f"record {record.id} seq 5: the purged chain did not reach the anchored head" in done.stdout


async def test_verify_without_an_anchor_checks_every_purge_seal(client: httpx.AsyncClient) -> None:
    record, _ = await chain_of_five(client)
    await purge_record(record)
    done = run_dmp("audit", "verify")
    assert done.returncode == 0, done.stdout + done.stderr
    assert ", 1 purge seal(s)" in done.stdout

    # A seal altered after the purge, or written without the key, is caught with no anchor.
    await PurgedRecord.filter(record_id=record.id).update(last_seq=9)
    done = run_dmp("audit", "verify")
    assert done.returncode == 1
    assert f"record {record.id} seq 9: the record's purge seal does not verify" in done.stdout


async def test_an_edited_anchor_file_is_refused(client: httpx.AsyncClient) -> None:
    _, _, anchor = await _anchored(client, "edit")
    data = json.loads(anchor.read_text())
    data["heads"][0]["seq"] += 7
    Path(anchor).write_text(json.dumps(data))
    done = run_dmp("audit", "verify", "--anchor", str(anchor))
    assert done.returncode == 1 and "digest does not match" in done.stderr


async def test_verify_one_record_by_ins_and_unknown_ins(client: httpx.AsyncClient) -> None:
    record, rows = await chain_of_five(client)
    await sql(f"UPDATE access_event SET reason = 'x' WHERE id = {rows[0].id}")
    done = run_dmp("audit", "verify", "--ins", record.ins)
    assert done.returncode == 1 and f"record {record.id} seq 1: altered event" in done.stdout
    from tests import factories

    done = run_dmp("audit", "verify", "--ins", factories.new_ins())
    assert done.returncode == 1 and "no record with this INS" in done.stderr
    done = run_dmp("audit", "verify", "--ins", "123")
    assert done.returncode == 1 and done.stderr.startswith("dmp: ")


async def test_verify_counts_broken_chains_and_names_a_bad_anchor_file(client: httpx.AsyncClient) -> None:
    record, rows, anchor = await _anchored(client, "count")
    # The head's event gone: the chain and the anchor each tell it, about the same chain.
    await sql(f"DELETE FROM access_event WHERE id = {rows[4].id}")
    done = run_dmp("audit", "verify", "--anchor", str(anchor))
    assert done.returncode == 1 and done.stdout.count(f"record {record.id} seq 5") == 2, done.stdout
    assert done.stderr.strip().endswith("1 chain(s) broken (2 problem(s))"), done.stderr
    # An anchor file that is not one, or not there: one line naming it, no traceback.
    binary = TEST_DIR / "anchor-binary.json"
    binary.write_bytes(b"\xff\xfe\x00")
    for path in (binary, TEST_DIR / "no-such-anchor.json"):
        done = run_dmp("audit", "verify", "--anchor", str(path))
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        assert done.stderr.startswith(f"dmp: {path}: ") and len(done.stderr.splitlines()) == 1, done.stderr


def test_serve_refuses_a_port_out_of_range() -> None:
    for flag, value in (("--port", "99999"), ("--port", "0"), ("--workers", "0")):
        done = run_dmp("serve", flag, value)
        assert done.returncode == 2 and "is not between" in done.stderr, (flag, value, done.stderr)


async def test_events_written_while_verify_reads_are_not_reported(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`dmp audit verify` runs beside the service: events written after it read the heads,
    or between its reading of a chain's events and of its head, are no tampering. Writing
    them at those moments (the reading wrapped) leaves the report intact; a chain whose
    head was read before the events it then finds would have been reported broken."""
    from backend.audit import verify as verifying

    record, _ = await chain_of_five(client)
    s = await setup(client)
    caller, ins = s["as_pro"], s["record"].ins
    await reads(caller, ins, 2)
    stale = (await Record.get(id=s["record"].id)).event_seq
    await reads(caller, ins, 3)  # written after the head was read
    rows = await AccessEvent.filter(record_id=s["record"].id).order_by("seq").values(*verifying.EVENT_COLUMNS)
    key = config.settings().audit_key
    assert verifying.check_chain(key, s["record"].id, stale, rows).problem is not None

    read_events = AccessEvent.filter
    writes = 0

    class WrittenFirst:
        """A chain's events, read once a read of the busy record has written its event."""

        def __init__(self, query: Any) -> None:
            self.query = query

        def order_by(self, *fields: str) -> WrittenFirst:
            self.query = self.query.order_by(*fields)
            return self

        async def values(self, *fields: str) -> Any:
            nonlocal writes
            writes += 1
            await reads(caller, ins, 1)
            return await self.query.values(*fields)

    def reading(*args: Any, **kwargs: Any) -> Any:
        query = read_events(*args, **kwargs)
        # The events of one record, or of a batch of records read together.
        read = kwargs.get("record_id__in", [kwargs.get("record_id")])
        return WrittenFirst(query) if s["record"].id in read and writes < 3 else query

    monkeypatch.setattr(verifying.AccessEvent, "filter", reading)
    report = await verifying.verify(key)
    assert writes > 0 and report.problems == [], report.problems
    report = await verifying.verify(key)  # once written, the same chains as they stand
    assert report.problems == [] and report.records == 3
