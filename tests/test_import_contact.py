"""An insurer's contact e-mail for a record it opens is kept as sign-up keeps an address (trimmed,
NFC, lower case): it was kept only trimmed, so a decomposed accent or capitals went into the
record and the activation e-mail as the insurer's file had them."""

from __future__ import annotations

import httpx

from backend.domain.enums import RecordStatus
from backend.models import Account, OutboxMessage, Record
from tests import factories
from tests.care_items import IMPORT, insurer_token, medication_item
from tests.conftest import Caller
from tests.smtp import SmtpServer
from tests.test_auth_signup import CREATE, STRONG

GIVEN = "  Jose\u0301.Doe@Example.FR "
KEPT = "jos\u00e9.doe@example.fr"


async def test_an_imported_contact_is_kept_and_mailed_normalised_and_activates(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    insurer = Caller(client, token=await insurer_token())
    ins = factories.new_ins()
    item = medication_item(ins, 1, firstName="José", lastName="Doe", contactEmail=GIVEN)
    payload = (await insurer.gql(IMPORT, {"items": [item]})).ok()["importCareHistory"]
    assert (payload["created"], payload["rejected"]) == (1, [])

    record = await Record.get(ins=ins)
    assert record.pending_contact == KEPT
    assert await OutboxMessage.filter(record_id=record.id).values_list("recipient", flat=True) == [KEPT]
    code = await smtp_server.activation_code_for(KEPT)  # the server offers SMTPUTF8
    assert [m.recipients for m in smtp_server.messages] == [[KEPT]]

    # The patient activates with the mailed code, typing the address as they like.
    created = await Caller(client).gql(CREATE, {"input": {
        "ins": ins, "activationCode": code, "email": "Jose\u0301.DOE@example.fr", "password": STRONG,
    }})
    created.ok()
    account = await Account.get(email=KEPT)
    record = await Record.get(ins=ins)
    assert (record.status, record.owner_id, record.pending_contact) == (  # type: ignore[attr-defined]
        RecordStatus.ACTIVE, account.id, None)
