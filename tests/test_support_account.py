"""Support staff help with accounts and never see medical content (issue: support)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    Undefined,
    build_schema,
    get_named_type,
)

from backend import clock
from backend.audit import reasons
from backend.auth import activation
from backend.domain.enums import EmergencyKind, RecordStatus, Section
from backend.models import AccessEvent, Account, ActivationCode, EmergencySession, OutboxMessage, Record
from tests import factories
from tests.conftest import Caller, session_for
from tests.test_schema_contract import SCHEMA_FILE

SECRET_REASON = "douleur thoracique suspicion infarctus"
ENTRY_TITLE = "Metformine 850 mg"

SUPPORT_ACCOUNT = """
query($id: String!) { supportAccount(identifier: $id) {
  accountId role displayName accountStatus recordStatus maskedEmail maskedPhone emailVerified
  phoneVerified locked lockReason lockedAt lastLoginAt lastFailedLoginAt codeChannel passkeyCount
  pendingMessages { subject createdAt attempts }
  emergencyReviews { kind practitionerName openedAt reviewState }
  contactRecoveryOpen } }
"""


async def _scene() -> dict[str, Any]:
    patient, record = await factories.patient(email="jeanne.doe@test.dmp", phone="+33612345678")
    await factories.entry(record, Section.MEDICATIONS, title=ENTRY_TITLE)
    doctor, pro = await factories.practitioner()
    await EmergencySession.create(
        record=record,
        practitioner=pro,
        kind=EmergencyKind.BREAK_GLASS,
        reason=SECRET_REASON,
        opened_at=clock.now(),
        expires_at=clock.now() + dt.timedelta(hours=1),
    )
    other, other_record = await factories.patient()
    agent = await factories.support()
    return {
        "patient": patient,
        "record": record,
        "other_record": other_record,
        "agent": agent,
        "doctor": doctor,
        "pro": pro,
    }


async def test_support_sees_account_status_without_medical_content(client: httpx.AsyncClient) -> None:
    scene = await _scene()
    await Account.filter(id=scene["patient"].id).update(
        locked_at=clock.now(), lock_reason="too many wrong codes"
    )
    support = Caller(client, session=await session_for(scene["agent"]))
    result = await support.gql(SUPPORT_ACCOUNT, {"id": "jeanne.doe@test.dmp"})
    data = result.ok()["supportAccount"]
    assert data["accountStatus"] == "ACTIVE"
    assert data["recordStatus"] == "ACTIVE"
    assert data["locked"] is True and data["lockReason"] == "too many wrong codes"
    assert data["maskedEmail"].startswith("j") and data["maskedEmail"].endswith("@test.dmp")
    assert "jeanne.doe" not in data["maskedEmail"]
    assert data["maskedPhone"].endswith("78") and "612345" not in data["maskedPhone"]
    assert data["emergencyReviews"][0]["kind"] == "BREAK_GLASS"
    text = json.dumps(result.response.json())
    assert SECRET_REASON not in text
    assert ENTRY_TITLE not in text
    assert scene["record"].ins not in text
    # The lookup is itself an event in the patient's history.
    event = await AccessEvent.get(record_id=scene["record"].id, action="SUPPORT_ACTION")
    assert event.actor_role == "SUPPORT" and event.mode == "SUPPORT"


async def test_support_lookup_by_ins_returns_that_account_only(client: httpx.AsyncClient) -> None:
    scene = await _scene()
    support = Caller(client, session=await session_for(scene["agent"]))
    result = await support.gql(SUPPORT_ACCOUNT, {"id": scene["record"].ins})
    assert result.ok()["supportAccount"]["accountId"] == str(scene["patient"].id)
    assert scene["other_record"].ins not in json.dumps(result.response.json())


async def test_support_finds_an_account_by_its_address_typed_decomposed_or_in_capitals(
    client: httpx.AsyncClient,
) -> None:
    # Stored as sign-in reads it (NFC, lower case); a pasted address may come decomposed.
    patient, _ = await factories.patient(email="jos\u00e9.doe@test.dmp")
    agent = await factories.support()
    support = Caller(client, session=await session_for(agent))
    for typed in ("jose\u0301.doe@test.dmp", " JOS\u00c9.Doe@Test.dmp "):
        result = await support.gql(SUPPORT_ACCOUNT, {"id": typed})
        assert result.ok()["supportAccount"]["accountId"] == str(patient.id), typed


async def test_support_lookup_refuses_bad_identifiers_and_finds_practitioners_by_rpps(
    client: httpx.AsyncClient,
) -> None:
    scene = await _scene()
    support = Caller(client, session=await session_for(scene["agent"]))
    refused = [
        ("   ", "BAD_USER_INPUT", "SEARCH_TERM_NEEDED"),
        ("10000000018", "BAD_USER_INPUT", "INVALID_RPPS"),  # 11 digits, a wrong check digit
        ("185057512345674", "BAD_USER_INPUT", "INVALID_INS"),  # a wrong key
        ("not-an-identifier", "BAD_USER_INPUT", "SEARCH_TERM_NEEDED"),  # a word: none of the three
        ("12345", "BAD_USER_INPUT", "INVALID_INS"),  # a number, too short for either
        (factories.new_ins(), "NOT_FOUND", None),  # valid, and no record has it
        (factories.new_rpps(), "NOT_FOUND", None),
        ("nobody@test.dmp", "NOT_FOUND", None),
    ]
    for identifier, code, reason in refused:
        result = await support.gql(SUPPORT_ACCOUNT, {"id": identifier})
        assert result.codes == [code], (identifier, result.errors)
        assert result.errors[0]["extensions"].get("reason") == reason, identifier
        assert result.data is None or result.data.get("supportAccount") is None
    assert await AccessEvent.filter(action="SUPPORT_ACTION").count() == 0  # nothing was read

    # A practitioner, by RPPS (spaces allowed): the account, and no record of theirs.
    rpps = scene["pro"].rpps
    found = await support.gql(SUPPORT_ACCOUNT, {"id": f" {rpps[:5]} {rpps[5:]} "})
    data = found.ok()["supportAccount"]
    assert data["accountId"] == str(scene["doctor"].id) and data["role"] == "PRACTITIONER"
    assert data["accountStatus"] == "ACTIVE" and data["recordStatus"] is None
    assert data["emergencyReviews"] == [] and data["contactRecoveryOpen"] is False


async def test_only_support_staff_may_use_support_fields(client: httpx.AsyncClient) -> None:
    scene = await _scene()
    for account in (scene["patient"], scene["doctor"]):
        caller = Caller(client, session=await session_for(account))
        result = await caller.gql(SUPPORT_ACCOUNT, {"id": "jeanne.doe@test.dmp"})
        assert result.codes == ["FORBIDDEN"]
        unlock = await caller.gql('mutation { unlockAccount(identifier: "jeanne.doe@test.dmp") { locked } }')
        assert unlock.codes == ["FORBIDDEN"]
    anonymous = await Caller(client).gql(SUPPORT_ACCOUNT, {"id": "jeanne.doe@test.dmp"})
    assert anonymous.codes == ["UNAUTHENTICATED"]
    assert await AccessEvent.filter(action="SUPPORT_ACTION").count() == 0


async def test_unlock_writes_an_event_and_tells_the_patient(client: httpx.AsyncClient) -> None:
    scene = await _scene()
    await Account.filter(id=scene["patient"].id).update(
        locked_at=clock.now(),
        lock_reason="too many wrong codes",
        failure_count=10,
        failure_day=clock.now().date(),
    )
    support = Caller(client, session=await session_for(scene["agent"]))
    result = await support.gql('mutation { unlockAccount(identifier: "jeanne.doe@test.dmp") { locked } }')
    assert result.ok()["unlockAccount"]["locked"] is False
    account = await Account.get(id=scene["patient"].id)
    assert account.locked_at is None and account.failure_count == 0
    events = await AccessEvent.filter(record_id=scene["record"].id, action="SUPPORT_ACTION").values_list(
        "reason", flat=True
    )
    assert any("déblocage" in str(r) for r in events)
    mail = await OutboxMessage.filter(recipient="jeanne.doe@test.dmp").values_list("body", flat=True)
    assert any("support" in str(b) for b in mail)
    again = await support.gql('mutation { unlockAccount(identifier: "jeanne.doe@test.dmp") { locked } }')
    assert again.codes == ["BAD_USER_INPUT"]


async def test_resend_activation_goes_only_to_the_contact_on_file(client: httpx.AsyncClient) -> None:
    agent = await factories.support()
    record = await Record.create(
        ins=factories.new_ins(),
        first_name="Paul",
        last_name="Pending",
        birth_date=dt.date(1990, 1, 1),
        status=RecordStatus.PENDING,
        pending_contact="paul.pending@test.dmp",
    )
    no_contact = await Record.create(
        ins=factories.new_ins(),
        first_name="Nina",
        last_name="Nocontact",
        birth_date=dt.date(1990, 1, 1),
        status=RecordStatus.PENDING,
    )
    support = Caller(client, session=await session_for(agent))
    resend = "mutation($i: String!) { resendActivation(identifier: $i) }"
    result = await support.gql(resend, {"i": record.ins})
    assert result.ok()["resendActivation"] is True
    sent = await OutboxMessage.filter(record_id=record.id).values_list("recipient", flat=True)
    assert sent == ["paul.pending@test.dmp"]
    assert await AccessEvent.filter(record_id=record.id, action="SUPPORT_ACTION").count() == 1
    both = await Record.create(
        ins=factories.new_ins(), first_name="Bea", last_name="Both", birth_date=dt.date(1990, 1, 1),
        status=RecordStatus.PENDING, pending_contact="bea.both@test.dmp", pending_phone="+33 6 11 22 33 44",
    )
    assert (await support.gql(resend, {"i": both.ins})).ok()["resendActivation"] is True
    sent_both = await OutboxMessage.filter(record_id=both.id).order_by("channel").values_list(
        "channel", "recipient"
    )
    assert sent_both == [("EMAIL", "bea.both@test.dmp"), ("SMS", "+33 6 11 22 33 44")]
    refused = await support.gql(resend, {"i": no_contact.ins})
    assert refused.codes == ["BAD_USER_INPUT"]
    assert refused.errors[0]["extensions"]["reason"] == "NO_CONTACT_ON_FILE"
    assert await OutboxMessage.filter(record_id=no_contact.id).count() == 0
    assert await ActivationCode.filter(record_id=no_contact.id).count() == 0


async def test_contact_recovery_shows_no_code_to_support(client: httpx.AsyncClient) -> None:
    scene = await _scene()
    code, _ = await activation.issue(scene["record"], "earlier")
    support = Caller(client, session=await session_for(scene["agent"]))
    result = await support.gql(
        "mutation($i: String!) { startContactRecovery(identifier: $i) }", {"i": scene["record"].ins}
    )
    assert result.ok()["startContactRecovery"] is True
    assert code not in json.dumps(result.response.json())
    # The earlier code no longer works; the recovery is open and visible to support.
    assert await activation.check(scene["record"], code) is None
    status = await support.gql(SUPPORT_ACCOUNT, {"id": scene["record"].ins})
    assert status.ok()["supportAccount"]["contactRecoveryOpen"] is True
    mail = await OutboxMessage.filter(recipient="jeanne.doe@test.dmp").values_list("body", flat=True)
    assert any("récupération" in str(b) for b in mail)


async def test_support_actions_on_the_wrong_account_are_refused_and_change_nothing(
    client: httpx.AsyncClient,
) -> None:
    scene = await _scene()
    support = Caller(client, session=await session_for(scene["agent"]))
    unknown = factories.new_ins()
    refusals = [
        # Nobody has this INS.
        ('mutation($i: String!) { unlockAccount(identifier: $i) { locked } }', unknown, "NOT_FOUND", None),
        ("mutation($i: String!) { resendActivation(identifier: $i) }", unknown, "NOT_FOUND", None),
        ("mutation($i: String!) { startContactRecovery(identifier: $i) }", unknown, "NOT_FOUND", None),
        # An active record needs no activation code.
        ("mutation($i: String!) { resendActivation(identifier: $i) }", scene["record"].ins,
         "BAD_USER_INPUT", "ALREADY_ACTIVATED"),
        # A practitioner has no record whose contacts could be recovered.
        ("mutation($i: String!) { startContactRecovery(identifier: $i) }", scene["pro"].rpps,
         "NOT_FOUND", None),
        ('mutation($i: String!) { unlockAccount(identifier: $i) { locked } }', "jeanne.doe@test.dmp",
         "BAD_USER_INPUT", "ACCOUNT_NOT_LOCKED"),
    ]
    for mutation, identifier, code, reason in refusals:
        result = await support.gql(mutation, {"i": identifier})
        assert result.codes == [code], (mutation, identifier, result.errors)
        assert result.errors[0]["extensions"].get("reason") == reason, (mutation, identifier)
    # A refusal that tells an existing account's state is a read of it, as supportAccount's:
    # the active record's and the unlocked patient's, each written as support's read.
    reads = await AccessEvent.filter(action="SUPPORT_ACTION").values_list("record_id", "reason")
    assert sorted(reads) == [(scene["record"].id, reasons.SUPPORT_READ)] * 2
    assert await ActivationCode.all().count() == 0
    assert await OutboxMessage.all().count() == 0
    assert (await Account.get(id=scene["patient"].id)).locked_at is None


def _sample_args(field: Any, scene: dict[str, Any]) -> str:
    values = {
        "ins": json.dumps(scene["record"].ins),
        "identifier": json.dumps("jeanne.doe@test.dmp"),
        "search": json.dumps("Pro"),
    }
    parts = []
    for name, arg in field.args.items():
        if isinstance(arg.type, GraphQLNonNull) and arg.default is None and arg.default_value is Undefined:
            if name not in values:
                return "SKIP"
            parts.append(f"{name}: {values[name]}")
    return f"({', '.join(parts)})" if parts else ""


def _selection(type_: Any, depth: int = 0) -> str:
    named = get_named_type(type_)
    if isinstance(named, (GraphQLScalarType, GraphQLEnumType)):
        return ""
    if depth > 4:
        return "{ __typename }"
    fields = []
    for name, field in named.fields.items() if isinstance(named, GraphQLObjectType) else []:
        if any(
            isinstance(a.type, GraphQLNonNull) and a.default is None and a.default_value is Undefined
            for a in field.args.values()
        ):
            continue
        fields.append(name + _selection(field.type, depth + 1))
    fields.append("__typename")
    return "{ " + " ".join(fields) + " }"


async def test_every_query_field_with_a_support_session_returns_no_medical_content(
    client: httpx.AsyncClient,
) -> None:
    scene = await _scene()
    schema = build_schema(SCHEMA_FILE.read_text())
    support = Caller(client, session=await session_for(scene["agent"]))
    walked = 0
    answered = set()
    for name, field in schema.query_type.fields.items():
        args = _sample_args(field, scene)
        assert args != "SKIP", f"no sample value for a required argument of Query.{name}"
        query = "{ " + name + args + _selection(field.type) + " }"
        result = await support.gql(query)
        walked += 1
        if not result.errors:
            answered.add(name)
        text = json.dumps(result.response.json())
        for secret in (SECRET_REASON, ENTRY_TITLE, scene["other_record"].ins):
            assert secret not in text, f"Query.{name} leaked {secret!r} to support"
        if name not in ("supportAccount",):
            assert scene["record"].ins not in text, f"Query.{name} returned an INS to support"
        assert not isinstance(get_named_type(field.type), GraphQLList)
    assert walked >= 2
    # The walk really reached data: these answer a support session.
    assert {"me", "supportAccount"} <= answered, answered


async def test_contact_recovery_is_finished_by_a_practitioner_and_the_patient(
    client: httpx.AsyncClient,
) -> None:
    scene = await _scene()
    old_session = await session_for(scene["patient"])
    support = Caller(client, session=await session_for(scene["agent"]))
    doctor = Caller(client, session=await session_for(scene["doctor"]))
    record = scene["record"]
    # The practitioner checks the patient's identity: the record's names and birth date.
    open_record = f"""mutation($ins: String!) {{ openRecordForPatient(input: {{ins: $ins,
        firstName: "{record.first_name}", lastName: "{record.last_name}", birthDate: "1985-06-12"}})
        {{ activationCode }} }}"""
    # Without a recovery, an active record cannot be reopened by a practitioner.
    refused = await doctor.gql(open_record, {"ins": record.ins})
    assert refused.codes == ["CONFLICT"]
    assert (
        await support.gql("mutation($i: String!) { startContactRecovery(identifier: $i) }", {"i": record.ins})
    ).ok()
    code = (await doctor.gql(open_record, {"ins": record.ins})).ok()["openRecordForPatient"]["activationCode"]
    create = """mutation($ins: String!, $code: String!) {
        createRecord(input: {ins: $ins, activationCode: $code, email: "jeanne.new@test.dmp",
                             password: "a-brand-new-passphrase"}) { attemptToken sentTo } }"""
    wrong = await Caller(client).gql(create, {"ins": record.ins, "code": "AAAA-BBBB-CCCC"})
    assert wrong.codes == ["BAD_USER_INPUT"]
    assert (await Account.get(id=scene["patient"].id)).email == "jeanne.doe@test.dmp"
    created = await Caller(client).gql(create, {"ins": record.ins, "code": code})
    assert created.ok()["createRecord"]["attemptToken"]
    account = await Account.get(id=scene["patient"].id)
    assert account.email == "jeanne.new@test.dmp" and not account.email_verified
    assert (await Record.get(id=record.id)).owner_id == account.id  # type: ignore[attr-defined]
    # Sessions opened with the old contacts are over.
    old = await Caller(client, session=old_session).gql("{ me { id } }")
    assert old.ok()["me"] is None
    # The code is single use.
    again = await Caller(client).gql(create, {"ins": record.ins, "code": code})
    assert again.codes == ["BAD_USER_INPUT"]
    reasons = await AccessEvent.filter(record_id=record.id).values_list("action", flat=True)
    assert "SECURITY_CHANGED" in reasons


async def test_support_sees_where_codes_really_go(client: httpx.AsyncClient) -> None:
    """SMS chosen with a number never confirmed: codes go by e-mail, and support reads EMAIL."""
    patient, _ = await factories.patient(email="lea.sms@test.dmp", phone="+33612345679")
    await Account.filter(id=patient.id).update(code_channel="SMS", phone_verified=False)
    support = Caller(client, session=await session_for(await factories.support()))
    data = (await support.gql(SUPPORT_ACCOUNT, {"id": "lea.sms@test.dmp"})).ok()["supportAccount"]
    assert (data["codeChannel"], data["phoneVerified"]) == ("EMAIL", False)
    await Account.filter(id=patient.id).update(phone_verified=True)
    data = (await support.gql(SUPPORT_ACCOUNT, {"id": "lea.sms@test.dmp"})).ok()["supportAccount"]
    assert (data["codeChannel"], data["phoneVerified"]) == ("SMS", True)
