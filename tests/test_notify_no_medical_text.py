"""What the patient is e-mailed carries no medical text (DESIGN §4): a first access, a
break-glass and a regulator access, a new document, a security change, delivered to a real
SMTP server, hold no entry title, no stated reason, no INS and no birth date — who, when,
how and a link only."""

from __future__ import annotations

import httpx

from backend.domain.enums import Section
from backend.models import Record
from backend.notify import notify_new_document, notify_security
from tests import factories
from tests.conftest import Caller, session_for
from tests.history_helpers import READ, setup
from tests.smtp import SmtpServer

ARGS = "($ins: String!, $r: String!)"
BREAK_GLASS = f"mutation{ARGS} {{ openBreakGlass(ins: $ins, reason: $r) {{ expiresAt }} }}"
REGULATOR = f"mutation{ARGS} {{ regulatorAccess(ins: $ins, reason: $r) {{ expiresAt }} }}"
BREAK_GLASS_REASON = "Suspicion d'AVC ischémique, patient aphasique"
REGULATOR_REASON = "Douleur thoracique, antécédent d'infarctus"


async def test_no_notice_holds_medical_text(client: httpx.AsyncClient, smtp_server: SmtpServer) -> None:
    s = await setup(client)  # entries « Amoxicilline » and « Pénicilline »
    record, patient = s["record"], s["patient"]
    await factories.entry(record, Section.MEDICAL_HISTORY, title="Séropositivité VIH")
    await Record.filter(id=record.id).update(notify_new_documents=True)
    (await s["as_pro"].gql(READ, {"ins": record.ins})).ok()  # a first access
    doctor, _ = await factories.practitioner()
    (await Caller(client, session=await session_for(doctor)).gql(
        BREAK_GLASS, {"ins": record.ins, "r": BREAK_GLASS_REASON})).ok()
    regulator, _ = await factories.practitioner(regulator=True)
    (await Caller(client, session=await session_for(regulator)).gql(
        REGULATOR, {"ins": record.ins, "r": REGULATOR_REASON})).ok()
    await notify_new_document(record.id)
    await notify_security(patient, "mot de passe modifié")

    await smtp_server.deliver()
    received = smtp_server.to(patient.email or "")
    assert len(received) == 5
    for message in received:
        text = f"{message.subject}\n{message.body}"
        for medical in ("Amoxicilline", "Pénicilline", "VIH", "AVC", "aphasique", "thoracique",
                        "infarctus"):
            assert medical.lower() not in text.lower(), (medical, message.subject)
        assert record.ins not in text and "1985" not in text and "12/06" not in text
        assert "/historique" in message.body
