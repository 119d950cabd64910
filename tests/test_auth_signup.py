"""Opening a record at the point of care and activating it online (DESIGN §2, identity proof)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from backend.audit import reasons
from backend.domain.enums import RecordStatus
from backend.models import AccessEvent, Account, ActivationCode, OutboxMessage, Record, Session
from tests import factories
from tests.auth_flows import ME, session_cookie
from tests.conftest import Caller, session_for
from tests.smtp import SmtpServer
from tests.test_authz_reading import count_queries

OPEN = """mutation($input: OpenRecordInput!) {
  openRecordForPatient(input: $input) { ins activationCode expiresAt sentTo } }"""
CREATE = """mutation($input: CreateRecordInput!) { createRecord(input: $input) { attemptToken sentTo } }"""
VERIFY = """mutation($t: String!, $c: String!) {
  verifyContact(attemptToken: $t, code: $c) { me { id role displayName } } }"""
STRONG = "un mot de passe long et rare 42"


def _identity(ins: str, **extra: Any) -> dict[str, Any]:
    return {"ins": ins, "firstName": "Léa", "lastName": "Martin", "birthDate": "1990-04-02", **extra}


async def _doctor(client: httpx.AsyncClient) -> Caller:
    account, _ = await factories.practitioner()
    return Caller(client, session=await session_for(account))


async def test_practitioner_opens_then_patient_activates(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    doctor = await _doctor(client)
    ins = factories.new_ins()
    opened = (await doctor.gql(OPEN, {"input": _identity(ins, email="lea@test.dmp")})).ok()
    payload = opened["openRecordForPatient"]
    assert payload["ins"] == ins and payload["sentTo"] == "l•••@t•••.dmp"
    record = await Record.get(ins=ins)
    assert record.status == RecordStatus.PENDING and record.owner_id is None  # type: ignore[attr-defined]
    events = await AccessEvent.filter(record_id=record.id).values_list("action", flat=True)
    assert list(events) == ["RECORD_OPENED"]
    # The code handed over is also e-mailed.
    mailed = await smtp_server.activation_code_for("lea@test.dmp")
    assert mailed == payload["activationCode"]

    created = (await Caller(client).gql(CREATE, {"input": {
        "ins": ins, "activationCode": mailed.lower().replace("-", " "), "email": "Lea.Martin@test.dmp",
        "password": STRONG,
    }})).ok()["createRecord"]
    assert created["sentTo"] == "l•••@t•••.dmp"
    account = await Account.get(email="lea.martin@test.dmp")
    assert account.role == "PATIENT" and not account.email_verified
    record = await Record.get(ins=ins)
    assert record.status == RecordStatus.ACTIVE and record.owner_id == account.id  # type: ignore[attr-defined]
    assert record.activated_at is not None
    assert (await ActivationCode.get(record_id=record.id)).used_at is not None
    activated = await AccessEvent.get(record_id=record.id, action="RECORD_ACTIVATED")
    assert activated.actor_id == str(account.id) and activated.actor_role == "PATIENT"

    code = await smtp_server.code_for("lea.martin@test.dmp")
    verified = await Caller(client).gql(VERIFY, {"t": created["attemptToken"], "c": code})
    assert verified.ok()["verifyContact"]["me"]["displayName"] == "Léa Martin"
    cookie = session_cookie(verified)
    assert cookie
    assert (await Caller(client, session=cookie).gql(ME)).ok()["me"]["role"] == "PATIENT"
    assert (await Account.get(id=account.id)).email_verified
    # The activation code is single use.
    again = await Caller(client).gql(CREATE, {"input": {
        "ins": ins, "activationCode": mailed, "email": "other@test.dmp", "password": STRONG}})
    assert again.codes == ["BAD_USER_INPUT"]
    assert not await Account.filter(email="other@test.dmp").exists()


async def test_the_contacts_given_are_written_once_with_a_new_record_and_replace_those_on_file(
    client: httpx.AsyncClient,
) -> None:
    doctor = await _doctor(client)
    ins = factories.new_ins()
    with count_queries() as statements:
        (await doctor.gql(OPEN, {"input": _identity(ins, email="lea@test.dmp", phone="06 98 76 54 30")})).ok()
    record = await Record.get(ins=ins)
    assert (record.pending_contact, record.pending_phone) == ("lea@test.dmp", "06 98 76 54 30")
    assert not [s for s in statements if s.startswith('UPDATE "record"') and "pending_" in s]
    # Opened again with a new address: the one on file is replaced, the phone kept.
    (await doctor.gql(OPEN, {"input": _identity(ins, email="lea.martin@test.dmp")})).ok()
    record = await Record.get(ins=ins)
    assert (record.pending_contact, record.pending_phone) == ("lea.martin@test.dmp", "06 98 76 54 30")


async def test_reopening_a_pending_record_issues_a_new_code(client: httpx.AsyncClient) -> None:
    doctor = await _doctor(client)
    ins = factories.new_ins()
    first = (await doctor.gql(OPEN, {"input": _identity(ins)})).ok()["openRecordForPatient"]
    second = (await doctor.gql(OPEN, {"input": _identity(ins)})).ok()["openRecordForPatient"]
    assert first["activationCode"] != second["activationCode"] and second["sentTo"] is None
    assert await Record.filter(ins=ins).count() == 1
    stale = await Caller(client).gql(CREATE, {"input": {
        "ins": ins, "activationCode": first["activationCode"], "email": "x@test.dmp", "password": STRONG}})
    assert stale.codes == ["BAD_USER_INPUT"]
    assert (await Record.get(ins=ins)).status == RecordStatus.PENDING


async def test_opening_an_active_record_is_a_conflict(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    doctor = await _doctor(client)
    result = await doctor.gql(OPEN, {"input": _identity(record.ins)})
    assert result.codes == ["CONFLICT"]
    assert await ActivationCode.filter(record_id=record.id).count() == 0
    # The patient sees the attempt in their history.
    (event,) = await AccessEvent.filter(record_id=record.id)
    assert event.action == "ACCESS_DENIED" and event.reason == "ouverture d'un dossier existant"


async def test_only_practitioners_open_records(client: httpx.AsyncClient) -> None:
    from backend import accounts

    patient, _ = await factories.patient()
    ins = factories.new_ins()
    anonymous = await Caller(client).gql(OPEN, {"input": _identity(ins)})
    assert anonymous.codes == ["UNAUTHENTICATED"]
    as_patient = await Caller(client, session=await session_for(patient)).gql(OPEN, {"input": _identity(ins)})
    assert as_patient.codes == ["FORBIDDEN"]
    _, insurer_token = await accounts.create_token("cnam", ["insurer:import"], organization="CNAM")
    as_insurer = await Caller(client, token=insurer_token).gql(OPEN, {"input": _identity(ins)})
    assert as_insurer.codes == ["FORBIDDEN"]
    assert not await Record.filter(ins=ins).exists()
    _, practitioner = await factories.practitioner()
    _, token = await accounts.create_token("cabinet", ["practitioner"], practitioner_rpps=practitioner.rpps)
    by_token = await Caller(client, token=token).gql(OPEN, {"input": _identity(ins)})
    assert by_token.ok()["openRecordForPatient"]["ins"] == ins


async def test_invalid_identity_refused(client: httpx.AsyncClient) -> None:
    doctor = await _doctor(client)
    bad_ins = await doctor.gql(OPEN, {"input": _identity("185057500000199")})
    assert bad_ins.codes == ["BAD_USER_INPUT"] and "INS" in bad_ins.errors[0]["message"]
    future = await doctor.gql(OPEN, {"input": {**_identity(factories.new_ins()), "birthDate": "2999-01-01"}})
    assert future.codes == ["BAD_USER_INPUT"]
    assert await Record.all().count() == 0


async def _pending(client: httpx.AsyncClient) -> tuple[str, str]:
    doctor = await _doctor(client)
    ins = factories.new_ins()
    opened = (await doctor.gql(OPEN, {"input": _identity(ins)})).ok()["openRecordForPatient"]
    return ins, opened["activationCode"]


async def test_weak_password_refused_and_nothing_written(client: httpx.AsyncClient) -> None:
    ins, code = await _pending(client)
    for password in ("court", "motdepasse1234", "Password1234"):
        result = await Caller(client).gql(CREATE, {"input": {
            "ins": ins, "activationCode": code, "email": "weak@test.dmp", "password": password}})
        assert result.codes == ["BAD_USER_INPUT"], password
    assert not await Account.filter(email="weak@test.dmp").exists()
    row = await ActivationCode.get(record__ins=ins)
    assert row.used_at is None and row.tries == 0
    # The code still works with a good password.
    ok = await Caller(client).gql(CREATE, {"input": {
        "ins": ins, "activationCode": code, "email": "weak@test.dmp", "password": STRONG}})
    ok.ok()


async def test_unknown_ins_wrong_code_and_taken_email_look_alike(client: httpx.AsyncClient) -> None:
    ins, code = await _pending(client)
    taken, _ = await factories.patient()
    attempts = {
        "unknown INS": {"ins": factories.new_ins(), "activationCode": code, "email": "n1@test.dmp"},
        "wrong code": {"ins": ins, "activationCode": "AAAA-BBBB-CCCC", "email": "n2@test.dmp"},
        "e-mail taken": {"ins": ins, "activationCode": code, "email": taken.email},
    }
    answers = []
    for case in attempts.values():
        result = await Caller(client).gql(CREATE, {"input": {**case, "password": STRONG}})
        answers.append((result.codes, result.errors[0]["message"], result.data))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == ["BAD_USER_INPUT"] and answers[0][2] is None
    assert (await Record.get(ins=ins)).status == RecordStatus.PENDING
    assert await Account.filter(role="PATIENT").count() == 1


async def test_activation_code_tries_are_bounded(client: httpx.AsyncClient) -> None:
    ins, code = await _pending(client)
    for _ in range(5):
        result = await Caller(client).gql(CREATE, {"input": {
            "ins": ins, "activationCode": "AAAA-BBBB-CCCC", "email": "t@test.dmp", "password": STRONG}})
        assert result.codes == ["BAD_USER_INPUT"]
    late = await Caller(client).gql(CREATE, {"input": {
        "ins": ins, "activationCode": code, "email": "t@test.dmp", "password": STRONG}})
    assert late.codes == ["BAD_USER_INPUT"]
    assert (await Record.get(ins=ins)).status == RecordStatus.PENDING


async def test_parallel_activation_tries_count_as_five(client: httpx.AsyncClient) -> None:
    ins, code = await _pending(client)
    wrong = {"ins": ins, "activationCode": "AAAA-BBBB-CCCC", "email": "t@test.dmp", "password": STRONG}
    results = await asyncio.gather(*(Caller(client).gql(CREATE, {"input": wrong}) for _ in range(20)))
    assert all(r.codes == ["BAD_USER_INPUT"] for r in results)
    record = await Record.get(ins=ins)
    assert (await ActivationCode.get(record_id=record.id, used_at=None)).tries == 5
    late = await Caller(client).gql(CREATE, {"input": {**wrong, "activationCode": code}})
    assert late.codes == ["BAD_USER_INPUT"]
    assert (await Record.get(ins=ins)).status == RecordStatus.PENDING


async def test_code_channel_sms_needs_a_phone(client: httpx.AsyncClient) -> None:
    ins, code = await _pending(client)
    result = await Caller(client).gql(CREATE, {"input": {
        "ins": ins, "activationCode": code, "email": "s@test.dmp", "password": STRONG, "codeChannel": "SMS"}})
    assert result.codes == ["BAD_USER_INPUT"]
    assert not await Account.filter(email="s@test.dmp").exists()
    assert await Session.all().count() == 1  # the doctor's only


def _texts_to(phone: str) -> dict[str, str]:
    """The bodies texted to `phone` by the development SMS sender (saved as files, which
    stay for the whole session), by file name."""
    from backend import config

    texts = {}
    for path in config.settings().mail_dir.glob("*-sms-*.json"):
        item = json.loads(path.read_text())
        if item["to"] == phone:
            texts[path.name] = item["body"]
    return texts


async def test_the_activation_code_is_texted_to_a_phone_given_at_the_point_of_care(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    doctor = await _doctor(client)
    ins, phone = factories.new_ins(), "+33 6 98 76 54 21"
    earlier = _texts_to(phone)  # other tests may text the same number
    opened = (await doctor.gql(OPEN, {"input": _identity(ins, phone=phone)})).ok()["openRecordForPatient"]
    assert opened["sentTo"] == "•• •• •• •• 21"
    await smtp_server.deliver()
    texted = [body for name, body in _texts_to(phone).items() if name not in earlier]
    assert len(texted) == 1 and opened["activationCode"] in texted[0]
    assert smtp_server.messages == []  # no e-mail address was given: nothing mailed


@pytest.mark.usefixtures("texts_not_sent")
async def test_a_text_the_service_does_not_send_is_not_claimed(client: httpx.AsyncClient) -> None:
    """In production without an SMS plug-in, no text is queued and the practitioner is not
    told the code was texted: `sentTo` is null, and the code they hand over is in the answer."""
    doctor = await _doctor(client)
    ins = factories.new_ins()
    opened = (await doctor.gql(OPEN, {"input": _identity(ins, phone="+33 6 98 76 54 25")})).ok()
    assert opened["openRecordForPatient"]["sentTo"] is None
    assert opened["openRecordForPatient"]["activationCode"]
    record = await Record.get(ins=ins)
    assert record.pending_phone == "+33 6 98 76 54 25"
    assert await OutboxMessage.filter(record_id=record.id).count() == 0  # the code is not written out
    # Support cannot resend it there either: told why, and no new code replaces the first.
    support = Caller(client, session=await session_for(await factories.support()))
    codes = await ActivationCode.filter(record_id=record.id).count()
    refused = await support.gql("mutation($i: String!) { resendActivation(identifier: $i) }", {"i": ins})
    assert refused.codes == ["BAD_USER_INPUT"]
    assert refused.errors[0]["extensions"]["reason"] == "SMS_UNAVAILABLE"
    assert await ActivationCode.filter(record_id=record.id).count() == codes
    # What the refusal told support (the contacts on file) is written as support's read of it.
    support_events = AccessEvent.filter(record_id=record.id, action="SUPPORT_ACTION")
    assert await support_events.values_list("reason", flat=True) == [reasons.SUPPORT_READ]


async def test_support_sends_a_new_code_to_the_phone_given_at_the_point_of_care(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    """A patient given no e-mail address, whose text was lost: support texts a new code to
    the number the practitioner was given, and only there; activating forgets it."""
    doctor = await _doctor(client)
    support = Caller(client, session=await session_for(await factories.support()))
    ins, phone = factories.new_ins(), "+33 6 98 76 54 32"
    earlier = _texts_to(phone)
    first = (await doctor.gql(OPEN, {"input": _identity(ins, phone=phone)})).ok()["openRecordForPatient"]
    record = await Record.get(ins=ins)
    assert (record.pending_contact, record.pending_phone) == (None, phone)
    seen = (await support.gql(
        "query($i: String!) { supportAccount(identifier: $i) { maskedEmail maskedPhone } }", {"i": ins}
    )).ok()["supportAccount"]
    assert seen == {"maskedEmail": None, "maskedPhone": "•••••••••32"}

    resent = await support.gql("mutation($i: String!) { resendActivation(identifier: $i) }", {"i": ins})
    assert resent.ok()["resendActivation"] is True
    await smtp_server.deliver()
    texted = [body for name, body in sorted(_texts_to(phone).items()) if name not in earlier]
    assert len(texted) == 2 and first["activationCode"] in texted[0]
    [code] = [word.rstrip(".") for word in texted[1].split() if word.count("-") == 2]
    assert code != first["activationCode"]
    assert smtp_server.messages == []  # no e-mail address on file: nothing mailed
    support_events = await AccessEvent.filter(record_id=record.id, action="SUPPORT_ACTION").order_by("seq")
    assert [e.reason for e in support_events] == [
        "consultation du compte par le support", "renvoi du code d'activation au contact connu"]

    stale = await Caller(client).gql(CREATE, {"input": {
        "ins": ins, "activationCode": first["activationCode"], "email": "lea@test.dmp", "password": STRONG}})
    assert stale.codes == ["BAD_USER_INPUT"]
    (await Caller(client).gql(CREATE, {"input": {
        "ins": ins, "activationCode": code, "email": "lea@test.dmp", "password": STRONG}})).ok()
    record = await Record.get(ins=ins)
    assert record.status == RecordStatus.ACTIVE
    assert (record.pending_contact, record.pending_phone) == (None, None)


def _full_width(digits: str) -> str:
    """The same number in full-width digits (U+FF10 to U+FF19), which Python counts as digits."""
    return digits[0] + "".join(chr(0xFF10 + int(c)) if c.isdigit() else c for c in digits[1:13]) + digits[13:]


async def test_opening_a_record_with_bad_identity_or_contact_is_refused_and_writes_nothing(
    client: httpx.AsyncClient,
) -> None:
    doctor = await _doctor(client)
    ins = factories.new_ins()
    refused = [
        ({"firstName": "  "}, None),
        ({"lastName": "x" * 101}, None),
        ({"birthDate": "2999-01-01"}, "DATE_IN_FUTURE"),
        ({"email": "not-an-address"}, "INVALID_EMAIL"),
        ({"phone": "call me"}, "INVALID_PHONE"),
        ({"phone": "-- -- -- --"}, "INVALID_PHONE"),
        ({"ins": "185057512345674"}, "INVALID_INS"),
        # The INS of the record just opened, its digits full-width: the same patient's number
        # written so that it would not be found as hers (a second record for her).
        ({"ins": _full_width(ins)}, "INVALID_INS"),
    ]
    for change, reason in refused:
        result = await doctor.gql(OPEN, {"input": {**_identity(ins), **change}})
        assert result.codes == ["BAD_USER_INPUT"], change
        if reason is not None:
            assert result.errors[0]["extensions"]["reason"] == reason, change
    assert await Record.all().count() == 0
    assert await ActivationCode.all().count() == 0
    assert await AccessEvent.all().count() == 0


async def test_a_pending_record_of_another_identity_is_not_handed_over(client: httpx.AsyncClient) -> None:
    """An insurer's import opened a pending record for this INS: a practitioner giving another
    name or birth date gets no code for it (an INS is not enough to take a record)."""
    doctor = await _doctor(client)
    ins = factories.new_ins()
    (await doctor.gql(OPEN, {"input": _identity(ins, email="lea@test.dmp")})).ok()
    record = await Record.get(ins=ins)
    codes_before = await ActivationCode.filter(record_id=record.id).count()
    for other in ({"firstName": "Marie", "lastName": "Curie"}, {"birthDate": "1990-04-03"},
                  {"lastName": "Martine"}):
        result = await doctor.gql(OPEN, {"input": {**_identity(ins, email="other@test.dmp"), **other}})
        assert result.codes == ["BAD_USER_INPUT"]
        assert result.errors[0]["extensions"]["reason"] == "IDENTITY_MISMATCH"
    assert await ActivationCode.filter(record_id=record.id).count() == codes_before
    again = await Record.get(ins=ins)
    assert (again.first_name, again.pending_contact) == ("Léa", "lea@test.dmp")
    denied = await AccessEvent.filter(record_id=record.id, action="ACCESS_DENIED")
    assert [e.reason for e in denied] == ["ouverture refusée : identité différente"] * 3
    # The same person written another way at another desk is the same identity.
    same = (await doctor.gql(OPEN, {"input": {**_identity(ins), "firstName": " LEA ",
                                              "lastName": "martin"}})).ok()
    assert same["openRecordForPatient"]["activationCode"]
    assert await ActivationCode.filter(record_id=record.id).count() == codes_before + 1
