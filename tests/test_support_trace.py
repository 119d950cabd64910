"""Support's actions on an account without a record — a practitioner's, a support account's —
have no access history to be written in: each is one INFO line of the service's log, naming the
action, the account's role and id and the acting support account's id, and nothing personal
(no name, address, phone number, RPPS number or code). A patient's are in the record's history,
not in the log."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import orjson
import pytest

from backend import accounts, clock
from backend.domain.enums import Profession, Role
from backend.logs import JsonFormatter
from backend.models import Account, Practitioner
from tests import factories
from tests.conftest import Caller, session_for

READ = "query($i: String!) { supportAccount(identifier: $i) { accountId locked } }"
UNLOCK = "mutation($i: String!) { unlockAccount(identifier: $i) { locked } }"
DOCTOR_EMAIL, DOCTOR_PHONE = "hippolyte.zanzibarre@cabinet.test", "+33698765432"
AGENT_EMAIL = "eulalie.quintavalle@support.test"


async def _scene(client: httpx.AsyncClient) -> tuple[Account, Practitioner, Account, Caller]:
    doctor = await accounts.create_account(accounts.NewAccount(
        role=Role.PRACTITIONER, email=DOCTOR_EMAIL, password=factories.PASSWORD,
        first_name="Hippolyte", last_name="Zanzibarre", phone=DOCTOR_PHONE, rpps=factories.new_rpps(),
        profession=Profession.MEDECIN, city="Quimper"))
    agent = await accounts.create_account(accounts.NewAccount(
        role=Role.SUPPORT, email=AGENT_EMAIL, password=factories.PASSWORD,
        first_name="Eulalie", last_name="Quintavalle"))
    pro = await Practitioner.get(account_id=doctor.id)
    return doctor, pro, agent, Caller(client, session=await session_for(agent))


def _lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The support lines as the service writes them (JsonFormatter), parsed."""
    formatter = JsonFormatter()
    return [orjson.loads(formatter.format(r)) for r in caplog.records if r.name == "dmp.support"]


def _personal(pro: Practitioner) -> list[str]:
    return ["Hippolyte", "Zanzibarre", "Quimper", "Eulalie", "Quintavalle", DOCTOR_EMAIL, AGENT_EMAIL,
            DOCTOR_PHONE, DOCTOR_PHONE[-9:], pro.rpps, "too many wrong codes"]


async def test_support_reading_and_unlocking_a_practitioner_leaves_one_line_each_with_ids_only(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    doctor, pro, agent, support = await _scene(client)
    await Account.filter(id=doctor.id).update(locked_at=clock.now(), lock_reason="too many wrong codes")
    caplog.set_level(logging.INFO, logger="dmp.support")
    assert (await support.gql(READ, {"i": pro.rpps})).ok()["supportAccount"]["locked"] is True
    assert (await support.gql(UNLOCK, {"i": DOCTOR_EMAIL})).ok()["unlockAccount"]["locked"] is False
    lines = _lines(caplog)
    # The read; the unlock, then the read of the answer it returns.
    assert [line["event"] for line in lines] == ["support_read", "support_unlock", "support_read"]
    for line in lines:
        assert line["level"] == "info" and line["logger"] == "dmp.support"
        assert str(doctor.id) in line["msg"] and str(agent.id) in line["msg"]
        assert "PRACTITIONER" in line["msg"]
        text = orjson.dumps(line).decode()
        assert [p for p in _personal(pro) if p.lower() in text.lower()] == []


async def test_support_refused_a_colleagues_unlock_leaves_a_line(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    _, pro, agent, support = await _scene(client)
    colleague = await factories.support(email="colleague.trace@test.dmp")
    await Account.filter(id=colleague.id).update(locked_at=clock.now(), lock_reason="too many wrong codes")
    caplog.set_level(logging.INFO, logger="dmp.support")
    assert (await support.gql(UNLOCK, {"i": "colleague.trace@test.dmp"})).codes == ["FORBIDDEN"]
    (line,) = _lines(caplog)
    assert line["event"] == "support_unlock_refused"
    assert str(colleague.id) in line["msg"] and str(agent.id) in line["msg"] and "SUPPORT" in line["msg"]
    assert "colleague.trace" not in orjson.dumps(line).decode()


async def test_an_unlock_rolled_back_is_not_logged_as_done(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    doctor, pro, _, support = await _scene(client)
    await Account.filter(id=doctor.id).update(locked_at=clock.now(), lock_reason="too many wrong codes")

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr("backend.accounts.notify_security", broken)
    caplog.set_level(logging.INFO, logger="dmp.support")
    assert (await support.gql(UNLOCK, {"i": pro.rpps})).codes == ["INTERNAL"]
    assert (await Account.get(id=doctor.id)).locked_at is not None
    assert [line["event"] for line in _lines(caplog)] == []


async def test_support_actions_on_a_patient_are_in_the_history_not_the_log(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    patient, record = await factories.patient(email="lea.trace@test.dmp")
    await Account.filter(id=patient.id).update(locked_at=clock.now(), lock_reason="too many wrong codes")
    support = Caller(client, session=await session_for(await factories.support()))
    caplog.set_level(logging.INFO, logger="dmp.support")
    (await support.gql(READ, {"i": record.ins})).ok()
    (await support.gql(UNLOCK, {"i": "lea.trace@test.dmp"})).ok()
    assert _lines(caplog) == []
