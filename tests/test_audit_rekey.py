"""Rotating the audit key: `dmp audit rekey` seals every chain anew under the new key, and
`dmp audit verify` accepts a chain begun under the previous key and continued under the new
one, never the other way round."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tortoise import Tortoise

from backend import config
from backend.models import AccessEvent, PurgedRecord, Record
from backend.purge import purge_record
from tests.history_helpers import READ, setup
from tests.server import run_dmp


@pytest.fixture
def keys() -> Iterator[tuple[bytes, bytes]]:
    """The audit key the tests run with (the one being replaced) and a new one."""
    saved = config.settings()
    yield saved.audit_key, secrets.token_bytes(32)
    config.reset(saved)


def _write_with(key: bytes) -> None:
    """This process's server writes its events under `key` from now on."""
    config.reset(dataclasses.replace(config.settings(), audit_key=key))


async def _rows(record: Record) -> list[dict[str, Any]]:
    return list(await AccessEvent.filter(record_id=record.id).order_by("seq").values())


def _without_macs(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "mac"} for row in rows]


def _verify(new: bytes, previous: bytes | None = None) -> Any:
    extra = {"DMP_PREVIOUS_AUDIT_KEY": previous.hex()} if previous else {}
    return run_dmp("audit", "verify", DMP_AUDIT_KEY=new.hex(), **extra)


def _rekey(new: bytes, previous: bytes) -> Any:
    return run_dmp("audit", "rekey", DMP_AUDIT_KEY=new.hex(), DMP_PREVIOUS_AUDIT_KEY=previous.hex())


async def _read(s: dict[str, Any], times: int) -> None:
    for _ in range(times):
        (await s["as_pro"].gql(READ, {"ins": s["record"].ins})).ok()


async def _chain(client: httpx.AsyncClient, *stretches: tuple[bytes, int]) -> dict[str, Any]:
    """A record whose chain has, in order, each stretch's number of events under its key."""
    s = await setup(client)
    for key, events in stretches:
        _write_with(key)
        await _read(s, events)
    return s


async def test_rekey_seals_every_chain_and_purge_seal_under_the_new_key(
    client: httpx.AsyncClient, keys: tuple[bytes, bytes]
) -> None:
    old, new = keys
    a, b, gone = await setup(client), await setup(client), await setup(client)
    await _read(a, 3)
    await _read(b, 2)
    await _read(gone, 1)
    await purge_record(gone["record"])
    before = {s["record"].id: await _rows(s["record"]) for s in (a, b)}
    seal_before = (await PurgedRecord.get(record_id=gone["record"].id)).mac

    done = _rekey(new, old)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "sealed 2 chain(s) anew under DMP_AUDIT_KEY (5 event(s)); 0 already under it; " \
           "1 purge seal(s) sealed anew; 0 left as they were" in done.stdout

    for s in (a, b):
        after = await _rows(s["record"])
        assert _without_macs(after) == _without_macs(before[s["record"].id])  # the history itself
        assert all(x["mac"] != y["mac"] for x, y in zip(after, before[s["record"].id], strict=True))
    assert (await PurgedRecord.get(record_id=gone["record"].id)).mac != seal_before
    intact = _verify(new)
    assert intact.returncode == 0, intact.stdout
    assert "2 record(s), 5 event(s), 1 purge seal(s)" in intact.stdout and "PREVIOUS" not in intact.stdout
    # Under the old key alone, nothing verifies any more: neither the chains nor the seal.
    stale = _verify(old)
    assert stale.returncode == 1 and stale.stdout.count("FAILED") == 3
    assert f"record {gone['record'].id} seq " in stale.stdout

    # Run again (after an interruption, say): nothing left to do, nothing changed.
    sealed = {s["record"].id: await _rows(s["record"]) for s in (a, b)}
    again = _rekey(new, old)
    assert again.returncode == 0, again.stdout
    assert "sealed 0 chain(s) anew under DMP_AUDIT_KEY (0 event(s)); 2 already under it; " \
           "0 purge seal(s) sealed anew" in again.stdout
    assert {s["record"].id: await _rows(s["record"]) for s in (a, b)} == sealed


async def test_a_chain_continued_under_the_new_key_verifies_and_is_rekeyed(
    client: httpx.AsyncClient, keys: tuple[bytes, bytes]
) -> None:
    old, new = keys
    # The service restarted with the new key before the rekey.
    await _chain(client, (old, 2), (new, 2))

    assert _verify(new).returncode == 1  # the first two events are under the old key
    mixed = _verify(new, old)
    assert mixed.returncode == 0, mixed.stdout
    assert "2 event(s) still under DMP_PREVIOUS_AUDIT_KEY: run `dmp audit rekey`" in mixed.stdout

    done = _rekey(new, old)
    assert done.returncode == 0, done.stdout
    assert "sealed 1 chain(s) anew under DMP_AUDIT_KEY (4 event(s))" in done.stdout
    assert _verify(new).returncode == 0


