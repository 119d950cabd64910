"""`dmp disable-account IDENTIFIER` and `dmp enable-account IDENTIFIER`: an operator switches off
a practitioner's (or a support agent's) account — struck off, leaving, or in other hands — in one
transaction: the account marked disabled, its sessions ended, its sign-ins and resets under way
ended, every token bound to it revoked. A disabled account then signs in no way (password and
code, password reset, passkey), answered as an identifier that names no account is, with no
code sent; whatever of it somehow remains (a session, a token) is refused when the caller is
resolved. Enabling lifts it: the account signs in anew, its sessions stay ended and its tokens
revoked. A patient's account is refused: their record is theirs."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx

from backend import accounts, clock
from backend.auth.secrets_util import digest
from backend.models import (
    Account,
    ApiToken,
    LoginAttempt,
    OneTimeCode,
    OutboxMessage,
    PasskeyCredential,
    Practitioner,
    Session,
)
from tests import factories
from tests.auth_flows import COMPLETE, DO_RESET, FRESH, ME, RESET, START, login, session_cookie
from tests.conftest import Caller, session_for
from tests.passkey_flows import begin_login, finish_login, register
from tests.server import run_dmp
from tests.smtp import SmtpServer
from tests.soft_authenticator import SoftAuthenticator
from tests.test_authz_reading import count_queries
from tests.test_support_account import SUPPORT_ACCOUNT

DOCTOR = "dr.left@test.dmp"


def _refusal(stderr: str) -> str:
    """The one line of a refusal: no traceback, no log line."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("dmp: "), stderr
    return lines[0]


async def _doctor() -> tuple[Account, Practitioner]:
    return await factories.practitioner(email=DOCTOR)


async def _token(practitioner: Practitioner, name: str = "logiciel") -> tuple[ApiToken, str]:
    return await accounts.create_token(name, ["practitioner"], practitioner_rpps=practitioner.rpps)


async def _state() -> dict[str, Any]:
    """Everything a refused command or sign-in must leave as it was."""
    return {
        "accounts": sorted(
            (str(a.id), a.disabled_at, a.password_hash, a.last_login_at, a.last_failed_login_at)
            for a in await Account.all()
        ),
        "sessions": sorted((str(s.id), s.revoked_at) for s in await Session.all()),
        "tokens": sorted((str(t.id), t.revoked_at) for t in await ApiToken.all()),
        "attempts": sorted((str(a.id), a.completed_at) for a in await LoginAttempt.all()),
        "codes": await OneTimeCode.all().count(),
        "outbox": await OutboxMessage.all().count(),
    }


async def test_disabling_ends_sessions_revokes_tokens_and_leaves_others_alone(
    client: httpx.AsyncClient,
) -> None:
    doctor, pro = await _doctor()
    other, other_pro = await factories.practitioner()
    web = await session_for(doctor)
    phone = await session_for(doctor)
    theirs = await session_for(other)
    _, token = await _token(pro)
    _, second = await _token(pro, "second logiciel")
    _, other_token = await _token(other_pro)
    _, insurer = await accounts.create_token("cnam", ["insurer:import"], organization="CNAM")
    for cookie in (web, phone):
        assert (await Caller(client, session=cookie).gql(ME)).ok()["me"]["id"] == str(doctor.id)
    assert (await Caller(client, token=token).gql(ME)).ok()["me"]["id"] == str(doctor.id)

    # Typed with spaces, as copied from a letter: the RPPS names the practitioner.
    done = run_dmp("disable-account", f" {pro.rpps[:5]} {pro.rpps[5:]} ")
    assert done.returncode == 0, done.stderr
    assert done.stdout == (f"disabled PRACTITIONER account {doctor.id}: it can no longer sign in; "
                           "2 session(s) ended, 2 token(s) revoked\n")
    row = await Account.get(id=doctor.id)
    assert row.disabled_at is not None
    assert await Session.filter(account_id=doctor.id, revoked_at=None).count() == 0
    assert await ApiToken.filter(practitioner_id=pro.id, revoked_at=None).count() == 0
    # Refused as an ended session is (no one signed in), and as a revoked token is (401).
    for cookie in (web, phone):
        assert (await Caller(client, session=cookie).gql(ME)).ok()["me"] is None
        assert (await Caller(client, session=cookie).gql(FRESH)).codes == ["UNAUTHENTICATED"]
    for secret in (token, second):
        refused = await Caller(client, token=secret).gql(ME)
        assert refused.status == 401 and refused.codes == ["UNAUTHENTICATED"]
    # Another practitioner, and an organization, are untouched.
    assert (await Caller(client, session=theirs).gql(ME)).ok()["me"]["id"] == str(other.id)
    assert (await Caller(client, token=other_token).gql(ME)).ok()["me"]["id"] == str(other.id)
    assert (await Caller(client, token=insurer).gql("{ __typename }")).status == 200
    assert await ApiToken.filter(revoked_at=None).count() == 2
    # One INFO line, with ids and counts only: no address, no name, no RPPS.
    (line,) = [json.loads(text) for text in done.stderr.splitlines() if text.startswith("{")]
    assert line["logger"] == "dmp.cli" and line["event"] == "operator_disable"
    assert line["account"] == str(doctor.id)
    assert line["msg"] == (f"operator disable: PRACTITIONER account {doctor.id} "
                           "(2 session(s) ended, 2 token(s) revoked)")
    for personal in (DOCTOR, doctor.last_name, pro.rpps, token[:12]):
        assert personal not in done.stderr and personal not in done.stdout


