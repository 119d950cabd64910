"""The patient's notices: first access by a new professional, new documents, security changes."""

from __future__ import annotations

import httpx

from backend.audit.writer import Actor, PendingEvent, append
from backend.domain.enums import AccessAction, Profession, Section
from backend.models import Grant, OutboxMessage, Record
from backend.notify import notify_new_document, notify_security
from tests import factories
from tests.conftest import Caller, session_for
from tests.history_helpers import READ, grant, setup
from tests.smtp import SmtpServer, smtp_server  # noqa: F401 — the fixture

MEDICAL = ("Amoxicilline", "Pénicilline", "MEDICATIONS", "ALLERGIES")


async def notices_to(address: str) -> list[OutboxMessage]:
    return await OutboxMessage.filter(recipient=address).order_by("created_at")


async def test_the_practitioner_who_opened_the_record_is_new_at_their_first_read(
    client: httpx.AsyncClient,
) -> None:
    """Opening a record at the point of care comes before its patient has an account: the
    practitioner's first read of it afterwards is a first access, and the patient is told."""
    s = await setup(client)
    record, email, pro_account = s["record"], s["patient"].email, s["pro_account"]
    opener = Actor(pro_account.id, pro_account.display_name, "medecin", "PRACTITIONER")
    await append(opener, PendingEvent(record.id, AccessAction.RECORD_OPENED))
    assert await notices_to(email) == []
    (await s["as_pro"].gql(READ, {"ins": record.ins})).ok()
    (await s["as_pro"].gql(READ, {"ins": record.ins})).ok()
    assert len(await notices_to(email)) == 1


async def test_first_access_by_a_new_professional_emails_the_patient_once(
    client: httpx.AsyncClient, smtp_server: SmtpServer  # noqa: F811
) -> None:
    s = await setup(client)
    record, email = s["record"], s["patient"].email
    (await s["as_pro"].gql(READ, {"ins": record.ins})).ok()
    (await s["as_pro"].gql(READ, {"ins": record.ins})).ok()
    assert len(await notices_to(email)) == 1

    # A second professional, new to this record: one more notice.
    other_account, other = await factories.practitioner(Profession.PHARMACIEN)
    await grant(record, other, Section.MEDICATIONS)
    as_other = Caller(client, session=await session_for(other_account))
    (await as_other.gql(READ, {"ins": record.ins})).ok()
    (await as_other.gql(READ, {"ins": record.ins})).ok()
    assert len(await notices_to(email)) == 2

    assert await smtp_server.deliver() == 2
    received = smtp_server.to(email)
    assert len(received) == 2
    # The profession as the patient reads it, not its code.
    assert "(médecin)" in received[0].body
    body = received[1].body
    assert other_account.display_name in body and "pharmacien" in body
    assert "http://localhost:8000/historique" in body
    assert "autorisation" in body  # how: under the patient's grant
    for word in MEDICAL:
        assert word not in body and word not in received[1].subject
    assert record.ins not in body


async def test_a_refusal_is_not_a_first_access(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    record, email = s["record"], s["patient"].email
    await Grant.filter(record_id=record.id).delete()
    assert (await s["as_pro"].gql(READ, {"ins": record.ins})).codes == ["FORBIDDEN"]
    assert await notices_to(email) == []
    # Once granted, the first real access is notified.
    await grant(record, s["pro"], Section.MEDICATIONS)
    (await s["as_pro"].gql(READ, {"ins": record.ins})).ok()
    assert len(await notices_to(email)) == 1


async def test_owner_reads_send_nothing(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    (await s["as_patient"].gql("{ myRecord { ins medications { totalCount } } }")).ok()
    assert await OutboxMessage.all().count() == 0


async def test_new_document_notice_only_when_asked(client: httpx.AsyncClient) -> None:
    patient, record = await factories.patient()
    assert await notify_new_document(record.id) is None
    assert await notices_to(patient.email or "") == []
    await Record.filter(id=record.id).update(notify_new_documents=True)
    message = await notify_new_document(record.id)
    assert message is not None and message.recipient == patient.email
    assert "/historique" in message.body and message.record_id == record.id  # type: ignore[attr-defined]


async def test_security_notice(client: httpx.AsyncClient, smtp_server: SmtpServer) -> None:  # noqa: F811
    patient, _ = await factories.patient()
    await notify_security(patient, "mot de passe modifié")
    await smtp_server.deliver()
    (received,) = smtp_server.to(patient.email or "")
    assert "mot de passe modifié" in received.body and factories.PASSWORD not in received.body


async def test_break_glass_by_a_new_professional_is_one_notice(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    record, email = s["record"], s["patient"].email
    await Grant.filter(record_id=record.id).delete()
    mutation = """mutation($ins: String!) {
      openBreakGlass(ins: $ins, reason: "Patient inconscient aux urgences") {
        record { allergies { totalCount } } } }"""
    (await s["as_pro"].gql(mutation, {"ins": record.ins})).ok()
    (await s["as_pro"].gql(READ, {"ins": record.ins})).ok()
    notices = await notices_to(email)
    assert len(notices) == 1
    assert "urgence" in notices[0].subject
