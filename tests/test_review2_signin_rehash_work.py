"""Review: startLogin's argon2 work for a password typed in a form that is not composed (NFD)
is the same whether the identifier names no account, the password is wrong, or it is right
against a hash made before from the text as typed. That last one used to be hashed again,
composed, after the check (one more argon2 hash, tens of milliseconds past the answers' common
floor): the time told that the password was right, which the answers' words do not."""

from __future__ import annotations

import unicodedata

import httpx
import pytest

from backend.auth import passwords
from backend.models import Account, OneTimeCode
from tests import factories
from tests.auth_flows import START
from tests.conftest import Caller
from tests.test_auth_costly_steps import CountingHasher
from tests.test_signin_password_nfc import COMPOSED, DECOMPOSED


async def test_the_work_of_a_decomposed_password_tells_nothing(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    account, _ = await factories.patient()
    email = account.email or ""
    # As passwords were hashed before they were composed: the text as typed.
    await Account.filter(id=account.id).update(password_hash=passwords.HASHER.hash(DECOMPOSED))
    counting = CountingHasher(passwords.HASHER)
    monkeypatch.setattr(passwords, "HASHER", counting)
    work = {}
    for case, identifier, typed in (
        ("no account", "ghost@test.dmp", DECOMPOSED),
        ("wrong password", email, unicodedata.normalize("NFD", "mauvais été 1234")),
        ("right as typed", email, DECOMPOSED),
    ):
        counting.runs = 0
        codes = await OneTimeCode.all().count()
        (await Caller(client).gql(START, {"i": identifier, "p": typed})).ok()
        work[case] = counting.runs
        assert (await OneTimeCode.all().count() > codes) == (case == "right as typed"), case
    assert len(set(work.values())) == 1, work
    # The right one was still made again composed: typed composed, it now signs in.
    stored = (await Account.get(id=account.id)).password_hash or ""
    assert counting.inner.verify(stored, COMPOSED)