async def test_an_event_under_the_previous_key_after_one_under_the_new_key_is_refused(
    client: httpx.AsyncClient, keys: tuple[bytes, bytes]
) -> None:
    old, new = keys
    # Whoever still holds the old key writes after the rotation.
    s = await _chain(client, (old, 1), (new, 1), (old, 1))
    rows = await _rows(s["record"])

    done = _verify(new, old)
    assert done.returncode == 1
    assert f"record {s['record'].id} seq 3: altered event" in done.stdout
    refused = _rekey(new, old)
    assert refused.returncode == 1
    assert f"FAILED record {s['record'].id} seq 3: altered event" in refused.stdout
    assert await _rows(s["record"]) == rows  # left as it was


async def test_a_broken_chain_is_reported_and_left_as_it_was(
    client: httpx.AsyncClient, keys: tuple[bytes, bytes]
) -> None:
    old, new = keys
    broken, fine = await setup(client), await setup(client)
    await _read(broken, 3)
    await _read(fine, 1)
    rows = await _rows(broken["record"])
    await Tortoise.get_connection("default").execute_script(
        f"UPDATE access_event SET reason = 'autre' WHERE id = {rows[1]['id']}"
    )
    altered = await _rows(broken["record"])

    done = _rekey(new, old)
    assert done.returncode == 1
    assert f"FAILED record {broken['record'].id} seq 2: altered event" in done.stdout
    assert "sealed 1 chain(s) anew" in done.stdout and "1 left as they were" in done.stdout
    assert "do not verify: not rekeyed" in done.stderr
    assert await _rows(broken["record"]) == altered  # never sealed anew under the new key
    # The intact chain was moved: the broken one is still the only failure, under either key.
    after = _verify(new, old)
    assert after.returncode == 1 and after.stdout.count("FAILED") == 1


async def test_a_rekey_while_the_service_writes_is_never_chained_past(
    client: httpx.AsyncClient, keys: tuple[bytes, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service keeps running during a rekey, restarted with the new key. On PostgreSQL a
    consultation reads its record's head, then writes; here the rekey seals the chain anew
    in between. The write must not chain its event to the MAC it read, now gone: it reads
    the head again, and the whole chain verifies under the new key alone."""
    from backend import sql
    from backend.audit import writer
    from backend.audit.rekey import rekey

    old, new = keys
    s = await _chain(client, (old, 3))
    _write_with(new)  # the service, restarted with the new key, goes on serving
    fetch = sql.fetch
    rekeyed: list[Any] = []

    async def rekey_first(statement: str, params: Any, conn: Any = None) -> Any:
        if statement == writer._PG_STEADY_APPEND and not rekeyed:
            rekeyed.append(await rekey(new, old))
        return await fetch(statement, params, conn)

    monkeypatch.setattr(sql, "fetch", rekey_first)
    before = len(await _rows(s["record"]))
    await _read(s, 2)
    monkeypatch.setattr(sql, "fetch", fetch)
    # PostgreSQL's steady write ran with the rekey in its window; SQLite writes every event
    # holding the database's write lock, which the rekey's transaction takes too.
    assert bool(rekeyed) is sql.pooled_postgres()
    if rekeyed:
        assert rekeyed[0].records == 1 and not rekeyed[0].problems
    else:
        done = _rekey(new, old)
        assert done.returncode == 0, done.stdout + done.stderr
    assert len(await _rows(s["record"])) == before + 2
    done = _verify(new)  # no previous key: every event must be under the new one
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "set DMP_PREVIOUS_AUDIT_KEY to the audit key being replaced"),
        ({"DMP_PREVIOUS_AUDIT_KEY": "abc"}, "DMP_PREVIOUS_AUDIT_KEY"),
        ("same", "DMP_PREVIOUS_AUDIT_KEY is DMP_AUDIT_KEY"),
    ],
)
async def test_rekey_without_a_usable_previous_key_changes_nothing(
    client: httpx.AsyncClient, keys: tuple[bytes, bytes], env: Any, message: str
) -> None:
    old, _ = keys
    s = await setup(client)
    await _read(s, 2)
    rows = await _rows(s["record"])
    if env == "same":
        env = {"DMP_PREVIOUS_AUDIT_KEY": old.hex()}
    done = run_dmp("audit", "rekey", DMP_AUDIT_KEY=old.hex(), **env)
    assert done.returncode == 1
    assert message in done.stderr
    assert await _rows(s["record"]) == rows
