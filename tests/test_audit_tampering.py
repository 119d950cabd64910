"""`dmp audit verify` against an event's stored form changed without changing its meaning on
the page, or into a form no writer stores: each is an altered event, named, and the other
chains are still checked."""

from __future__ import annotations

import httpx
from tortoise import Tortoise

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
