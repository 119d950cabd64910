"""Review of sign-in against a password changed at the same moment: a login whose password was
checked against the old one never leaves a session behind a reset or a change, however the
two interleave (docs/security.md, Sessions)."""

from __future__ import annotations

from typing import Any

import httpx

from backend import clock
from backend.auth import attempts as attempts_module
from backend.auth.passwords import HASHER
from backend.models import AccessEvent, Account, LoginAttempt, Session
from tests import factories
from tests.auth_flows import CHANGE_PASSWORD, COMPLETE, DO_RESET, NEW_PASSWORD, RESET, login, start
from tests.conftest import Caller
from tests.smtp import SmtpServer


def _live_sessions(account: Account) -> Any:
    return Session.filter(account_id=account.id, revoked_at=None, expires_at__gt=clock.now())


def _run_once_after_the_login_code(monkeypatch: Any, step: Any) -> list[bool]:
    """Run `step` (another request) once the login's code has been checked and its attempt
    closed, before its session is made: the narrowest interleaving."""
    real_complete = attempts_module.complete
    ran: list[bool] = []

    async def complete_then_step(attempt: LoginAttempt) -> bool:
        done = await real_complete(attempt)
        if not ran and str(attempt.purpose) in ("LOGIN", "CodePurpose.LOGIN"):
            ran.append(True)
            await step()
        return done

    monkeypatch.setattr(attempts_module, "complete", complete_then_step)
    return ran


async def test_a_reset_committed_while_a_login_completes_leaves_it_no_session(
    client: httpx.AsyncClient, smtp_server: SmtpServer, monkeypatch: Any
) -> None:
    """Whoever knows the old password and has its login's code completes the login while the
    patient resets the password: the login's session used to be made after the reset ended
    every session, and lived on."""
    account, _ = await factories.patient()
    email = account.email or ""
    started = await start(client, email, factories.PASSWORD)
    login_code = await smtp_server.code_for(email)
    reset = (await Caller(client).gql(RESET, {"i": email})).ok()["requestPasswordReset"]["attemptToken"]
    reset_code = await smtp_server.code_for(email)

    async def reset_now() -> None:
        done = await Caller(client).gql(DO_RESET, {"t": reset, "c": reset_code, "p": NEW_PASSWORD})
        assert done.ok() == {"resetPassword": True}

    ran = _run_once_after_the_login_code(monkeypatch, reset_now)
    late = await Caller(client).gql(COMPLETE, {"t": started["attemptToken"], "c": login_code})
    assert ran
    assert late.data is None
    assert late.errors[0]["extensions"]["reason"] == "ATTEMPT_EXPIRED"
    assert not await _live_sessions(account).exists()
    assert not late.response.headers.get("set-cookie")


async def test_a_change_committed_while_a_login_completes_leaves_it_no_session(
    client: httpx.AsyncClient, smtp_server: SmtpServer, monkeypatch: Any
) -> None:
    """The same with `changePassword` from the patient's own session: only that session stays."""
    account, _ = await factories.patient()
    email = account.email or ""
    patient = Caller(client, session=await login(client, smtp_server, email, factories.PASSWORD, email))
    smtp_server.clear()
    started = await start(client, email, factories.PASSWORD)
    login_code = await smtp_server.code_for(email)

    async def change_now() -> None:
        changed = await patient.gql(CHANGE_PASSWORD, {"o": factories.PASSWORD, "n": NEW_PASSWORD})
        assert changed.ok() == {"changePassword": True}

    ran = _run_once_after_the_login_code(monkeypatch, change_now)
    late = await Caller(client).gql(COMPLETE, {"t": started["attemptToken"], "c": login_code})
    assert ran
    assert late.data is None
    assert late.errors[0]["extensions"]["reason"] == "ATTEMPT_EXPIRED"
    assert await _live_sessions(account).count() == 1
    assert (await patient.gql("{ me { id } }")).ok()["me"] is not None


