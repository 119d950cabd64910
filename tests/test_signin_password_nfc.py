"""A password is one text whatever the Unicode form it was typed in: « é » as one character
(NFC, most keyboards) or as « e » + U+0301 (NFD, some devices and copies) is hashed and checked
composed (NFC). A hash made before, from the text as typed, still accepts that exact text, and
is made again composed at that login."""

from __future__ import annotations

import unicodedata

import httpx
import pytest

from backend.auth import passwords
from backend.auth.passwords import HASHER
from backend.models import Account, OneTimeCode
from tests import factories
from tests.auth_flows import CHANGE_PASSWORD, COMPLETE, DO_RESET, RESET, START, login, session_cookie
from tests.conftest import Caller, session_for
from tests.server import run_dmp
from tests.smtp import SmtpServer

COMPOSED = "clé d'été très sûre 42"
DECOMPOSED = unicodedata.normalize("NFD", COMPOSED)


def test_the_two_forms_differ() -> None:
    assert COMPOSED != DECOMPOSED and len(DECOMPOSED) > len(COMPOSED)
    assert unicodedata.normalize("NFC", DECOMPOSED) == COMPOSED


async def _opens(client: httpx.AsyncClient, smtp: SmtpServer, email: str, password: str) -> bool:
    """Whether `password` signs in to the account of `email` (a code is only sent after the
    right password; the code then opens a session)."""
    smtp.clear()
    codes = await OneTimeCode.all().count()
    started = (await Caller(client).gql(START, {"i": email, "p": password})).ok()["startLogin"]
    if await OneTimeCode.all().count() == codes:
        return False
    code = await smtp.code_for(email)
    result = await Caller(client).gql(COMPLETE, {"t": started["attemptToken"], "c": code})
    result.ok()
    return session_cookie(result) is not None


@pytest.mark.parametrize(
    ("set_as", "typed"), [(DECOMPOSED, COMPOSED), (COMPOSED, DECOMPOSED)], ids=["set-nfd", "set-nfc"]
)
async def test_a_reset_password_signs_in_typed_in_either_form(
    client: httpx.AsyncClient, smtp_server: SmtpServer, set_as: str, typed: str
) -> None:
    account, _ = await factories.patient()
    email = account.email or ""
    token = (await Caller(client).gql(RESET, {"i": email})).ok()["requestPasswordReset"]["attemptToken"]
    code = await smtp_server.code_for(email)
    (await Caller(client).gql(DO_RESET, {"t": token, "c": code, "p": set_as})).ok()
    stored = (await Account.get(id=account.id)).password_hash or ""
    assert HASHER.verify(stored, COMPOSED)  # hashed composed, whatever the form sent
    assert await _opens(client, smtp_server, email, typed)
    assert await _opens(client, smtp_server, email, set_as)
    assert not await _opens(client, smtp_server, email, factories.PASSWORD)


async def test_a_changed_password_and_the_current_one_are_read_in_either_form(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    account, _ = await factories.patient()
    email = account.email or ""
    caller = Caller(client, session=await login(client, smtp_server, email, factories.PASSWORD, email))
    (await caller.gql(CHANGE_PASSWORD, {"o": factories.PASSWORD, "n": DECOMPOSED})).ok()
    assert await _opens(client, smtp_server, email, COMPOSED)
    caller = Caller(client, session=await login(client, smtp_server, email, COMPOSED, email))
    # The current password, typed in the other form than it was set in, is the right one.
    (await caller.gql(CHANGE_PASSWORD, {"o": COMPOSED, "n": factories.PASSWORD})).ok()
    assert await _opens(client, smtp_server, email, factories.PASSWORD)


async def test_a_record_activated_with_a_decomposed_password_signs_in_composed(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    doctor, _ = await factories.practitioner()
    ins = factories.new_ins()
    opened = (await Caller(client, session=await session_for(doctor)).gql(
        "mutation($input: OpenRecordInput!) { openRecordForPatient(input: $input) { activationCode } }",
        {"input": {"ins": ins, "firstName": "Léa", "lastName": "Martin", "birthDate": "1990-04-02"}},
    )).ok()["openRecordForPatient"]
    created = await Caller(client).gql(
        "mutation($input: CreateRecordInput!) { createRecord(input: $input) { attemptToken } }",
        {"input": {"ins": ins, "activationCode": opened["activationCode"], "email": "lea@test.dmp",
                   "password": DECOMPOSED}},
    )
    created.ok()
    assert await _opens(client, smtp_server, "lea@test.dmp", COMPOSED)


async def test_a_password_given_to_the_command_line_decomposed_signs_in_composed(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    result = run_dmp(
        "create-account", "--role", "support", "--email", "agent@test.dmp", "--password", DECOMPOSED,
        "--first-name", "Sam", "--last-name", "Agent",
    )
    assert result.returncode == 0, result.stderr
    assert await _opens(client, smtp_server, "agent@test.dmp", COMPOSED)


async def test_a_hash_made_from_the_decomposed_text_still_accepts_it_and_is_made_again_composed(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    account, _ = await factories.patient()
    email = account.email or ""
    # As passwords were hashed before: the text as it was typed.
    await Account.filter(id=account.id).update(password_hash=HASHER.hash(DECOMPOSED))
    assert await _opens(client, smtp_server, email, DECOMPOSED)
    stored = (await Account.get(id=account.id)).password_hash or ""
    assert HASHER.verify(stored, COMPOSED)
    # From now on, either form signs in.
    assert await _opens(client, smtp_server, email, COMPOSED)
    assert await _opens(client, smtp_server, email, DECOMPOSED)


async def test_a_composed_hash_is_left_alone_at_login(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    account, _ = await factories.patient()
    before = account.password_hash
    assert await _opens(client, smtp_server, account.email or "", factories.PASSWORD)
    assert (await Account.get(id=account.id)).password_hash == before


async def test_the_work_tells_neither_the_form_nor_the_account(monkeypatch: pytest.MonkeyPatch) -> None:
    """A composed text (ASCII included) costs one hash; a text that is not composed costs
    two, whether it is right, right only as typed, wrong, or for no account."""
    tries: list[str] = []
    real = passwords._matches

    def counted(stored: str, password: str) -> bool:
        tries.append(password)
        return real(stored, password)

    monkeypatch.setattr(passwords, "_matches", counted)
    composed_hash, typed_hash = HASHER.hash(COMPOSED), HASHER.hash(DECOMPOSED)
    for stored, typed, expected, work in [
        (composed_hash, COMPOSED, passwords.Match.RIGHT, 1),
        (composed_hash, "wrong but composed", passwords.Match.WRONG, 1),
        (None, factories.PASSWORD, passwords.Match.WRONG, 1),
        (composed_hash, DECOMPOSED, passwords.Match.RIGHT, 2),
        (typed_hash, DECOMPOSED, passwords.Match.RIGHT_AS_TYPED, 2),
        (composed_hash, unicodedata.normalize("NFD", "mauvais été 1234"), passwords.Match.WRONG, 2),
        (None, DECOMPOSED, passwords.Match.WRONG, 2),
    ]:
        tries.clear()
        assert await passwords.verify_password(stored, typed) == expected, typed
        assert len(tries) == work, typed
