"""Attacks on the access decision (DESIGN §3) and on the history written before data leaves
(DESIGN §4): counts, fragments and aliases over masked rows, corrections of masked entries,
emergency sessions and changes of facts, other callers, and partially refused reads."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from backend import accounts, clock
from backend.domain.enums import Profession, RecordStatus, Section
from backend.models import (
    AccessEvent,
    Account,
    EmergencySession,
    Entry,
    Grant,
    Practitioner,
    Record,
)
from tests import factories
from tests.conftest import Caller, session_for

S = Section
REASON = "Patient inconscient aux urgences"


async def _pro(client: httpx.AsyncClient, profession: Profession = Profession.MEDECIN, *,
               regulator: bool = False) -> tuple[Caller, Account, Practitioner]:
    account, practitioner = await factories.practitioner(profession, regulator=regulator)
    return Caller(client, session=await session_for(account)), account, practitioner


async def _grant(record: Record, practitioner: Practitioner, *sections: Section) -> None:
    await Grant.create(record_id=record.id, practitioner_id=practitioner.id,
                       sections=[s.value for s in sections])


async def _events(record: Record) -> list[tuple[str, str | None, list[str]]]:
    rows = await AccessEvent.filter(record_id=record.id).order_by("seq")
    return [(e.action, e.mode, sorted(e.sections)) for e in rows]


# --- counts, fragments and aliases over masked rows ---------------------------------------

COUNTS = """query($ins: String!) { patientRecord(ins: $ins) {
  a: allergies(first: 1) { ...Counted }
  b: allergies(first: 1) { ... on EntryConnection { totalCount pageInfo { hasNextPage } } }
  c: allergies(first: 100, includeSuperseded: true) { totalCount edges { node { id supersedes } } }
} }
fragment Counted on EntryConnection { totalCount pageInfo { hasNextPage } edges { node { id } } }"""


async def test_counts_in_fragments_and_aliases_leave_masked_rows_out(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    visible = await factories.entry(record, S.ALLERGIES, title="visible", days_ago=3)
    for i in range(3):
        await factories.entry(record, S.ALLERGIES, title=f"masked {i}", days_ago=1, masked=True)
    caller, _, practitioner = await _pro(client)
    await _grant(record, practitioner, S.ALLERGIES)
    data = (await caller.gql(COUNTS, {"ins": record.ins})).ok()["patientRecord"]
    for alias in ("a", "b", "c"):
        assert data[alias]["totalCount"] == 1, alias
    for alias in ("a", "b"):
        assert data[alias]["pageInfo"]["hasNextPage"] is False, alias
    assert [e["node"]["id"] for e in data["c"]["edges"]] == [str(visible.id)]
    assert await _events(record) == [("RECORD_READ", "GRANTED", ["ALLERGIES"])]


# --- a masked entry through its corrections --------------------------------------------

CORRECT = """mutation($ins: String!, $old: ID!) { addEntry(input: {ins: $ins, section: ALLERGIES,
  title: "corrected", date: "2024-01-02", supersedes: $old}) { entry { id supersedes masked } } }"""
VERSIONS = """query($ins: String!) { patientRecord(ins: $ins) {
  allergies(includeSuperseded: true) { totalCount edges { node { id title supersedes } } } } }"""


async def test_a_masked_entry_and_its_correction_stay_hidden_from_others(
    client: httpx.AsyncClient,
) -> None:
    _, record = await factories.patient()
    author_caller, author, author_pro = await _pro(client)
    await _grant(record, author_pro, S.ALLERGIES)
    masked = await factories.entry(record, S.ALLERGIES, title="masked", author=author, masked=True)
    corrected = (await author_caller.gql(CORRECT, {"ins": record.ins, "old": str(masked.id)})
                 ).ok()["addEntry"]["entry"]
    assert corrected["supersedes"] == str(masked.id) and corrected["masked"] is None
    assert (await Entry.get(id=corrected["id"])).masked is True
    other, _, other_pro = await _pro(client)
    await _grant(record, other_pro, S.ALLERGIES)
    data = (await other.gql(VERSIONS, {"ins": record.ins})).ok()["patientRecord"]["allergies"]
    assert data == {"totalCount": 0, "edges": []}
    # Correcting it is answered as for an entry that does not exist, and writes nothing.
    before = await Entry.filter(record_id=record.id).count()
    refused = await other.gql(CORRECT, {"ins": record.ins, "old": corrected["id"]})
    missing = await other.gql(CORRECT, {"ins": record.ins, "old": str(other_pro.id)})
    assert refused.codes == missing.codes == ["BAD_USER_INPUT"]
    assert refused.errors[0]["message"] == missing.errors[0]["message"]
    assert refused.errors[0]["extensions"].get("reason") == missing.errors[0]["extensions"].get("reason")
    assert await Entry.filter(record_id=record.id).count() == before


# --- facts that change: profession, regulator flag, treating physician, expiry ----------

RECORD = """query($ins: String!) { patientRecord(ins: $ins) { accessMode
  sectionAccess { section mode } allergies { totalCount } medicalHistory { totalCount } } }"""


def _modes(data: dict[str, Any]) -> dict[str, str]:
    return {a["section"]: a["mode"] for a in data["sectionAccess"]}


async def test_a_treating_physician_who_is_no_longer_a_doctor_keeps_only_the_matrix(
    client: httpx.AsyncClient,
) -> None:
    _, record = await factories.patient()
    await factories.entry(record, S.ALLERGIES, masked=True)
    await factories.entry(record, S.MEDICAL_HISTORY)
    caller, _, practitioner = await _pro(client)
    await _grant(record, practitioner, S.ALLERGIES, S.MEDICAL_HISTORY)
    await Record.filter(id=record.id).update(treating_physician_id=practitioner.id)
    data = (await caller.gql(RECORD, {"ins": record.ins})).ok()["patientRecord"]
    assert data["accessMode"] == "TREATING_PHYSICIAN" and data["allergies"]["totalCount"] == 1
    await Practitioner.filter(id=practitioner.id).update(profession=Profession.PHARMACIEN)
    data = (await caller.gql(RECORD, {"ins": record.ins})).ok()["patientRecord"]
    # A pharmacist: the grant within the matrix, no masked entry, no antecedents.
    assert _modes(data) == {"ALLERGIES": "GRANTED"}
    assert data["allergies"] == {"totalCount": 0} and data["medicalHistory"] is None


async def test_a_regulator_session_of_a_practitioner_no_longer_regulator_opens_nothing(
    client: httpx.AsyncClient,
) -> None:
    _, record = await factories.patient()
    caller, _, practitioner = await _pro(client, regulator=True)
    opened = await caller.gql(
        """mutation($ins: String!, $r: String!) { regulatorAccess(ins: $ins, reason: $r) {
             mode record { allergies { totalCount } } } }""", {"ins": record.ins, "r": REASON})
    assert opened.ok()["regulatorAccess"]["mode"] == "EMERGENCY_REGULATOR"
    await Practitioner.filter(id=practitioner.id).update(is_regulator=False)
    before = await AccessEvent.filter(record_id=record.id).count()
    refused = await caller.gql(RECORD, {"ins": record.ins})
    assert refused.codes == ["FORBIDDEN"] and refused.data == {"patientRecord": None}
    assert [e[0] for e in (await _events(record))[before:]] == ["ACCESS_DENIED"]


async def test_an_emergency_session_past_its_end_reads_nothing(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    caller, _, _ = await _pro(client)
    opened = await caller.gql(
        """mutation($ins: String!, $r: String!) { openBreakGlass(ins: $ins, reason: $r) {
             expiresAt } }""", {"ins": record.ins, "r": REASON})
    assert opened.ok()["openBreakGlass"]["expiresAt"]
    # Its end passed (the clock is not moved: the sign-in session would end too).
    await EmergencySession.filter(record_id=record.id).update(
        expires_at=clock.now() - dt.timedelta(seconds=1))
    refused = await caller.gql(RECORD, {"ins": record.ins})
    assert refused.codes == ["FORBIDDEN"] and refused.data == {"patientRecord": None}


# --- other callers ---------------------------------------------------------------------

async def test_an_insurer_reads_nothing_back_of_what_it_imported(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    imported = await factories.entry(record, S.MEDICATIONS, title="imported")
    _, token = await accounts.create_token("cpam", ["insurer:import"], organization="CPAM")
    insurer = Caller(client, token=token)
    refused = await insurer.gql(RECORD, {"ins": record.ins})
    unknown = await insurer.gql(RECORD, {"ins": factories.new_ins()})
    assert refused.codes == unknown.codes == ["FORBIDDEN"]
    assert refused.errors[0]["message"] == unknown.errors[0]["message"]
    assert refused.data == {"patientRecord": None}
    assert (await insurer.gql("{ myRecord { ins } }")).ok() == {"myRecord": None}
    response = await client.get(f"/files/{imported.id}", headers=insurer.headers())
    assert response.status_code == 404 and b"imported" not in response.content
    assert [e[0] for e in await _events(record)] == ["ACCESS_DENIED"]
    # A pending record has no owner, and an insurer's token no account: still an attempt.
    await Record.filter(id=record.id).update(status=RecordStatus.PENDING, owner_id=None)
    assert (await insurer.gql(RECORD, {"ins": record.ins})).codes == ["FORBIDDEN"]
    assert [e[0] for e in await _events(record)] == ["ACCESS_DENIED", "ACCESS_DENIED"]


async def test_the_owner_of_a_record_waiting_for_deletion_reads_nothing_and_is_no_event(
    client: httpx.AsyncClient,
) -> None:
    owner, record = await factories.patient()
    await factories.entry(record, S.ALLERGIES)
    await Record.filter(id=record.id).update(status=RecordStatus.DELETED,
                                             deletion_requested_at=clock.now())
    caller = Caller(client, session=await session_for(owner))
    assert (await caller.gql("{ myRecord { ins } }")).ok() == {"myRecord": None}
    refused = await caller.gql(RECORD, {"ins": record.ins})
    assert refused.codes == ["FORBIDDEN"] and refused.data == {"patientRecord": None}
    # The owner's own attempt is not someone refused an access (DESIGN §4).
    assert await _events(record) == []


# --- what the history holds when a read is partly refused, or comes with a mutation ------

PARTLY = """query($ins: String!) { patientRecord(ins: $ins) {
  allergies { edges { node { title } } }
  medications { edges { node { title } } }
  vaccinations(after: "not a cursor") { edges { node { title } } } } }"""


async def test_a_partly_refused_read_writes_the_sections_returned(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    await factories.entry(record, S.ALLERGIES, title="Pénicilline")
    await factories.entry(record, S.MEDICATIONS, title="Amoxicilline")
    await factories.entry(record, S.VACCINATIONS, title="DTP")
    caller, _, practitioner = await _pro(client)
    await _grant(record, practitioner, S.ALLERGIES, S.VACCINATIONS)
    result = await caller.gql(PARTLY, {"ins": record.ins})
    assert result.codes == ["BAD_USER_INPUT"]
    data = result.data["patientRecord"]
    assert data["allergies"]["edges"][0]["node"]["title"] == "Pénicilline"
    assert data["medications"] is None and data["vaccinations"] is None
    assert "Amoxicilline" not in result.response.text and "DTP" not in result.response.text
    # Written though the answer carries an error; only the section that left is listed.
    assert await _events(record) == [("RECORD_READ", "GRANTED", ["ALLERGIES"])]


BREAK_GLASS = """mutation($ins: String!, $r: String!) { a: openBreakGlass(ins: $ins, reason: $r) {
  record { allergies { totalCount } } } b: openBreakGlass(ins: $ins, reason: $r) {
  record { allergies { totalCount } medications { totalCount } } } }"""


async def test_records_returned_by_mutations_are_written_per_mode(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    await factories.entry(record, S.ALLERGIES)
    await factories.entry(record, S.MEDICATIONS, masked=True)
    caller, _, practitioner = await _pro(client)
    await _grant(record, practitioner, S.ALLERGIES)
    data = (await caller.gql(BREAK_GLASS, {"ins": record.ins, "r": REASON})).ok()
    assert data["b"]["record"] == {"allergies": {"totalCount": 1}, "medications": {"totalCount": 0}}
    events = await _events(record)
    # The second opening is answered by the session the first opened: one opening event.
    assert events == [
        ("BREAK_GLASS_OPENED", "BREAK_GLASS", []),
        ("RECORD_READ", "GRANTED", ["ALLERGIES"]), ("RECORD_READ", "BREAK_GLASS", ["MEDICATIONS"]),
    ]


async def test_a_document_run_before_is_withheld_when_its_event_cannot_be_written(
    client: httpx.AsyncClient,
) -> None:
    """The second time a document is sent it runs without the extension pipeline
    (schema/direct.py): it writes its history, or answers nothing, all the same."""
    from tests.audit_faults import access_event_writes_fail

    _, record = await factories.patient()
    await factories.entry(record, S.ALLERGIES, title="Pénicilline")
    caller, _, practitioner = await _pro(client)
    await _grant(record, practitioner, S.ALLERGIES)
    query = "query($ins: String!) { patientRecord(ins: $ins) { ins allergies { edges { node { title } } } } }"
    assert (await caller.gql(query, {"ins": record.ins})).ok()
    async with access_event_writes_fail():
        result = await caller.gql(query, {"ins": record.ins})
    assert result.codes == ["INTERNAL"] and result.data is None
    assert "Pénicilline" not in result.response.text and record.ins not in result.response.text
    assert len(await _events(record)) == 1


# --- a sign-in session and an emergency access opened before a block ---------------------

async def test_a_block_ends_what_was_open_before_it_and_unblocking_brings_nothing_back(
    client: httpx.AsyncClient,
) -> None:
    owner, record = await factories.patient()
    await factories.entry(record, S.ALLERGIES, title="Pénicilline")
    caller, _, practitioner = await _pro(client)
    await _grant(record, practitioner, S.ALLERGIES)
    opened = await caller.gql(
        """mutation($ins: String!, $r: String!) { openBreakGlass(ins: $ins, reason: $r) {
             record { accessMode } } }""", {"ins": record.ins, "r": REASON})
    assert opened.ok()["openBreakGlass"]["record"]["accessMode"] == "GRANTED"
    patient = Caller(client, session=await session_for(owner))
    for change in ("blockPractitioner", "unblockPractitioner"):
        (await patient.gql(f"mutation($p: ID!) {{ {change}(practitionerId: $p) {{ __typename }} }}",
                           {"p": str(practitioner.id)})).ok()
        before = await AccessEvent.filter(record_id=record.id).count()
        # The same sign-in session as before the block: nothing, blocked or unblocked.
        refused = await caller.gql(RECORD, {"ins": record.ins})
        assert refused.codes == ["FORBIDDEN"] and refused.data == {"patientRecord": None}
        assert "Pénicilline" not in refused.response.text
        assert [e[0] for e in (await _events(record))[before:]] == ["ACCESS_DENIED"]
    assert not await Grant.filter(record_id=record.id).exists()
    assert not await EmergencySession.filter(record_id=record.id, expires_at__gt=clock.now()).exists()


async def test_the_emergency_profile_is_refused_to_a_view_without_its_section(
    client: httpx.AsyncClient,
) -> None:
    """Whoever calls it: a view whose decision does not allow EMERGENCY gets no profile and
    notes nothing (it was noted as a GRANTED read and returned)."""
    from starlette.requests import Request

    from backend.auth.viewer import Viewer
    from backend.domain.enums import Role
    from backend.errors import Forbidden
    from backend.resolvers import records
    from backend.resolvers.context import build_context

    _, record = await factories.patient()
    await Record.filter(id=record.id).update(blood_group="O+")
    _, account, practitioner = await _pro(client, Profession.PHARMACIEN)
    await _grant(record, practitioner, S.MEDICATIONS)
    viewer = Viewer(account_id=account.id, role=Role.PRACTITIONER, display_name="Dr Pro",
                    practitioner_id=practitioner.id, profession=Profession.PHARMACIEN)
    ctx = build_context(Request({"type": "http", "headers": []}), None, viewer)
    view = await records.view_of(ctx, await Record.get(id=record.id))
    assert set(view.modes) == {S.MEDICATIONS}
    try:
        records.emergency_profile(ctx, view)
    except Forbidden:
        pass
    else:
        raise AssertionError("the profile was returned")
    assert ctx.access_log.pending == []