async def test_a_login_refused_for_a_new_password_keeps_the_callers_session(
    client: httpx.AsyncClient, smtp_server: SmtpServer, monkeypatch: Any
) -> None:
    """A refused completion changes nothing: the session the caller already had (another
    account's, on a shared computer) is not ended by a login that did not happen."""
    account, _ = await factories.patient()
    other, _ = await factories.patient()
    email, other_email = account.email or "", other.email or ""
    cookie = await login(client, smtp_server, other_email, factories.PASSWORD, other_email)
    patient = Caller(client, session=await login(client, smtp_server, email, factories.PASSWORD, email))
    smtp_server.clear()
    started = await start(client, email, factories.PASSWORD)
    login_code = await smtp_server.code_for(email)

    async def change_now() -> None:
        (await patient.gql(CHANGE_PASSWORD, {"o": factories.PASSWORD, "n": NEW_PASSWORD})).ok()

    _run_once_after_the_login_code(monkeypatch, change_now)
    shared = Caller(client, session=cookie)
    late = await shared.gql(COMPLETE, {"t": started["attemptToken"], "c": login_code})
    assert late.errors[0]["extensions"]["reason"] == "ATTEMPT_EXPIRED"
    assert (await Caller(client, session=cookie).gql("{ me { id } }")).ok()["me"] == {"id": str(other.id)}


async def test_a_reset_whose_code_was_checked_before_a_change_does_not_undo_the_change(
    client: httpx.AsyncClient, smtp_server: SmtpServer, monkeypatch: Any
) -> None:
    """A reset's new password is hashed after its code is checked: a `changePassword`
    committed meanwhile (the patient, signed in, changing a password someone else knew) used
    to be overwritten by the reset asked before it, which a change is said to end."""
    from backend.resolvers import login as login_resolvers

    account, _ = await factories.patient()
    email = account.email or ""
    patient = Caller(client, session=await login(client, smtp_server, email, factories.PASSWORD, email))
    smtp_server.clear()
    reset = (await Caller(client).gql(RESET, {"i": email})).ok()["requestPasswordReset"]["attemptToken"]
    reset_code = await smtp_server.code_for(email)
    real_hash = login_resolvers.hash_password

    async def change_first(password: str) -> str:
        changed = await patient.gql(CHANGE_PASSWORD, {"o": factories.PASSWORD, "n": NEW_PASSWORD})
        assert changed.ok() == {"changePassword": True}
        return await real_hash(password)

    monkeypatch.setattr(login_resolvers, "hash_password", change_first)
    late = await Caller(client).gql(DO_RESET, {"t": reset, "c": reset_code, "p": "la phrase du voleur 31"})
    assert late.data is None and late.errors[0]["extensions"]["reason"] == "ATTEMPT_EXPIRED"
    assert HASHER.verify((await Account.get(id=account.id)).password_hash or "", NEW_PASSWORD)
    # The change's own session stays; only the change is in the history.
    assert (await patient.gql("{ me { id } }")).ok()["me"] is not None
    assert [e.reason for e in await AccessEvent.filter(action="SECURITY_CHANGED")] == ["mot de passe modifié"]