async def test_a_disabled_account_signs_in_as_an_unknown_identifier_does_and_nothing_is_sent(
    client: httpx.AsyncClient, smtp_server: SmtpServer,
) -> None:
    doctor, pro = await _doctor()
    assert run_dmp("disable-account", DOCTOR).returncode == 0
    before = await _state()
    answers = {}
    for typed in (DOCTOR, pro.rpps, "ghost.left@test.dmp", factories.new_rpps()):
        result = await Caller(client).gql(START, {"i": typed, "p": factories.PASSWORD})
        answers[typed] = result.ok()["startLogin"]
    # The right password of the disabled account: the answer of an address no account has.
    assert answers[DOCTOR]["factors"] == answers["ghost.left@test.dmp"]["factors"] == ["CODE"]
    assert answers[DOCTOR]["codeSentTo"] == "d•••@t•••.dmp"  # the address typed, masked as a decoy's
    assert answers["ghost.left@test.dmp"]["codeSentTo"] == "g•••@t•••.dmp"
    assert {len(a["attemptToken"]) for a in answers.values()} == {43}
    # Decoys bound to no account, as an unknown identifier's; no failure or login written.
    attempts = await LoginAttempt.all()
    assert len(attempts) == 4
    assert {(a.account_id, a.password_ok) for a in attempts} == {(None, False)}  # type: ignore[attr-defined]
    # Its reset is an unknown identifier's too: an attempt, and no code.
    asked = (await Caller(client).gql(RESET, {"i": DOCTOR})).ok()["requestPasswordReset"]
    assert (await LoginAttempt.get(token_hash=digest(asked["attemptToken"]))).account_id is None  # type: ignore[attr-defined]
    # A code typed on them is wrong, as on any decoy: no session.
    tried = await Caller(client).gql(COMPLETE, {"t": answers[DOCTOR]["attemptToken"], "c": "123456"})
    assert tried.codes == ["BAD_USER_INPUT"] and not session_cookie(tried)
    reset = await Caller(client).gql(DO_RESET, {"t": asked["attemptToken"], "c": "123456",
                                                "p": "une toute nouvelle phrase 77"})
    assert reset.codes == ["BAD_USER_INPUT"]
    # Nothing sent, nothing of the account written.
    assert await OneTimeCode.all().count() == 0 and await OutboxMessage.all().count() == 0
    assert await smtp_server.deliver() == 0 and smtp_server.to(DOCTOR) == []
    after = await _state()
    assert after["accounts"] == before["accounts"] and after["sessions"] == before["sessions"] == []
    assert after["tokens"] == before["tokens"] and after["codes"] == 0 and after["outbox"] == 0


