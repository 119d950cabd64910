"""`dmp unlock-account EMAIL`: an operator lifts the code-login lock of any account — a support
account's above all, which support may not lift. The account is found as sign-in reads the
address; the lock is cleared as support's unlock clears it, with the same security notice queued
in the same transaction; the output and the log line name the account by its id only. An
unknown address, or an account not locked, is refused in one line and nothing is written."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from typing import Any

import pytest
from tortoise.transactions import in_transaction

from backend import accounts, clock
from backend.models import AccessEvent, Account, OutboxMessage
from tests import factories
from tests.server import run_dmp

REASON = "too many wrong codes"


async def _lock(account: Account) -> None:
    await Account.filter(id=account.id).update(
        locked_at=clock.now(), lock_reason=REASON, failure_count=10, failure_day=clock.now().date())


async def _lock_state(account: Account) -> tuple[dt.datetime | None, str | None, int, dt.date | None]:
    row = await Account.get(id=account.id)
    return row.locked_at, row.lock_reason, row.failure_count, row.failure_day


def _refusal(stderr: str) -> str:
    """The one line of a refusal: no traceback, no log line."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("dmp: "), stderr
    return lines[0]


async def test_an_operator_unlocks_a_locked_support_account() -> None:
    agent = await factories.support(email="josé.unlock@support.test")
    await _lock(agent)
    # Typed as sign-in reads it: spaces around, capitals, the accent decomposed (NFD).
    typed = unicodedata.normalize("NFD", "  JOSÉ.Unlock@Support.test ")
    done = run_dmp("unlock-account", typed)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"unlocked SUPPORT account {agent.id}\n"
    assert await _lock_state(agent) == (None, None, 0, None)
    (notice,) = await OutboxMessage.all()
    assert notice.account_id == agent.id  # type: ignore[attr-defined]
    assert notice.recipient == "josé.unlock@support.test"
    assert notice.subject == "DMP : modification de sécurité sur votre compte"
    assert "déblocage de la connexion par code, par l'exploitant du DMP" in notice.body
    assert await AccessEvent.all().count() == 0  # a support account has no record
    # One INFO line, with ids only: no address, no name, no lock reason.
    (line,) = [json.loads(text) for text in done.stderr.splitlines() if text.startswith("{")]
    assert line["level"] == "info" and line["logger"] == "dmp.cli"
    assert line["event"] == "operator_unlock" and line["account"] == str(agent.id)
    assert str(agent.id) in line["msg"] and "SUPPORT" in line["msg"]
    for personal in ("josé", "jose", "Sam", agent.last_name, REASON):
        assert personal not in done.stderr and personal not in done.stdout


async def test_an_operator_unlocks_patients_and_practitioners_too() -> None:
    patient, _ = await factories.patient(email="lea.unlock@test.dmp")
    doctor, _ = await factories.practitioner(email="doc.unlock@test.dmp")
    for account, email, role in ((patient, "lea.unlock@test.dmp", "PATIENT"),
                                 (doctor, "doc.unlock@test.dmp", "PRACTITIONER")):
        await _lock(account)
        done = run_dmp("unlock-account", email)
        assert done.returncode == 0, done.stderr
        assert done.stdout == f"unlocked {role} account {account.id}\n"
        assert await _lock_state(account) == (None, None, 0, None)
        assert await OutboxMessage.filter(account_id=account.id).count() == 1


async def test_an_unknown_address_is_refused_and_nothing_is_written() -> None:
    agent = await factories.support(email="locked.unlock@support.test")
    await _lock(agent)
    before = await _lock_state(agent)
    done = run_dmp("unlock-account", "nobody.unlock@support.test")
    assert done.returncode == 1
    line = _refusal(done.stderr)
    assert "no account" in line
    assert "nobody" not in line  # the address is not repeated
    assert done.stdout == ""
    assert await _lock_state(agent) == before
    assert await OutboxMessage.all().count() == 0


async def test_what_is_not_an_address_is_refused_and_nothing_is_written() -> None:
    patient, record = await factories.patient()
    await _lock(patient)
    before = await _lock_state(patient)
    for typed in (record.ins, "not-an-address", ""):  # an INS names the patient, but is not an address
        done = run_dmp("unlock-account", typed)
        assert done.returncode == 1, typed
        assert "not an e-mail address" in _refusal(done.stderr)
    assert await _lock_state(patient) == before
    assert await OutboxMessage.all().count() == 0


async def test_an_account_not_locked_is_refused_and_nothing_is_written() -> None:
    agent = await factories.support(email="free.unlock@support.test")
    # Some wrong codes today, not enough to lock: an unlock would give them back.
    await Account.filter(id=agent.id).update(failure_count=3, failure_day=clock.now().date())
    before = await _lock_state(agent)
    done = run_dmp("unlock-account", "free.unlock@support.test")
    assert done.returncode == 1
    line = _refusal(done.stderr)
    assert f"SUPPORT account {agent.id} is not locked" in line
    assert done.stdout == ""
    assert await _lock_state(agent) == before
    assert await OutboxMessage.all().count() == 0


async def test_the_shared_unlock_writes_nothing_for_an_account_unlocked_meanwhile() -> None:
    """Read locked, found unlocked in the transaction (support or another operator was first):
    not unlocked twice, no second notice."""
    agent = await factories.support()
    await _lock(agent)
    read_locked = await Account.get(id=agent.id)
    # Unlocked by another, then a wrong code again: the day's new failure stays counted.
    await Account.filter(id=agent.id).update(
        locked_at=None, lock_reason=None, failure_count=1, failure_day=clock.now().date())
    async with in_transaction() as conn:
        assert await accounts.unlock(read_locked, by=accounts.BY_OPERATOR, using_db=conn) is False
    assert await _lock_state(agent) == (None, None, 1, clock.now().date())
    assert await OutboxMessage.all().count() == 0


async def test_an_unlock_whose_notice_cannot_be_queued_lifts_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lock is lifted and the notice queued in the caller's one transaction: an unlock the
    holder is not told of does not happen."""
    agent = await factories.support()
    await _lock(agent)
    before = await _lock_state(agent)

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr("backend.accounts.notify_security", broken)
    with pytest.raises(RuntimeError):
        async with in_transaction() as conn:
            await accounts.unlock(agent, by=accounts.BY_OPERATOR, using_db=conn)
    assert await _lock_state(agent) == before
    assert await OutboxMessage.all().count() == 0