async def test_a_change_checked_against_the_old_password_does_not_undo_a_reset(
    client: httpx.AsyncClient, smtp_server: SmtpServer, monkeypatch: Any
) -> None:
    """`changePassword` hashes the new password after checking the current one: a reset
    committed meanwhile (which ended the session asking) used to be overwritten by it."""
    from backend.resolvers import auth as auth_resolvers

    account, _ = await factories.patient()
    email = account.email or ""
    other = Caller(client, session=await login(client, smtp_server, email, factories.PASSWORD, email))
    smtp_server.clear()
    reset = (await Caller(client).gql(RESET, {"i": email})).ok()["requestPasswordReset"]["attemptToken"]
    reset_code = await smtp_server.code_for(email)
    real_hash = auth_resolvers.hash_password

    async def reset_first(password: str) -> str:
        done = await Caller(client).gql(DO_RESET, {"t": reset, "c": reset_code, "p": NEW_PASSWORD})
        assert done.ok() == {"resetPassword": True}
        return await real_hash(password)

    monkeypatch.setattr(auth_resolvers, "hash_password", reset_first)
    late = await other.gql(CHANGE_PASSWORD, {"o": factories.PASSWORD, "n": "la phrase du voleur 32"})
    assert late.data is None and late.errors[0]["extensions"]["reason"] == "WRONG_PASSWORD"
    assert HASHER.verify((await Account.get(id=account.id)).password_hash or "", NEW_PASSWORD)
    assert not await _live_sessions(account).exists()
    events = await AccessEvent.filter(action="SECURITY_CHANGED")
    assert [e.reason for e in events] == ["mot de passe réinitialisé"]


async def test_a_rehash_on_login_does_not_bring_back_a_password_reset_meanwhile(
    client: httpx.AsyncClient, smtp_server: SmtpServer, monkeypatch: Any
) -> None:
    """`startLogin` rehashes a password stored under older parameters after checking it: a
    reset committed while it hashed used to be overwritten with the old password's new hash,
    which then signed in again."""
    from argon2 import PasswordHasher

    from backend.resolvers import login as login_resolvers

    account, _ = await factories.patient()
    email = account.email or ""
    older = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    await Account.filter(id=account.id).update(password_hash=older.hash(factories.PASSWORD))
    reset = (await Caller(client).gql(RESET, {"i": email})).ok()["requestPasswordReset"]["attemptToken"]
    reset_code = await smtp_server.code_for(email)
    real_hash = login_resolvers.hash_password
    ran: list[bool] = []

    async def reset_first(password: str) -> str:
        if not ran:
            ran.append(True)
            done = await Caller(client).gql(DO_RESET, {"t": reset, "c": reset_code, "p": NEW_PASSWORD})
            assert done.ok() == {"resetPassword": True}
        return await real_hash(password)

    monkeypatch.setattr(login_resolvers, "hash_password", reset_first)
    await start(client, email, factories.PASSWORD)
    assert ran
    stored = (await Account.get(id=account.id)).password_hash or ""
    assert HASHER.verify(stored, NEW_PASSWORD)


async def test_a_login_whose_password_was_reset_while_it_was_checked_sends_no_code(
    client: httpx.AsyncClient, smtp_server: SmtpServer, monkeypatch: Any
) -> None:
    """`startLogin` checks the password (argon2, a long moment), then opens the attempt: a
    reset committed in between ended the open logins before this one existed, and the old
    password's login went on, its code sent, and signed in."""
    from backend.resolvers import login as login_resolvers

    account, _ = await factories.patient()
    email = account.email or ""
    reset = (await Caller(client).gql(RESET, {"i": email})).ok()["requestPasswordReset"]["attemptToken"]
    reset_code = await smtp_server.code_for(email)
    smtp_server.clear()
    real_verify = login_resolvers.verify_password
    ran: list[bool] = []

    async def reset_after_the_check(stored: str | None, password: str) -> bool:
        ok = await real_verify(stored, password)
        if not ran:
            ran.append(True)
            done = await Caller(client).gql(DO_RESET, {"t": reset, "c": reset_code, "p": NEW_PASSWORD})
            assert done.ok() == {"resetPassword": True}
        return ok

    monkeypatch.setattr(login_resolvers, "verify_password", reset_after_the_check)
    started = await start(client, email, factories.PASSWORD)
    assert ran
    smtp_server.clear()
    await smtp_server.deliver()
    assert not [m for m in smtp_server.to(email) if "code" in m.subject.lower()]
    assert not await LoginAttempt.filter(account_id=account.id, password_ok=True, completed_at=None).exists()
    # It answers as a wrong password does: a decoy attempt, which no code completes.
    assert started["attemptToken"]
    assert not await _live_sessions(account).exists()
