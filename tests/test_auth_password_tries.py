"""changePassword's current password is a password try: counted with sign-in's (DESIGN §5).

A session that holds a fresh factor (any session in the ten minutes after its login) could
otherwise try passwords without end; they share the account's tries per hour.
"""

from __future__ import annotations

import httpx

from backend.auth.contacts import decoy_destination
from backend.auth.passwords import HASHER
from backend.models import AccessEvent, Account, OneTimeCode
from backend.resolvers.login import STARTS_PER_HOUR
from tests import factories
from tests.auth_flows import CHANGE_PASSWORD, NEW_PASSWORD, START, login
from tests.conftest import Caller
from tests.smtp import SmtpServer


async def test_wrong_current_passwords_are_counted_with_sign_in_tries(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    account, _ = await factories.patient()
    email = account.email or ""
    caller = Caller(client, session=await login(client, smtp_server, email, factories.PASSWORD, email))
    answers = []
    for n in range(STARTS_PER_HOUR):
        tried = await caller.gql(CHANGE_PASSWORD, {"o": f"guess number {n:03d}", "n": NEW_PASSWORD})
        answers.append(tried.codes[0] if tried.codes else None)
    # The login above took one of the hour's tries.
    assert answers == ["BAD_USER_INPUT"] * (STARTS_PER_HOUR - 1) + ["RATE_LIMITED"]
    # Past the limit even the right one is refused, and nothing changes.
    right = await caller.gql(CHANGE_PASSWORD, {"o": factories.PASSWORD, "n": NEW_PASSWORD})
    assert right.codes == ["RATE_LIMITED"]
    assert HASHER.verify((await Account.get(id=account.id)).password_hash or "", factories.PASSWORD)
    assert await AccessEvent.filter(action="SECURITY_CHANGED").count() == 0
    # Sign-in counts on the same tries: past them, even the right password gets the answer
    # of an identifier that names no account (the e-mail's own tries are not used up), and
    # no code is sent.
    codes = await OneTimeCode.filter(account_id=account.id).count()
    started = (await Caller(client).gql(START, {"i": email, "p": factories.PASSWORD})).ok()
    assert started["startLogin"]["factors"] == ["CODE"]
    assert started["startLogin"]["codeSentTo"] == decoy_destination(email)
    assert await OneTimeCode.filter(account_id=account.id).count() == codes
