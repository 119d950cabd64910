"""Password-reset codes refused past their limits say which limit (`extensions.reason`), under
the RATE_LIMITED code: a code's five tries (a new reset gets a new code) or the day's ten tries
(resets open again the next day). An identifier that names no account answers word for word
as a real account does, try after try."""

from __future__ import annotations

from typing import Any

import httpx

from backend.models import Account, Session
from tests import factories
from tests.auth_flows import DO_RESET, RESET, wrong
from tests.conftest import Caller
from tests.smtp import SmtpServer

NEW = "une phrase neuve 77"


async def _resets(
    client: httpx.AsyncClient, smtp: SmtpServer, identifier: str, email: str | None, resets: int, tries: int
) -> list[dict[str, Any]]:
    """`resets` resets asked for `identifier`, `tries` wrong codes on each: every error, whole.
    `email`: where a real account's codes go (None: no account)."""
    errors = []
    for _ in range(resets):
        asked = (await Caller(client).gql(RESET, {"i": identifier})).ok()["requestPasswordReset"]
        code = await smtp.code_for(email) if email else "000000"
        variables = {"t": asked["attemptToken"], "c": wrong(code), "p": NEW}
        for _ in range(tries):
            result = await Caller(client).gql(DO_RESET, variables)
            assert len(result.errors) == 1 and not (result.data or {}).get("resetPassword")
            errors.append(result.errors[0])
    return errors


def _reasons(errors: list[dict[str, Any]]) -> list[str | None]:
    return [e["extensions"].get("reason") for e in errors]


async def test_a_reset_code_tried_five_times_and_the_days_tries_used_up_say_so_alike_known_or_not(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    account, _ = await factories.patient()
    email = account.email or ""
    known = await _resets(client, smtp_server, email, email, 2, 6)
    unknown = await _resets(client, smtp_server, "ghost@test.dmp", None, 2, 6)
    # Six tries on a code: five counted, the sixth finds its tries used up (and spends nothing).
    assert _reasons(known) == (["WRONG_CODE"] * 5 + ["CODE_TRIES_USED_UP"]) * 2
    assert known[5]["extensions"] == {"code": "RATE_LIMITED", "reason": "CODE_TRIES_USED_UP"}
    assert unknown == known
    # The day's ten tries are spent: every reset's code now answers so, known or not.
    known = await _resets(client, smtp_server, email, email, 1, 3)
    unknown = await _resets(client, smtp_server, "ghost@test.dmp", None, 1, 3)
    assert _reasons(known) == ["RESET_TRIES_USED_UP"] * 3
    assert known[0]["extensions"] == {"code": "RATE_LIMITED", "reason": "RESET_TRIES_USED_UP"}
    assert unknown == known
    # Nothing was set.
    assert (await Account.get(id=account.id)).password_hash == account.password_hash
    assert await Session.all().count() == 0


async def test_the_days_reset_tries_used_up_refuse_even_the_right_code(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    account, record = await factories.patient()
    email = account.email or ""
    assert _reasons(await _resets(client, smtp_server, email, email, 2, 5)) == ["WRONG_CODE"] * 10
    # The e-mail's own ten are used up: even its right code is refused, with the reason.
    for identifier, refusal in (
        (email, {"code": "RATE_LIMITED", "reason": "RESET_TRIES_USED_UP"}),
        # Whichever identifier names the account, its ten are used up too, and even the right
        # code is refused; but the INS's own are not, and the refusal is that of a wrong code,
        # as an unknown INS's decoy answers (`tests/test_signin_counter_oracle.py`).
        (record.ins, {"code": "BAD_USER_INPUT", "reason": "WRONG_CODE"}),
    ):
        asked = (await Caller(client).gql(RESET, {"i": identifier})).ok()["requestPasswordReset"]
        code = await smtp_server.code_for(email)
        result = await Caller(client).gql(DO_RESET, {"t": asked["attemptToken"], "c": code, "p": NEW})
        assert result.errors[0]["extensions"] == refusal
    assert (await Account.get(id=account.id)).password_hash == account.password_hash
    assert await Session.all().count() == 0
