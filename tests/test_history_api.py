"""myAccessHistory and the emergency review, through GraphQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta, timezone

import httpx

from backend import clock
from backend.domain.enums import EmergencyKind, RecordStatus, ReviewState
from backend.models import AccessEvent, EmergencySession, Grant, Record
from tests import factories
from tests.conftest import Caller, session_for
from tests.history_helpers import READ, break_glass, reviewed, setup

HISTORY = """query($first: Int, $after: String, $filter: AccessHistoryFilter) {
  myAccessHistory(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id seq at actorId actorName actorProfession actorRole action mode sections
                          entryId reason emergency } }
  }
}"""
REVIEWS = """{ myEmergencyAccesses { id kind practitionerName profession openedAt expiresAt reason
                                     reviewState } }"""
ACK = "mutation($id: ID!) { acknowledgeEmergencyAccess(id: $id) { id reviewState } }"
REPORT = """mutation($id: ID!, $c: String) {
  reportEmergencyAccess(id: $id, comment: $c) { id reviewState } }"""


async def history(caller: Caller, **variables: object) -> dict:  # type: ignore[type-arg]
    return (await caller.gql(HISTORY, {"first": 20, **variables})).ok()["myAccessHistory"]


async def test_patient_reads_history_newest_first_with_pages(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    for _ in range(5):
        (await s["as_pro"].gql(READ, {"ins": s["record"].ins})).ok()
    page = await history(s["as_patient"], first=2)
    assert page["totalCount"] == 5
    assert [e["node"]["seq"] for e in page["edges"]] == [5, 4]
    assert page["pageInfo"]["hasNextPage"] is True
    node = page["edges"][0]["node"]
    assert node["actorName"] == s["pro_account"].display_name
    assert node["actorProfession"] == "medecin" and node["actorRole"] == "PRACTITIONER"
    assert node["action"] == "RECORD_READ" and node["mode"] == "GRANTED"
    assert node["sections"] == ["ALLERGIES", "MEDICATIONS"] and node["emergency"] is False
    seen = [5, 4]
    after = page["pageInfo"]["endCursor"]
    while after:
        page = await history(s["as_patient"], first=2, after=after)
        seen += [e["node"]["seq"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"] if page["pageInfo"]["hasNextPage"] else None
    assert seen == [5, 4, 3, 2, 1]
    # Reading one's own history is not an event.
    assert await AccessEvent.filter(record_id=s["record"].id).count() == 5


async def test_filters(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    record = s["record"]
    (await s["as_pro"].gql(READ, {"ins": record.ins})).ok()
    clock.shift(timedelta(days=3))
    # Sessions time out over three days: sign in again.
    as_pro = Caller(client, session=await session_for(s["pro_account"]))
    as_patient = Caller(client, session=await session_for(s["patient"]))
    other_account, other = await factories.practitioner()
    await break_glass(record, other)
    as_other = Caller(client, session=await session_for(other_account))
    (await as_other.gql(READ, {"ins": record.ins})).ok()
    await Grant.filter(record_id=record.id).delete()
    assert (await as_pro.gql(READ, {"ins": record.ins})).codes == ["FORBIDDEN"]

    everything = await history(as_patient)
    actions = [e["node"]["action"] for e in everything["edges"]]
    assert actions == ["ACCESS_DENIED", "RECORD_READ", "RECORD_READ"]
    assert [e["node"]["emergency"] for e in everything["edges"]] == [False, True, False]

    by_mode = await history(as_patient, filter={"modes": ["BREAK_GLASS"]})
    assert [e["node"]["actorName"] for e in by_mode["edges"]] == [other_account.display_name]
    assert by_mode["totalCount"] == 1

    by_action = await history(as_patient, filter={"actions": ["ACCESS_DENIED"]})
    assert by_action["totalCount"] == 1 and by_action["edges"][0]["node"]["seq"] == 3

    by_actor = await history(as_patient, filter={"actorId": str(s["pro_account"].id)})
    assert [e["node"]["seq"] for e in by_actor["edges"]] == [3, 1]
    assert by_actor["edges"][0]["node"]["actorId"] == str(s["pro_account"].id)
    # The practitioner id that mySharing shows names the same actor.
    by_practitioner = await history(as_patient, filter={"actorId": str(s["pro"].id)})
    assert [e["node"]["seq"] for e in by_practitioner["edges"]] == [3, 1]

    early = (clock.now() - timedelta(days=1)).isoformat()
    before = await history(as_patient, filter={"to": early})
    assert [e["node"]["seq"] for e in before["edges"]] == [1]
    since = await history(as_patient, filter={"from": early, "actions": ["RECORD_READ"]})
    assert [e["node"]["seq"] for e in since["edges"]] == [2]
    # A bound written with another offset is the same instant (stored times are UTC; SQLite
    # compares them as text).
    second = await AccessEvent.get(record_id=record.id, seq=2)
    paris = (second.at - timedelta(seconds=1)).astimezone(timezone(timedelta(hours=2)))
    since_paris = await history(as_patient, filter={"from": paris.isoformat()})
    assert [e["node"]["seq"] for e in since_paris["edges"]] == [3, 2]
    assert since_paris["totalCount"] == 2
    until_paris = await history(as_patient, filter={"to": paris.isoformat()})
    assert [e["node"]["seq"] for e in until_paris["edges"]] == [1]

    bad = await as_patient.gql(HISTORY, {"filter": {"actorId": "nope"}})
    assert bad.codes == ["BAD_USER_INPUT"]


async def test_closed_record_history_is_still_readable(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    (await s["as_pro"].gql(READ, {"ins": s["record"].ins})).ok()
    await Record.filter(id=s["record"].id).update(status=RecordStatus.CLOSED, closed_at=clock.now())
    page = await history(s["as_patient"])
    assert page["totalCount"] == 1


async def test_refusals(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    (await s["as_pro"].gql(READ, {"ins": s["record"].ins})).ok()
    assert (await s["as_pro"].gql(HISTORY, {"first": 5})).codes == ["FORBIDDEN"]
    assert (await Caller(client).gql(HISTORY, {"first": 5})).codes == ["UNAUTHENTICATED"]
    assert (await s["as_patient"].gql(HISTORY, {"first": 101})).codes == ["BAD_USER_INPUT"]
    assert (await s["as_patient"].gql(HISTORY, {"after": "garbage"})).codes == ["BAD_USER_INPUT"]
    # Another patient sees only their own (empty) history.
    other, _ = await factories.patient()
    as_other = Caller(client, session=await session_for(other))
    page = (await as_other.gql(HISTORY, {"first": 5})).ok()["myAccessHistory"]
    assert page["totalCount"] == 0 and page["edges"] == []


async def test_emergency_review(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    record = s["record"]
    regulator_account, regulator = await factories.practitioner(regulator=True)
    older = await break_glass(record, s["pro"])
    clock.shift(timedelta(minutes=5))
    newer = await break_glass(record, regulator, kind=EmergencyKind.REGULATOR, minutes=30,
                              reason="Appel au 15, douleur thoracique")
    reviews = (await s["as_patient"].gql(REVIEWS)).ok()["myEmergencyAccesses"]
    assert [r["id"] for r in reviews] == [str(newer.id), str(older.id)]
    assert reviews[0]["kind"] == "REGULATOR" and reviews[0]["reviewState"] == "PENDING"
    assert reviews[0]["practitionerName"] == regulator_account.display_name
    assert reviews[0]["profession"] == "medecin"
    assert reviews[0]["reason"] == "Appel au 15, douleur thoracique"

    done = (await s["as_patient"].gql(ACK, {"id": str(older.id)})).ok()["acknowledgeEmergencyAccess"]
    assert done["reviewState"] == "ACKNOWLEDGED"
    done = (await s["as_patient"].gql(REPORT, {"id": str(newer.id), "c": "Je n'ai pas appelé le 15"})
            ).ok()["reportEmergencyAccess"]
    assert done["reviewState"] == "REPORTED"
    assert (await EmergencySession.get(id=newer.id)).review_state == ReviewState.REPORTED
    events = await AccessEvent.filter(record_id=record.id, action="EMERGENCY_REVIEWED").order_by("seq")
    assert [(e.entry_id, e.reason) for e in events] == [
        (str(older.id), await reviewed(older, "ACKNOWLEDGED")),
        (str(newer.id), await reviewed(newer, "REPORTED", "Je n'ai pas appelé le 15")),
    ]
    # The same state again writes nothing more; a report again with a comment keeps the comment.
    (await s["as_patient"].gql(ACK, {"id": str(older.id)})).ok()
    assert await AccessEvent.filter(record_id=record.id, action="EMERGENCY_REVIEWED").count() == 2
    (await s["as_patient"].gql(REPORT, {"id": str(newer.id), "c": "Et je ne connais pas ce médecin"})).ok()
    last = await AccessEvent.filter(record_id=record.id, action="EMERGENCY_REVIEWED").order_by("-seq").first()
    said = await reviewed(newer, "REPORTED", "Et je ne connais pas ce médecin")
    assert last is not None and last.reason == said


async def test_emergency_review_refusals_write_nothing(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    session = await break_glass(s["record"], s["pro"])
    other, _ = await factories.patient()
    as_other = Caller(client, session=await session_for(other))
    assert (await as_other.gql(ACK, {"id": str(session.id)})).codes == ["NOT_FOUND"]
    assert (await as_other.gql(REPORT, {"id": "not-a-uuid"})).codes == ["NOT_FOUND"]
    assert (await s["as_pro"].gql(ACK, {"id": str(session.id)})).codes == ["FORBIDDEN"]
    assert (await s["as_pro"].gql(REVIEWS)).codes == ["FORBIDDEN"]
    assert (await Caller(client).gql(REVIEWS)).codes == ["UNAUTHENTICATED"]
    assert (await as_other.gql(REVIEWS)).ok()["myEmergencyAccesses"] == []
    assert (await EmergencySession.get(id=session.id)).review_state == ReviewState.PENDING
    assert await AccessEvent.filter(action="EMERGENCY_REVIEWED").count() == 0




async def test_query_counts_do_not_grow_with_the_page(client: httpx.AsyncClient) -> None:
    from tests.care_items import QueryCounter

    s = await setup(client)
    (await s["as_pro"].gql(READ, {"ins": s["record"].ins})).ok()
    await break_glass(s["record"], s["pro"])

    async def cost(query: str, variables: dict | None = None) -> int:  # type: ignore[type-arg]
        with QueryCounter() as counter:
            (await s["as_patient"].gql(query, variables)).ok()
        return counter.count

    small_history = await cost(HISTORY, {"first": 20})
    small_reviews = await cost(REVIEWS)
    for _ in range(10):
        (await s["as_pro"].gql(READ, {"ins": s["record"].ins})).ok()
    for _ in range(4):
        await break_glass(s["record"], s["pro"])
    assert await cost(HISTORY, {"first": 20}) == small_history
    assert await cost(REVIEWS) == small_reviews


async def test_root_fields_that_each_read_answer_together(client: httpx.AsyncClient) -> None:
    """Two root fields each run statements: on SQLite they take turns on the one connection's
    lock, handed from one field to the other; both must go on (this answer once never came,
    and the connection stayed taken)."""
    patient, _ = await factories.patient()
    caller = Caller(client, session=await session_for(patient))
    query = "{ myPasskeys { lastUsedAt } myEmergencyAccesses { reviewState } }"
    for _ in range(2):  # the second proves the connection was given back
        answer = await asyncio.wait_for(caller.gql(query), 20)
        assert answer.ok() == {"myPasskeys": [], "myEmergencyAccesses": []}


async def test_a_filter_time_beyond_the_calendar_is_refused(client: httpx.AsyncClient) -> None:
    """A bound whose offset moves it past year 9999 or before year 1 in UTC is refused with
    its field named, not answered as an internal error."""
    s = await setup(client)
    for bound, field in (({"from": "9999-12-31T23:59:59-23:59"}, "filter.from"),
                         ({"to": "0001-01-01T00:00:00+05:00"}, "filter.to")):
        result = await s["as_patient"].gql(HISTORY, {"first": 20, "filter": bound})
        assert result.codes == ["BAD_USER_INPUT"], result.errors
        extensions = result.errors[0]["extensions"]
        assert extensions["reason"] == "OUT_OF_RANGE" and extensions["field"] == field


async def test_the_same_review_sent_at_once_is_written_once(client: httpx.AsyncClient) -> None:
    """Twenty acknowledgements of one emergency access sent together: each answers it
    acknowledged, and the history holds one EMERGENCY_REVIEWED."""
    s = await setup(client)
    session = await break_glass(s["record"], s["pro"])
    answers = await asyncio.gather(*(s["as_patient"].gql(ACK, {"id": str(session.id)}) for _ in range(20)))
    assert {a.ok()["acknowledgeEmergencyAccess"]["reviewState"] for a in answers} == {"ACKNOWLEDGED"}
    assert await AccessEvent.filter(record_id=s["record"].id, action="EMERGENCY_REVIEWED").count() == 1
