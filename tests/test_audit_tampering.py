"""`dmp audit verify` against an event's stored form changed without changing its meaning on
the page, or into a form no writer stores: each is an altered event, named, and the other
chains are still checked."""

from __future__ import annotations

import secrets

import httpx
from tortoise import Tortoise

from backend import config
from backend.models import AccessEvent, Record
from tests.history_helpers import READ, setup
from tests.server import run_dmp

IDENTITY = "query Identity($ins: String!) { patientRecord(ins: $ins) { ins } }"


async def sql(script: str) -> None:
    await Tortoise.get_connection("default").execute_script(script)


async def chain_of_three(client: httpx.AsyncClient, query: str = READ) -> tuple[Record, list[AccessEvent]]:
    s = await setup(client)
    for _ in range(3):
        (await s["as_pro"].gql(query, {"ins": s["record"].ins})).ok()
    return s["record"], list(await AccessEvent.filter(record_id=s["record"].id).order_by("seq"))


async def test_sections_stored_in_another_form_are_an_altered_event(client: httpx.AsyncClient) -> None:
    # The reads return MEDICATIONS and ALLERGIES: each event stores ["ALLERGIES","MEDICATIONS"].
    forms = (
        '["MEDICATIONS","ALLERGIES"]',  # another order: it was sorted before its MAC was checked
        '{"ALLERGIES":1,"MEDICATIONS":2}',  # an object of the same names: read as a list of them
        '[1,"ALLERGIES"]',  # a number among the names: verify stopped on it, checking nothing more
    )
    tampered = []
    for form in forms:
        record, rows = await chain_of_three(client)
        assert rows[1].sections == ["ALLERGIES", "MEDICATIONS"]
        await sql(f"UPDATE access_event SET sections = '{form}' WHERE id = {rows[1].id}")
        tampered.append(record)
    # An event without sections (the identity alone was read): JSON null in place of [].
    record, rows = await chain_of_three(client, IDENTITY)
    assert rows[1].sections == []
    await sql(f"UPDATE access_event SET sections = 'null' WHERE id = {rows[1].id}")
    tampered.append(record)
    intact, _ = await chain_of_three(client)

    done = run_dmp("audit", "verify")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    failed = sorted(line for line in done.stdout.splitlines() if line.startswith("FAILED "))
    assert failed == sorted(
        f"FAILED record {record.id} seq 2: altered event (its MAC does not match)" for record in tampered
    ), done.stdout
    assert str(intact.id) not in done.stdout
    assert done.stderr.strip().endswith(f"{len(tampered)} chain(s) broken ({len(tampered)} problem(s))")


async def _refused_by_postgres(statement: str) -> bool:
    """Whether the database refuses `statement` (PostgreSQL's column types refuse a value no
    writer stores; SQLite keeps any value in any column)."""
    try:
        await sql(statement)
    except Exception:  # noqa: BLE001 - the driver's own error for a value of the wrong type
        return True
    return False


async def test_an_event_holding_a_value_no_writer_stores_is_reported_not_a_traceback(
    client: httpx.AsyncClient,
) -> None:
    timed, _ = await chain_of_three(client)  # seq 2: a time that is not one
    earlier, _ = await chain_of_three(client)  # seq 1 altered; seq 3 sections that are not JSON
    numbered, _ = await chain_of_three(client)  # seq 3 numbered with text
    intact, _ = await chain_of_three(client)
    rows = {r.id: list(await AccessEvent.filter(record_id=r.id).order_by("seq"))
            for r in (timed, earlier, numbered)}
    stored = [
        f"UPDATE access_event SET at = 'pas une date' WHERE id = {rows[timed.id][1].id}",
        f"UPDATE access_event SET sections = 'pas du JSON' WHERE id = {rows[earlier.id][2].id}",
        f"UPDATE access_event SET seq = 'trois' WHERE id = {rows[numbered.id][2].id}",
    ]
    await sql(f"UPDATE access_event SET reason = 'autre' WHERE id = {rows[earlier.id][0].id}")
    refused = [await _refused_by_postgres(statement) for statement in stored]
    if refused == [True] * 3:  # PostgreSQL: such a value cannot be stored at all
        done = run_dmp("audit", "verify")
        assert done.returncode == 1
        assert done.stdout.splitlines() == [
            f"FAILED record {earlier.id} seq 1: altered event (its MAC does not match)"
        ]
        return
    assert refused == [False] * 3  # SQLite stored them

    expected = [
        f"FAILED record {timed.id} seq 2: altered event (it holds a value no writer stores)",
        f"FAILED record {earlier.id} seq 1: altered event (its MAC does not match)",
        f"FAILED record {numbered.id} seq 3: altered event (it holds a value no writer stores)",
    ]
    done = run_dmp("audit", "verify")
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert sorted(done.stdout.splitlines()) == sorted(expected), done.stdout
    assert "pas une date" not in done.stdout + done.stderr and "pas du JSON" not in done.stdout + done.stderr
    assert done.stderr.strip().endswith("3 chain(s) broken (3 problem(s))"), done.stderr
    assert str(intact.id) not in done.stdout

    # The rekey reports them as verify does, changes nothing of them, and moves the intact chain.
    import secrets

    before = {
        r: list(await AccessEvent.filter(record_id=r).order_by("seq").values("id", "mac")) for r in rows
    }
    new = secrets.token_bytes(32)
    done = run_dmp("audit", "rekey", DMP_AUDIT_KEY=new.hex(),
                   DMP_PREVIOUS_AUDIT_KEY=config.settings().audit_key.hex())
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert sorted(line for line in done.stdout.splitlines() if line.startswith("FAILED")) == sorted(expected)
    assert "sealed 1 chain(s) anew" in done.stdout, done.stdout
    for record_id, macs in before.items():
        assert list(await AccessEvent.filter(record_id=record_id).order_by("seq").values("id", "mac")) == macs


