"""Support finds an account by an identifier typed as sign-in reads it (docs/api.md, support)."""

from __future__ import annotations

import httpx

from backend.models import AccessEvent
from tests import factories
from tests.conftest import Caller, session_for

LOOKUP = "query($id: String!) { supportAccount(identifier: $id) { accountId role } }"


async def test_an_rpps_typed_with_dots_dashes_or_a_non_breaking_space_finds_the_practitioner(
    client: httpx.AsyncClient,
) -> None:
    """Sign-in reads « 100.000.000.07 » or « 10000-000007 » as an RPPS number; support's search
    only took out plain spaces, read the rest as an INS, and answered INVALID_INS."""
    doctor, pro = await factories.practitioner()
    support = Caller(client, session=await session_for(await factories.support()))
    r = pro.rpps
    for typed in (f"{r[:3]}.{r[3:6]}.{r[6:9]}.{r[9:]}", f"{r[:5]}-{r[5:]}", f"{r[:5]}\u00a0{r[5:]}",
                  f"{r[:5]}\t{r[5:]}"):
        result = await support.gql(LOOKUP, {"id": typed})
        assert result.ok()["supportAccount"] == {"accountId": str(doctor.id), "role": "PRACTITIONER"}, typed


async def test_an_ins_typed_with_separators_still_finds_the_patient_and_is_noted(
    client: httpx.AsyncClient,
) -> None:
    patient, record = await factories.patient()
    support = Caller(client, session=await session_for(await factories.support()))
    i = record.ins
    for typed in (f"{i[:1]} {i[1:3]} {i[3:5]} {i[5:7]} {i[7:10]} {i[10:13]} {i[13:]}", f"{i[:7]}.{i[7:]}",
                  f"{i[:7]}\u00a0{i[7:]}"):
        result = await support.gql(LOOKUP, {"id": typed})
        assert result.ok()["supportAccount"] == {"accountId": str(patient.id), "role": "PATIENT"}, typed
    assert await AccessEvent.filter(record_id=record.id, action="SUPPORT_ACTION").count() == 3