async def test_a_disabled_accounts_sign_in_runs_an_unknown_identifiers_statements(
    client: httpx.AsyncClient,
) -> None:
    """No oracle in the work either: the same statements as an address no account has, in
    the same order (its row is read by the same look-up, and nothing after depends on it)."""
    await _doctor()
    assert run_dmp("disable-account", DOCTOR).returncode == 0
    await Caller(client).gql(START, {"i": "warm.up@test.dmp", "p": "x" * 12})  # the address's counter

    async def statements(identifier: str) -> list[str]:
        with count_queries() as seen:
            (await Caller(client).gql(START, {"i": identifier, "p": factories.PASSWORD})).ok()
            (await Caller(client).gql(RESET, {"i": identifier})).ok()
        return seen

    assert await statements(DOCTOR) == await statements("nobody.left@test.dmp")


async def test_a_sign_in_or_reset_begun_before_disabling_does_not_complete(
    client: httpx.AsyncClient, smtp_server: SmtpServer,
) -> None:
    doctor, _ = await _doctor()
    started = (await Caller(client).gql(START, {"i": DOCTOR, "p": factories.PASSWORD})).ok()["startLogin"]
    code = await smtp_server.code_for(DOCTOR)
    asked = (await Caller(client).gql(RESET, {"i": DOCTOR})).ok()["requestPasswordReset"]
    reset_code = await smtp_server.code_for(DOCTOR)
    assert run_dmp("disable-account", DOCTOR).returncode == 0
    before = await _state()
    done = await Caller(client).gql(COMPLETE, {"t": started["attemptToken"], "c": code})
    assert done.codes == ["BAD_USER_INPUT"] and not session_cookie(done)
    assert done.errors[0]["extensions"]["reason"] == "ATTEMPT_EXPIRED"
    reset = await Caller(client).gql(DO_RESET, {"t": asked["attemptToken"], "c": reset_code,
                                                "p": "une toute nouvelle phrase 77"})
    assert reset.codes == ["BAD_USER_INPUT"]
    assert reset.errors[0]["extensions"]["reason"] == "ATTEMPT_EXPIRED"
    assert await _state() == before
    assert (await Account.get(id=doctor.id)).password_hash == before["accounts"][0][2]


async def test_a_login_that_raced_the_disabling_opens_no_session(client: httpx.AsyncClient) -> None:
    """A sign-in whose code was checked before the account was disabled, and whose session is
    opened after: refused as a login whose password changed meanwhile (ATTEMPT_EXPIRED)."""
    from backend.auth.sessions import start_session

    doctor, _ = await _doctor()
    assert run_dmp("disable-account", DOCTOR).returncode == 0
    assert await start_session(None, doctor, password_hash=doctor.password_hash) is None
    assert await Session.all().count() == 0
    assert (await Account.get(id=doctor.id)).last_login_at is None


async def test_a_disabled_accounts_passkey_is_refused_as_an_unknown_one(client: httpx.AsyncClient) -> None:
    doctor, _ = await _doctor()
    authenticator = SoftAuthenticator()
    cred = await register(Caller(client, session=await session_for(doctor)), authenticator)
    stranger = SoftAuthenticator()  # a passkey this service never registered
    stranger.register(json.dumps({"rp": {"id": "localhost"}, "user": {"id": "AAAA"}, "challenge": "AAAA"}))
    assert run_dmp("disable-account", DOCTOR).returncode == 0
    before = await _state()
    anonymous = Caller(client)
    refused = await finish_login(anonymous, authenticator.assertion(await begin_login(anonymous)))
    unknown = await finish_login(anonymous, stranger.assertion(await begin_login(anonymous)))
    assert refused.codes == unknown.codes == ["BAD_USER_INPUT"]
    assert refused.errors[0]["message"] == unknown.errors[0]["message"] == "passkey verification failed"
    assert refused.errors[0]["extensions"] == unknown.errors[0]["extensions"]
    assert refused.data is None and "set-cookie" not in refused.response.headers
    # Refused before its signature and count were looked at: the passkey as it was.
    stored = await PasskeyCredential.get(credential_id=cred.id)
    assert stored.sign_count == 0 and stored.last_used_at is None
    assert await _state() == before