async def test_a_chain_short_of_its_anchor_is_reported_whatever_its_other_events_hold(
    client: httpx.AsyncClient,
) -> None:
    from tests.conftest import TEST_DIR, db_kind

    record, rows = await chain_of_three(client)
    anchor = TEST_DIR / f"anchor-unreadable-{db_kind()}-{record.id}.json"
    assert run_dmp("audit", "anchor", "--out", str(anchor)).returncode == 0
    await sql(f"DELETE FROM access_event WHERE id = {rows[2].id}")
    await sql(f"UPDATE record SET event_seq = 2 WHERE id = '{record.id}'")
    expected = [
        f"FAILED record {record.id} seq 3: missing event: the chain ends at seq 2, shorter than the anchor"
    ]
    unreadable = f"UPDATE access_event SET at = 'pas une date' WHERE id = {rows[1].id}"
    if not await _refused_by_postgres(unreadable):  # SQLite: the event before the cut is unreadable
        expected.insert(0, f"FAILED record {record.id} seq 2: altered event (it holds a value no writer "
                           "stores)")
    done = run_dmp("audit", "verify", "--anchor", str(anchor))
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stdout.splitlines() == expected, done.stdout


async def test_an_event_moved_to_another_chain_or_two_events_swapped_are_reported(
    client: httpx.AsyncClient,
) -> None:
    source, moved = await chain_of_three(client)
    target, _ = await chain_of_three(client)
    swapped, rows = await chain_of_three(client)
    # The tail event of one record appended to another's chain, both heads set to match.
    await sql(f"UPDATE access_event SET record_id = '{target.id}', seq = 4 WHERE id = {moved[2].id}")
    await sql(f"UPDATE record SET event_seq = 2 WHERE id = '{source.id}'")
    await sql(f"UPDATE record SET event_seq = 4 WHERE id = '{target.id}'")
    # Two events of one chain in each other's place.
    await sql(f"UPDATE access_event SET seq = 100 WHERE id = {rows[0].id}")
    await sql(f"UPDATE access_event SET seq = 1 WHERE id = {rows[1].id}")
    await sql(f"UPDATE access_event SET seq = 2 WHERE id = {rows[0].id}")
    done = run_dmp("audit", "verify")
    assert done.returncode == 1
    assert sorted(done.stdout.splitlines()) == sorted([
        f"FAILED record {target.id} seq 4: altered event (its MAC does not match)",
        f"FAILED record {swapped.id} seq 1: reordered events (seq 1 and 2 in each other's place)",
    ]), done.stdout
    # The cut chain the moved event left verifies: only an anchor tells it (test_audit_chain).
    assert str(source.id) not in done.stdout


async def test_a_wrong_audit_key_is_named_as_a_likely_cause(client: httpx.AsyncClient) -> None:
    """Given another DMP_AUDIT_KEY (a restore, a rotation's keys swapped), every chain was
    reported altered at its first event, and nothing pointed at the key."""
    first, _ = await chain_of_three(client)
    second, _ = await chain_of_three(client)
    done = run_dmp("audit", "verify", DMP_AUDIT_KEY=secrets.token_hex(32))
    assert done.returncode == 1
    assert done.stderr == (
        "dmp: access history verification failed: 2 chain(s) broken (2 problem(s)); every chain fails "
        "at its first event: is DMP_AUDIT_KEY the key this history was written with?\n")
    # With the right key, a first event altered beside an intact chain is said as before.
    row = await AccessEvent.get(record_id=first.id, seq=1)
    await sql(f"UPDATE access_event SET reason = 'autre' WHERE id = {row.id}")
    done = run_dmp("audit", "verify")
    assert done.returncode == 1
    assert done.stderr == "dmp: access history verification failed: 1 chain(s) broken (1 problem(s))\n"
    assert str(second.id) not in done.stdout
