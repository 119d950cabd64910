"""Migration 0010: addresses stored before sign-in normalised them (in Unicode's decomposed
form, in capitals) are rewritten as sign-in reads them; two accounts that would then share
an address are both left as they were, and named in a warning."""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import uuid

import httpx
import pytest

from backend import sql
from backend.models import Account, OutboxMessage
from backend.resolvers.login import read_identifier
from tests import factories
from tests.auth_flows import login, start
from tests.smtp import SmtpServer
from tests.upgrade_probe import upgraded

migration = importlib.import_module("backend.models.migrations.0010_nfc_emails")

NFD_JOSE = "jose\u0301@exemple.fr"  # `josé@`, its accent a combining character
NFD_ZOE = "zoe\u0308@test.dmp"
ZOE = "zo\u00eb@test.dmp"


def _account(email: str, pending_email: str | None = None) -> dict[str, object]:
    """An account row as migration 0009's schema held it (no database defaults)."""
    return {
        "id": uuid.uuid4(), "role": "PATIENT", "email": email, "pending_email": pending_email,
        "email_verified": True, "phone_verified": False, "first_name": "Ada", "last_name": "L",
        "code_channel": "EMAIL", "failure_count": 0, "created_at": dt.datetime.now(dt.UTC),
    }


async def test_stored_addresses_become_those_sign_in_looks_up_and_colliding_ones_stay() -> None:
    old = {
        "decomposed": _account(NFD_JOSE, pending_email="rene\u0301e@exe\u0301mple.fr"),
        "capitals": _account("Dr.Martin@Example.ORG"),  # dmp create-account kept them
        "plain": _account("plain@test.dmp"),
        # Already stored in both forms: the same address once normalised.
        "zoe_nfd": _account(NFD_ZOE), "zoe_nfc": _account(ZOE),
        # Two that would both become ana@test.dmp.
        "ana_upper": _account("ANA@test.dmp"), "ana_domain": _account("ana@TEST.dmp"),
    }
    rows = await upgraded("models.0009_outbox_urgent", "account", list(old.values()))
    by_id = {str(row["id"]): row for row in rows}
    after = {name: by_id[str(row["id"])] for name, row in old.items()}

    assert after["decomposed"]["email"] == "jos\u00e9@exemple.fr"
    assert after["decomposed"]["pending_email"] == "ren\u00e9e@ex\u00e9mple.fr"
    assert after["capitals"]["email"] == "dr.martin@example.org"
    assert after["plain"]["email"] == "plain@test.dmp"
    # Sign-in's lookup (`WHERE email = …`) now finds them as the patient types them.
    assert read_identifier(NFD_JOSE).value == after["decomposed"]["email"]
    assert read_identifier("Dr.Martin@Example.ORG").value == after["capitals"]["email"]
    # Neither merged nor dropped: each colliding account keeps its address as it was.
    for name in ("zoe_nfd", "zoe_nfc", "ana_upper", "ana_domain"):
        assert after[name]["email"] == old[name]["email"], name
    assert len(rows) == len(old)


async def test_a_decomposed_address_signs_in_once_migrated(
    client: httpx.AsyncClient, smtp_server: SmtpServer,
) -> None:
    account, _ = await factories.patient(email="patient@ex\u00e9mple.fr")
    typed = "patient@exe\u0301mple.fr"  # as a keyboard that decomposes accents gives it
    await Account.filter(id=account.id).update(email=typed)  # as stored before NFC
    await start(client, typed, factories.PASSWORD)
    assert await OutboxMessage.filter(account_id=account.id).count() == 0  # not found

    await migration.normalize_addresses(sql.default())

    assert (await Account.get(id=account.id)).email == "patient@ex\u00e9mple.fr"
    # The code goes to the domain's ASCII form (IDNA), which the test server receives.
    assert await login(client, smtp_server, typed, factories.PASSWORD, "patient@xn--exmple-cva.fr")


async def test_two_accounts_that_would_share_an_address_are_left_and_named(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    composed, _ = await factories.patient(email=ZOE)
    decomposed, _ = await factories.patient()
    await Account.filter(id=decomposed.id).update(email=NFD_ZOE)
    capitals, _ = await factories.patient()
    await Account.filter(id=capitals.id).update(email="Capitals@Test.DMP")
    monkeypatch.setattr(migration, "PAGE", 1)  # one account a page: the pair spans pages

    with caplog.at_level(logging.WARNING, logger="dmp.migrations"):
        await migration.normalize_addresses(sql.default())

    assert (await Account.get(id=composed.id)).email == ZOE
    assert (await Account.get(id=decomposed.id)).email == NFD_ZOE
    assert (await Account.get(id=capitals.id)).email == "capitals@test.dmp"  # read past them
    (line,) = [r.getMessage() for r in caplog.records if r.name == "dmp.migrations"]
    assert str(composed.id) in line and str(decomposed.id) in line
    assert "@" not in line  # the ids, never the address