async def test_enabling_lets_the_account_sign_in_again_but_tokens_stay_revoked(
    client: httpx.AsyncClient, smtp_server: SmtpServer,
) -> None:
    doctor, pro = await _doctor()
    old_session = await session_for(doctor)
    _, token = await _token(pro)
    assert run_dmp("disable-account", DOCTOR).returncode == 0
    disabled_at = (await Account.get(id=doctor.id)).disabled_at
    assert disabled_at is not None
    enabled = run_dmp("enable-account", DOCTOR.upper())
    assert enabled.returncode == 0, enabled.stderr
    assert enabled.stdout == (
        f"enabled PRACTITIONER account {doctor.id} (disabled since "
        f"{disabled_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC): it can sign in again; its sessions "
        "stay ended and its tokens stay revoked (dmp create-token for new ones)\n")
    assert (await Account.get(id=doctor.id)).disabled_at is None
    (line,) = [json.loads(text) for text in enabled.stderr.splitlines() if text.startswith("{")]
    assert line["event"] == "operator_enable" and line["account"] == str(doctor.id)
    # Signs in with password and code again; the former session and token stay refused.
    cookie = await login(client, smtp_server, pro.rpps, factories.PASSWORD, DOCTOR)
    assert (await Caller(client, session=cookie).gql(ME)).ok()["me"]["id"] == str(doctor.id)
    assert (await Caller(client, session=old_session).gql(ME)).ok()["me"] is None
    assert (await Caller(client, token=token).gql(ME)).status == 401
    # A new token works.
    _, fresh = await _token(pro, "new logiciel")
    assert (await Caller(client, token=fresh).gql(ME)).ok()["me"]["id"] == str(doctor.id)


async def test_both_commands_are_idempotent(client: httpx.AsyncClient) -> None:
    doctor, pro = await _doctor()
    assert run_dmp("disable-account", DOCTOR).returncode == 0
    first = await Account.get(id=doctor.id)
    before = await _state()
    again = run_dmp("disable-account", pro.rpps)
    assert again.returncode == 0, again.stderr
    assert again.stdout == (
        f"PRACTITIONER account {doctor.id} was already disabled (since "
        f"{first.disabled_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC); "  # type: ignore[union-attr]
        "0 more session(s) ended, 0 more token(s) revoked\n")
    assert await _state() == before  # the first date kept
    # Something of it left (a session opened by a sign-in that raced the first run): ended.
    straggler = await session_for(doctor)
    third = run_dmp("disable-account", DOCTOR)
    assert "1 more session(s) ended" in third.stdout
    assert (await Session.get(token_hash=digest(straggler))).revoked_at is not None
    assert (await Account.get(id=doctor.id)).disabled_at == first.disabled_at
    assert run_dmp("enable-account", DOCTOR).returncode == 0
    before = await _state()
    not_disabled = run_dmp("enable-account", DOCTOR)
    assert not_disabled.returncode == 0, not_disabled.stderr
    assert not_disabled.stdout == f"PRACTITIONER account {doctor.id} is not disabled: nothing to do\n"
    assert "{" not in not_disabled.stderr  # no log line: nothing done
    assert await _state() == before


async def test_a_patient_is_refused_and_nothing_is_written(client: httpx.AsyncClient) -> None:
    patient, record = await factories.patient(email="lea.left@test.dmp")
    cookie = await session_for(patient)
    before = await _state()
    for typed in ("lea.left@test.dmp", record.ins):
        done = run_dmp("disable-account", typed)
        assert done.returncode == 1, typed
        line = _refusal(done.stderr)
        assert "a patient's record belongs to the patient" in line
        assert "lea" not in line and record.ins not in line
        assert done.stdout == ""
    assert "PATIENT account" in _refusal(run_dmp("disable-account", "lea.left@test.dmp").stderr)
    assert await _state() == before
    assert (await Caller(client, session=cookie).gql(ME)).ok()["me"]["id"] == str(patient.id)


