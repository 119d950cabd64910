"""Internationalised e-mail addresses: a domain in Unicode is sent in its ASCII form; a local
part in Unicode goes to a server that offers SMTPUTF8, and is failed once, for good and said
why, by one that does not — it was retried for ever (docs/operations.md, "Outbox")."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from backend import clock
from backend.logs import JsonFormatter
from backend.models import Account, OutboxMessage
from backend.notify.delivery import NEVER, deliver_due
from backend.notify.outbox import enqueue_email
from tests import factories
from tests.auth_flows import login
from tests.conftest import Caller
from tests.server import run_dmp
from tests.smtp import SmtpServer, _Collector, serving

CHANGE_EMAIL = "mutation($e: String!) { changeEmail(newEmail: $e) { sentTo } }"
CONFIRM_EMAIL = "mutation($c: String!) { confirmEmailChange(code: $c) }"
UNDELIVERABLE = ("undeliverable: the mail server does not offer SMTPUTF8, which this recipient's "
                 "non-ASCII address needs")


@pytest.fixture
def ascii_smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) that does not offer SMTPUTF8; `smtp_server` offers it."""
    with serving(enable_SMTPUTF8=False) as server:
        yield server


async def test_a_unicode_local_part_without_smtputf8_fails_once_for_good_and_is_logged_without_it(
    ascii_smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    smtp_server = ascii_smtp_server
    josé = await enqueue_email("josé@exemple.fr", "DMP : test", "Bonjour")
    await enqueue_email("jose@exemple.fr", "DMP : test", "Bonjour")
    with caplog.at_level(logging.INFO, logger="dmp.outbox"):
        assert await deliver_due(smtp_server.settings) == (1, 1)
    # The other message went; this one is failed, with its reason, and never due again.
    assert [m.recipients for m in smtp_server.messages] == [["jose@exemple.fr"]]
    row = await OutboxMessage.get(id=josé.id)
    assert (row.sent_at, row.attempts, row.claimed_until) == (None, 1, None)
    assert row.last_error == UNDELIVERABLE
    assert row.next_attempt_at == NEVER
    for later in (timedelta(minutes=31), timedelta(days=40)):
        clock.shift(later)
        assert await deliver_due(smtp_server.settings) == (0, 0)
    assert (await OutboxMessage.get(id=josé.id)).attempts == 1
    # One line for the operator: which message and why, not the address.
    (record,) = [r for r in caplog.records if r.name == "dmp.outbox"]
    line = JsonFormatter().format(record)
    assert record.levelno == logging.ERROR
    assert str(josé.id) in line and "SMTPUTF8" in line
    assert "exemple" not in line and "jos" not in line
    # The deliver-outbox command says so too.
    done = run_dmp("deliver-outbox", **smtp_server.env)
    assert done.returncode == 0, done.stderr
    assert "sent 0, failed 0" in done.stdout and "undeliverable" in done.stdout


async def test_a_server_offering_smtputf8_gets_the_unicode_address_as_it_is(
    smtp_server: SmtpServer,
) -> None:
    utf8_smtp_server = smtp_server
    await enqueue_email("josé@exémple.fr", "DMP : votre code", "Votre code : 123456")
    assert await deliver_due(utf8_smtp_server.settings) == (1, 0)
    # The domain in its ASCII form, which DNS knows; the local part as the patient wrote it.
    (received,) = utf8_smtp_server.messages
    assert received.recipients == ["josé@xn--exmple-cva.fr"]
    assert "123456" in received.body
    assert (await OutboxMessage.get(recipient="josé@exémple.fr")).sent_at is not None


async def test_a_unicode_domain_reaches_a_server_without_smtputf8_in_its_ascii_form(
    ascii_smtp_server: SmtpServer,
) -> None:
    smtp_server = ascii_smtp_server
    await enqueue_email("patient@exémple.fr", "DMP : test", "Bonjour")
    await enqueue_email("patient@faß.de", "DMP : test", "Bonjour")  # IDNA 2008: not fass.de
    assert await deliver_due(smtp_server.settings) == (2, 0)
    assert sorted(r for m in smtp_server.messages for r in m.recipients) == [
        "patient@xn--exmple-cva.fr", "patient@xn--fa-hia.de"]


async def test_change_email_to_international_addresses(
    client: httpx.AsyncClient, ascii_smtp_server: SmtpServer
) -> None:
    """The address is kept as the patient wrote it (composed, in lower case), the code goes to
    the domain's ASCII form, and a domain that is no valid name is refused at once."""
    smtp_server = ascii_smtp_server
    account, _ = await factories.patient()
    cookie = await login(client, smtp_server, account.email or "", factories.PASSWORD, account.email or "")
    caller = Caller(client, session=cookie)
    smtp_server.clear()
    for unreachable in ("patient@exa\u200dmple.fr", "patient@é.my_host.fr", "patient@é..fr"):
        refused = await caller.gql(CHANGE_EMAIL, {"e": unreachable})
        assert refused.codes == ["BAD_USER_INPUT"], unreachable
    assert await OutboxMessage.filter(sent_at=None).count() == 0
    # "é" typed with a combining accent, in capitals: one address, composed and in lower case.
    sent = (await caller.gql(CHANGE_EMAIL, {"e": "Patient@EXE\u0301MPLE.fr"})).ok()["changeEmail"]
    assert sent["sentTo"] == "p•••@e•••.fr"
    code = await smtp_server.code_for("patient@xn--exmple-cva.fr")
    assert (await caller.gql(CONFIRM_EMAIL, {"c": code})).ok() == {"confirmEmailChange": True}
    assert (await Account.get(id=account.id)).email == "patient@exémple.fr"
    await login(client, smtp_server, "PATIENT@EXÉMPLE.FR", factories.PASSWORD, "patient@xn--exmple-cva.fr")


def test_create_account_refuses_a_domain_no_mail_server_can_reach() -> None:
    result = run_dmp(
        "create-account", "--role", "support", "--email", "s@exa\u200dmple.fr", "--password",
        factories.PASSWORD, "--first-name", "S", "--last-name", "T",
    )
    assert result.returncode == 1
    assert result.stderr.startswith("dmp: invalid e-mail address")


async def test_create_account_keeps_a_unicode_address_composed() -> None:
    result = run_dmp(
        "create-account", "--role", "support", "--email", "Jose\u0301@Exemple.fr", "--password",
        factories.PASSWORD, "--first-name", "S", "--last-name", "T",
    )
    assert result.returncode == 0, result.stderr
    assert await Account.filter(email="josé@exemple.fr").exists()



class _Refusing(_Collector):
    """Refuses every recipient with `code`."""

    def __init__(self, code: int) -> None:
        super().__init__()
        self.code = code

    async def handle_RCPT(self, server: object, session: object, envelope: object,  # noqa: N802
                          address: str, rcpt_options: list[str]) -> str:
        return f"{self.code} 5.1.1 <{address}>: mailbox unknown" if self.code >= 500 else (
            f"{self.code} 4.2.2 <{address}>: mailbox full, try later")


@pytest.mark.parametrize(("code", "for_good"), [(550, True), (452, False)])
async def test_a_recipient_the_server_refuses_for_good_is_not_retried(
    code: int, for_good: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """A permanent refusal (5xx) of the recipient fails the message once, said why without
    the address; a temporary one (4xx) is retried later, as before."""
    refusing = _Refusing(code)
    with serving(refusing) as server:
        message = await enqueue_email("nobody@exemple.fr", "DMP : test", "Bonjour")
        with caplog.at_level(logging.INFO, logger="dmp.outbox"):
            assert await deliver_due(server.settings) == (0, 1)
        row = await OutboxMessage.get(id=message.id)
        assert (row.sent_at, row.attempts) == (None, 1)
        if for_good:
            assert row.next_attempt_at == NEVER
            assert row.last_error == f"undeliverable: the mail server refused the recipient for good ({code})"
        else:
            assert row.next_attempt_at < clock.now() + timedelta(hours=1)
            assert row.last_error == "SMTPRecipientsRefused"
        lines = [JsonFormatter().format(r) for r in caplog.records if r.name == "dmp.outbox"]
        assert len(lines) == 1 and not any("nobody" in line for line in lines)
