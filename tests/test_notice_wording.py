"""What the patient's e-mails say along their record's life: each says what the patient can do
about it, where (a link to the page), and until when, as the page lets them."""

from __future__ import annotations

import datetime as dt

import httpx

from backend import clock
from backend.domain.enums import OutboxChannel, Section
from backend.models import ActivationCode, Grant, OutboxMessage, Record
from backend.notify.notices import when
from tests import factories
from tests.auth_flows import start
from tests.care_items import IMPORT, insurer_token, medication_item
from tests.conftest import Caller, session_for
from tests.history_helpers import READ, grant
from tests.passkey_flows import register, stored
from tests.soft_authenticator import SoftAuthenticator

FIRST_ACCESS = "DMP : un nouveau professionnel a accédé à votre dossier"
EMERGENCY = "DMP : accès d'urgence à votre dossier"
OPEN = """mutation($input: OpenRecordInput!) { openRecordForPatient(input: $input) { ins } }"""
REMOVE_PASSKEY = "mutation($id: ID!) { removePasskey(id: $id) }"
BREAK_GLASS = """mutation($ins: String!) {
  openBreakGlass(ins: $ins, reason: "Patient inconscient aux urgences") { expiresAt } }"""


async def _first_access_body(email: str) -> str:
    [mail] = await OutboxMessage.filter(recipient=email, subject=FIRST_ACCESS)
    return mail.body


async def test_the_treating_physicians_first_access_offers_changing_physician_not_blocking(
    client: httpx.AsyncClient,
) -> None:
    """The treating physician cannot be blocked (DESIGN §3, rule 6): the notice does not offer
    it, but says where to name another physician or none."""
    patient, record = await factories.patient()
    doctor_account, doctor = await factories.practitioner()
    await Record.filter(id=record.id).update(treating_physician_id=doctor.id)
    as_doctor = Caller(client, session=await session_for(doctor_account))
    (await as_doctor.gql(READ, {"ins": record.ins})).ok()
    body = await _first_access_body(patient.email or "")
    assert "en tant que médecin traitant" in body
    assert "bloquer" not in body
    assert "changer de médecin traitant, ou ne plus en avoir, sur la page Partage : " \
        "http://localhost:8000/partage" in body


async def test_a_granted_professionals_first_access_says_where_to_withdraw_or_block(
    client: httpx.AsyncClient,
) -> None:
    patient, record = await factories.patient()
    pro_account, pro = await factories.practitioner()
    await grant(record, pro, Section.MEDICATIONS)
    as_pro = Caller(client, session=await session_for(pro_account))
    (await as_pro.gql(READ, {"ins": record.ins})).ok()
    body = await _first_access_body(patient.email or "")
    assert "retirer son accès ou bloquer ce professionnel sur la page Partage : " \
        "http://localhost:8000/partage" in body
    assert "votre espace" not in body
    assert await Grant.filter(record_id=record.id).count() == 1


async def test_the_emergency_notice_says_until_when_the_access_lasts_and_that_a_report_ends_it(
    client: httpx.AsyncClient,
) -> None:
    """Opened for 60 minutes: the patient reading it at once knows it is still open, until when,
    and that reporting it on the history page ends it (docs/api.md, reportEmergencyAccess)."""
    patient, record = await factories.patient()
    pro_account, _ = await factories.practitioner()
    as_pro = Caller(client, session=await session_for(pro_account))
    opened = (await as_pro.gql(BREAK_GLASS, {"ins": record.ins})).ok()["openBreakGlass"]
    [mail] = await OutboxMessage.filter(recipient=patient.email, subject=EMERGENCY)
    ends = dt.datetime.fromisoformat(opened["expiresAt"])
    assert f"- fin de l'accès : le {when(ends)}\n" in mail.body
    assert "Le signaler met fin à cet accès s'il est encore ouvert." in mail.body


async def test_the_activation_email_links_to_the_activation_page_and_says_until_when(
    client: httpx.AsyncClient,
) -> None:
    """The insurer's import e-mails the code of the record it opens: the patient is told where to
    type it (the page's address, not « the DMP's site »), with which number, and until when the
    code works (it may be read days later), in the words the activation page uses."""
    insurer = Caller(client, token=await insurer_token())
    ins = factories.new_ins()
    item = medication_item(ins, 1, contactEmail="lea@test.dmp")
    (await insurer.gql(IMPORT, {"items": [item]})).ok()
    [mail] = await OutboxMessage.filter(recipient="lea@test.dmp")
    code = await ActivationCode.get(record_id=(await Record.get(ins=ins)).id)
    assert mail.subject == "DMP : activez votre dossier médical partagé"
    assert mail.body.startswith("Bonjour,\n\n")
    assert f"Il est valable jusqu'au {when(code.expires_at)}.\n" in mail.body
    assert "Activez votre dossier sur la page http://localhost:8000/activation avec votre numéro " \
        "de sécurité sociale (INS, 15 caractères, inscrit sur votre carte Vitale) et ce code.\n" in mail.body


async def test_the_activation_email_at_the_point_of_care_says_the_same(client: httpx.AsyncClient) -> None:
    doctor_account, _ = await factories.practitioner()
    as_doctor = Caller(client, session=await session_for(doctor_account))
    ins = factories.new_ins()
    (await as_doctor.gql(OPEN, {"input": {
        "ins": ins, "firstName": "Léa", "lastName": "Martin", "birthDate": "1990-04-02",
        "email": "lea@test.dmp",
    }})).ok()
    [mail] = await OutboxMessage.filter(recipient="lea@test.dmp")
    code = await ActivationCode.get(record_id=(await Record.get(ins=ins)).id)
    assert f"Il est valable jusqu'au {when(code.expires_at)}.\n" in mail.body
    assert "http://localhost:8000/activation" in mail.body