async def test_an_unknown_or_unreadable_identifier_is_refused_and_nothing_is_written() -> None:
    await _doctor()
    before = await _state()
    for command in ("disable-account", "enable-account"):
        for typed, said in (("nobody.left@test.dmp", "no account has this e-mail address"),
                            (factories.new_rpps(), "no account has this RPPS number"),
                            ("dr left", "not an e-mail address or an RPPS number"),
                            ("", "not an e-mail address or an RPPS number")):
            done = run_dmp(command, typed)
            assert done.returncode == 1, (command, typed)
            line = _refusal(done.stderr)
            assert said in line, line
            assert not typed or typed not in line
            assert done.stdout == ""
    assert await _state() == before


async def test_no_token_is_made_for_a_disabled_practitioner() -> None:
    doctor, pro = await _doctor()
    assert run_dmp("disable-account", DOCTOR).returncode == 0
    before = await _state()
    made = run_dmp("create-token", "--name", "logiciel", "--scope", "practitioner",
                   "--practitioner", pro.rpps)
    assert made.returncode == 1
    assert "is disabled" in _refusal(made.stderr) and "dmp_" not in made.stdout + made.stderr
    assert await _state() == before


async def test_what_remains_of_a_disabled_account_is_refused_when_the_caller_is_resolved(
    client: httpx.AsyncClient,
) -> None:
    """Defense in depth: a session or a token of a disabled account left open (written by
    another path, or restored from a backup taken before) is refused all the same."""
    doctor, pro = await _doctor()
    row, token = await _token(pro)
    await Account.filter(id=doctor.id).update(disabled_at=clock.now())  # disabled, nothing else
    cookie = await session_for(doctor)
    assert (await ApiToken.get(id=row.id)).revoked_at is None
    before = await _state()
    assert (await Caller(client, session=cookie).gql(ME)).ok()["me"] is None
    refused = await Caller(client, token=token).gql(ME)
    assert refused.status == 401 and refused.codes == ["UNAUTHENTICATED"]
    after = await _state()
    assert after == before
    assert (await ApiToken.get(id=row.id)).last_used_at is None  # not even its use written


async def test_support_sees_a_disabled_account(client: httpx.AsyncClient) -> None:
    doctor, _ = await _doctor()
    support = Caller(client, session=await session_for(await factories.support()))

    async def status() -> Any:
        data = (await support.gql(SUPPORT_ACCOUNT, {"id": DOCTOR})).ok()["supportAccount"]
        assert data["accountId"] == str(doctor.id)
        return data["accountStatus"]

    assert await status() == "ACTIVE"
    assert run_dmp("disable-account", DOCTOR).returncode == 0
    assert await status() == "DISABLED"
    assert run_dmp("enable-account", DOCTOR).returncode == 0
    assert await status() == "ACTIVE"


async def test_a_support_account_is_disabled_too(client: httpx.AsyncClient) -> None:
    agent = await factories.support(email="agent.left@support.test")
    cookie = await session_for(agent)
    done = run_dmp("disable-account", "agent.left@support.test")
    assert done.returncode == 0, done.stderr
    assert done.stdout == (f"disabled SUPPORT account {agent.id}: it can no longer sign in; "
                           "1 session(s) ended, 0 token(s) revoked\n")
    assert (await Caller(client, session=cookie).gql(ME)).ok()["me"] is None


async def test_a_disabled_practitioner_is_no_longer_in_the_directory(client: httpx.AsyncClient) -> None:
    """Patients grant access through the directory: a struck-off practitioner, or one whose
    account was stolen, is no longer offered once disabled, and is again once enabled."""
    doctor, pro = await _doctor()
    patient, _ = await factories.patient()
    caller = Caller(client, session=await session_for(patient))
    search = "query($s: String!) { practitionerDirectory(search: $s) { id } }"

    async def found() -> bool:
        listed = (await caller.gql(search, {"s": pro.rpps})).ok()["practitionerDirectory"]
        return str(pro.id) in {p["id"] for p in listed}

    assert await found()
    assert run_dmp("disable-account", DOCTOR).returncode == 0
    assert not await found()
    assert run_dmp("enable-account", DOCTOR).returncode == 0
    assert await found()
