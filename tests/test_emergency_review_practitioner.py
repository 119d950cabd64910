"""An emergency access to review names its practitioner's id (`practitionerId`), the one
`blockPractitioner` takes and `mySharing` gives, so that the patient's page blocks them from the
access's card: to the record's owner only, at no extra statement per access."""

from __future__ import annotations

import httpx

from backend.models import BlockedPractitioner, EmergencySession
from tests import factories
from tests.care_items import QueryCounter
from tests.conftest import Caller, session_for
from tests.history_helpers import break_glass, setup

PAGE = """query($first: Int!) { myEmergencyAccessReviews(first: $first) {
  edges { node { id practitionerId practitionerName } } } }"""
PAGE_WITHOUT = """query($first: Int!) { myEmergencyAccessReviews(first: $first) {
  edges { node { id practitionerName } } } }"""
LIST = "{ myEmergencyAccesses { id practitionerId } }"
REPORT = "mutation($id: ID!) { reportEmergencyAccess(id: $id) { id practitionerId reviewState } }"
BLOCK = """mutation($id: ID!) { blockPractitioner(practitionerId: $id) {
  sharing { blocked { id } } } }"""


async def test_each_access_names_the_id_blockPractitioner_takes(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    other_account, other = await factories.practitioner()
    first = await break_glass(s["record"], s["pro"])
    second = await break_glass(s["record"], other, reason="Malaise dans la rue, inconsciente")
    page = (await s["as_patient"].gql(PAGE, {"first": 10})).ok()["myEmergencyAccessReviews"]
    named = {e["node"]["id"]: e["node"]["practitionerId"] for e in page["edges"]}
    assert named == {str(first.id): str(s["pro"].id), str(second.id): str(other.id)}
    listed = (await s["as_patient"].gql(LIST)).ok()["myEmergencyAccesses"]
    assert {r["id"]: r["practitionerId"] for r in listed} == named
    # A review's answer names them too, and that id is the one a block takes and mySharing gives.
    reported = (await s["as_patient"].gql(REPORT, {"id": str(second.id)})).ok()["reportEmergencyAccess"]
    assert reported["practitionerId"] == str(other.id)
    blocked = (await s["as_patient"].gql(BLOCK, {"id": reported["practitionerId"]})).ok()
    assert blocked["blockPractitioner"]["sharing"]["blocked"] == [{"id": str(other.id)}]
    assert await BlockedPractitioner.filter(record_id=s["record"].id).count() == 1


async def test_only_the_records_owner_reads_it(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    session = await break_glass(s["record"], s["pro"])
    for query in (PAGE, LIST):
        answer = await s["as_pro"].gql(query, {"first": 5})
        assert answer.codes == ["FORBIDDEN"] and not answer.data, answer
        assert (await Caller(client).gql(query, {"first": 5})).codes == ["UNAUTHENTICATED"]
    # Another patient sees none of this record's accesses; nor reviews one (nothing written).
    nobody, _ = await factories.patient()
    as_nobody = Caller(client, session=await session_for(nobody))
    assert (await as_nobody.gql(PAGE, {"first": 5})).ok()["myEmergencyAccessReviews"]["edges"] == []
    assert (await as_nobody.gql(LIST)).ok()["myEmergencyAccesses"] == []
    refused = await as_nobody.gql(REPORT, {"id": str(session.id)})
    assert refused.codes and not refused.data
    assert (await EmergencySession.get(id=session.id)).review_state == session.review_state


async def test_the_id_costs_no_statement(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    for n in range(5):
        other_account, other = await factories.practitioner()
        await break_glass(s["record"], other, reason=f"Passage aux urgences numéro {n + 1}")

    async def cost(query: str) -> int:
        with QueryCounter() as counter:
            (await s["as_patient"].gql(query, {"first": 20})).ok()
        return counter.count

    assert await cost(PAGE) == await cost(PAGE_WITHOUT)
