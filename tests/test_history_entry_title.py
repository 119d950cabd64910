"""myAccessHistory's entryTitle: the current title of the entry an event names, for the owner.

The history keeps the entry's id, never its title (sealed events would keep medical content
after the entry's deletion); the title is read when asked, for the whole page in one statement,
and a page that does not ask runs the statements it ran before the field existed."""

from __future__ import annotations

import httpx

from backend import clock
from backend.domain.enums import RecordStatus, Section
from backend.models import AccessEvent, Entry, Record
from tests import factories
from tests.conftest import Caller, session_for
from tests.history_helpers import READ, break_glass, setup
from tests.test_authz_reading import count_queries

TITLED = """query($first: Int!) { myAccessHistory(first: $first) {
  edges { node { seq action entryId entryTitle } } } }"""
# The bench's S3 (bench/run.py), which does not ask for the title.
UNTITLED = """query($first: Int!) { myAccessHistory(first: $first) {
  edges { cursor node { id seq at actorName actorProfession actorRole action mode sections reason } }
  pageInfo { hasNextPage endCursor } } }"""
TITLED_S3 = UNTITLED.replace("reason }", "reason entryTitle }")
ADD = """mutation($title: String!, $supersedes: ID) { addEntry(input: {section: VACCINATIONS,
  title: $title, date: "2026-01-05", supersedes: $supersedes}) { entry { id } } }"""
MASK = "mutation($id: ID!) { maskEntry(id: $id) { id } }"
UNMASK = "mutation($id: ID!) { unmaskEntry(id: $id) { id } }"
DELETE = "mutation($id: ID!) { deleteEntry(id: $id) }"
ACK = "mutation($id: ID!) { acknowledgeEmergencyAccess(id: $id) { id } }"


async def _events(caller: Caller) -> list[dict]:  # type: ignore[type-arg]
    page = (await caller.gql(TITLED, {"first": 50})).ok()["myAccessHistory"]
    return [e["node"] for e in reversed(page["edges"])]  # oldest first


def _entry_reads(statements: list[str]) -> list[str]:
    return [s for s in statements if 'FROM "entry"' in s]


async def test_the_owner_reads_the_current_title_of_the_entry_each_event_names(
    client: httpx.AsyncClient,
) -> None:
    s = await setup(client)
    record, me = s["record"], s["as_patient"]
    metformine = await factories.entry(record, Section.MEDICATIONS, title="Metformine 850 mg")
    (await me.gql(MASK, {"id": str(metformine.id)})).ok()
    (await me.gql(UNMASK, {"id": str(metformine.id)})).ok()
    (await me.gql(MASK, {"id": str(metformine.id)})).ok()  # masked now: still the owner's to read
    first = (await me.gql(ADD, {"title": "Grippe 2025"})).ok()["addEntry"]["entry"]["id"]
    second = (await me.gql(ADD, {"title": "Grippe 2025-2026", "supersedes": first})).ok()
    corrected = second["addEntry"]["entry"]["id"]
    gone = (await me.gql(ADD, {"title": "Tétanos"})).ok()["addEntry"]["entry"]["id"]
    (await me.gql(DELETE, {"id": gone})).ok()
    (await s["as_pro"].gql(READ, {"ins": record.ins})).ok()
    (await me.gql(ACK, {"id": str((await break_glass(record, s["pro"])).id)})).ok()

    shown = [(e["action"], e["entryId"], e["entryTitle"]) for e in await _events(me)]
    assert shown == [
        ("ENTRY_MASKED", str(metformine.id), "Metformine 850 mg"),
        ("ENTRY_UNMASKED", str(metformine.id), "Metformine 850 mg"),
        ("ENTRY_MASKED", str(metformine.id), "Metformine 850 mg"),
        ("ENTRY_ADDED", first, "Grippe 2025"),  # the version the event named, though corrected
        ("ENTRY_ADDED", corrected, "Grippe 2025-2026"),
        ("ENTRY_ADDED", gone, None),  # deleted since: no title left anywhere
        ("ENTRY_DELETED", gone, None),
        ("RECORD_READ", None, None),
        # It names the emergency access reviewed, not an entry.
        ("EMERGENCY_REVIEWED", shown[-1][1], None),
    ]
    assert shown[-1][1] is not None
    # The title read is the entry's current one, and the events are as they were written.
    await Entry.filter(id=metformine.id).update(title="Metformine 1000 mg")
    assert (await _events(me))[0]["entryTitle"] == "Metformine 1000 mg"
    stored = await AccessEvent.filter(record_id=record.id).values_list("reason", flat=True)
    assert not [r for r in stored if "Metformine" in r or "Grippe" in r]