async def test_a_passkey_notice_says_when_as_the_other_security_notices_do(client: httpx.AsyncClient) -> None:
    """A passkey added or removed is a change to how the account signs in, told as a new password
    is (backend/auth/alerts.py): when it happened, and what to do if it was not the holder. A
    passkey left unnamed is not named by its default name (« Une clé d'accès (« Clé d'accès ») »)."""
    clock.shift(dt.datetime(2027, 1, 14, 9, 30, 20, tzinfo=dt.UTC) - clock.now())
    account, _ = await factories.patient()
    caller = Caller(client, session=await session_for(account))
    cred = await register(caller, SoftAuthenticator(), name=None)
    await register(caller, SoftAuthenticator(), name="Ordinateur")
    row = await stored(cred)
    (await caller.gql(REMOVE_PASSKEY, {"id": str(row.id)})).ok()
    added, named, removed = await OutboxMessage.filter(account_id=account.id).order_by("created_at")
    footer = ("Si vous n'êtes pas à l'origine de cette opération, changez votre mot de passe et "
              "contactez le support du DMP.\n")
    for mail in (added, named, removed):
        assert "Date : le 14/01/2027 à 10:30 (heure de Paris).\n" in mail.body
        assert mail.body.endswith(footer)
    assert added.body.startswith("Une clé d'accès a été ajoutée à votre compte.\n")
    assert named.body.startswith("Une clé d'accès (« Ordinateur ») a été ajoutée à votre compte.\n")
    assert removed.body.startswith("Une clé d'accès a été retirée de votre compte.\n")


async def test_a_cancelled_deletion_is_mailed_as_its_request_was(client: httpx.AsyncClient) -> None:
    """The request's e-mail says « if it was not you, cancel it »; the cancellation is told too:
    a patient who asked for their record's deletion learns that it will not happen, and who
    cancelled it may not be them. Nothing medical; the page to ask again."""
    patient, record = await factories.patient(first_name="Léa", last_name="Martin")
    owner = Caller(client, session=await session_for(patient))
    (await owner.gql("mutation { requestRecordDeletion { status } }")).ok()
    (await owner.gql("mutation { cancelRecordDeletion { status } }")).ok()
    mails = await OutboxMessage.filter(recipient=patient.email).order_by("created_at")
    assert [m.subject for m in mails] == [
        "DMP : suppression de votre dossier demandée", "DMP : suppression de votre dossier annulée"]
    body = mails[1].body
    assert body.startswith("Bonjour,\n\nLa demande de suppression de votre dossier médical partagé a été "
                           "annulée depuis votre espace le ")
    assert "Votre dossier est conservé, avec ses autorisations.\n" in body
    assert "http://localhost:8000/mon-compte" in body
    assert mails[1].record_id == record.id  # type: ignore[attr-defined]
    for secret in (record.ins, "Léa", "Martin"):
        assert secret not in body


async def test_a_cancelled_deletion_of_a_closed_record_names_the_page_to_reopen_it(
    client: httpx.AsyncClient,
) -> None:
    """« vous pouvez le rouvrir depuis la même page » came before any page was named."""
    patient, _ = await factories.patient()
    owner = Caller(client, session=await session_for(patient))
    (await owner.gql("mutation { closeMyRecord { status } }")).ok()
    (await owner.gql("mutation { requestRecordDeletion { status } }")).ok()
    (await owner.gql("mutation { cancelRecordDeletion { status } }")).ok()
    mail = await OutboxMessage.get(
        recipient=patient.email, subject="DMP : suppression de votre dossier annulée")
    assert ("\nVotre dossier est conservé, fermé : vous pouvez le rouvrir sur "
            "http://localhost:8000/mon-compte\n") in mail.body


async def test_the_activation_text_gives_the_page_and_the_day(client: httpx.AsyncClient) -> None:
    """The day and the time (in France) the code stops working: the day alone, « valable
    jusqu'au 06/01/2027 », reads as the whole of that day, and the code ends at the hour it
    was given."""
    doctor_account, _ = await factories.practitioner()
    as_doctor = Caller(client, session=await session_for(doctor_account))
    ins = factories.new_ins()
    (await as_doctor.gql(OPEN, {"input": {
        "ins": ins, "firstName": "Léa", "lastName": "Martin", "birthDate": "1990-04-02",
        "phone": "06 12 34 56 78",
    }})).ok()
    [text] = await OutboxMessage.filter(channel=OutboxChannel.SMS)
    code = await ActivationCode.get(record_id=(await Record.get(ins=ins)).id)
    day = code.expires_at.astimezone(clock.SERVICE_ZONE).strftime("%d/%m/%Y à %H:%M")
    assert f"valable jusqu'au {day}. Activez votre dossier sur http://localhost:8000/activation " in text.body


async def test_a_codes_subject_names_the_service_as_the_notices_do(client: httpx.AsyncClient) -> None:
    """In an inbox, « Votre code de connexion » alone does not say which service sent it; the
    notices' subjects begin « DMP : »."""
    patient, _ = await factories.patient()
    await start(client, patient.email or "", factories.PASSWORD)
    [mail] = await OutboxMessage.filter(recipient=patient.email)
    assert mail.subject == "DMP : votre code de connexion"
    assert mail.body.startswith("Votre code DMP pour vous connecter : ")