async def test_titles_only_of_the_records_own_entries_and_while_the_owner_reads_them(
    client: httpx.AsyncClient,
) -> None:
    s = await setup(client)
    record, me = s["record"], s["as_patient"]
    mine = await factories.entry(record, Section.MEDICATIONS, title="Metformine 850 mg")
    (await me.gql(MASK, {"id": str(mine.id)})).ok()
    _, elsewhere = await factories.patient()
    theirs = await factories.entry(elsewhere, Section.MEDICATIONS, title="Pas le vôtre")
    # An event that would name another record's entry (none is written so) gives no title.
    last = await AccessEvent.filter(record_id=record.id).order_by("-seq").first()
    assert last is not None
    await AccessEvent.create(
        record=record, seq=last.seq + 1, at=clock.now(), actor_id=None, actor_name="x", actor_role="PATIENT",
        action="ENTRY_MASKED", mode="OWNER", sections=["MEDICATIONS"], entry_id=str(theirs.id), mac="0" * 64,
    )
    assert [e["entryTitle"] for e in await _events(me)] == ["Metformine 850 mg", None]

    await Record.filter(id=record.id).update(status=RecordStatus.CLOSED, closed_at=clock.now())
    assert (await _events(me))[0]["entryTitle"] == "Metformine 850 mg"
    # While the record's deletion is pending its owner reads no entry: no title either.
    await factories.pending_deletion(record)
    events = await _events(me)
    assert [e["entryTitle"] for e in events] == [None, None] and events[0]["entryId"] == str(mine.id)

    # Only the owner reads the history at all.
    assert (await s["as_pro"].gql(TITLED, {"first": 5})).codes == ["FORBIDDEN"]
    support = Caller(client, session=await session_for(await factories.support()))
    assert (await support.gql(TITLED, {"first": 5})).codes == ["FORBIDDEN"]
    assert (await Caller(client).gql(TITLED, {"first": 5})).codes == ["UNAUTHENTICATED"]


async def test_the_titles_of_a_page_cost_one_statement_and_nothing_when_not_asked(
    client: httpx.AsyncClient,
) -> None:
    s = await setup(client)
    record, me = s["record"], s["as_patient"]
    (await s["as_pro"].gql(READ, {"ins": record.ins})).ok()
    for day in range(12):
        entry = await factories.entry(record, Section.MEDICATIONS, title=f"Traitement {day}", days_ago=day)
        (await me.gql(MASK, {"id": str(entry.id)})).ok()
    (await me.gql(ADD, {"title": "Grippe"})).ok()

    with count_queries() as untitled:
        (await me.gql(UNTITLED, {"first": 50})).ok()
    with count_queries() as titled:
        page = (await me.gql(TITLED_S3, {"first": 50})).ok()["myAccessHistory"]
    titles = [e["node"]["entryTitle"] for e in page["edges"]]
    assert titles[0] == "Grippe" and titles[-1] is None and "Traitement 11" in titles
    # Without the field: as before it existed, no entry read; with it, one statement more.
    assert _entry_reads(untitled) == []
    assert len(_entry_reads(titled)) == 1
    assert [q for q in titled if q not in _entry_reads(titled)] == untitled

    # A page whose events name no entry reads none, though it asks for the field.
    with count_queries() as filtered:
        only = (await me.gql(
            TITLED.replace("(first: $first)", '(first: $first, filter: {actions: [RECORD_READ]})'),
            {"first": 50},
        )).ok()["myAccessHistory"]["edges"]
    assert [e["node"]["entryTitle"] for e in only] == [None] and _entry_reads(filtered) == []


async def test_a_page_of_more_events_than_titles_reads_each_title_once(client: httpx.AsyncClient) -> None:
    """The same entry masked and unmasked over and over: one title, one statement."""
    s = await setup(client)
    me = s["as_patient"]
    entry = await factories.entry(s["record"], Section.ALLERGIES, title="Arachide")
    for _ in range(5):
        (await me.gql(MASK, {"id": str(entry.id)})).ok()
        (await me.gql(UNMASK, {"id": str(entry.id)})).ok()
    with count_queries() as statements:
        events = await _events(me)
    assert {e["entryTitle"] for e in events} == {"Arachide"} and len(events) == 10
    assert len(_entry_reads(statements)) == 1
