"""`dmp seed-demo` writes care content through the product's paths, and twice changes nothing."""

from __future__ import annotations

import httpx

from backend.domain.enums import EntrySource, RecordStatus
from backend.models import AccessEvent, Account, Entry, Grant, ImportKey, Practitioner, Record
from tests.conftest import Caller, session_for
from tests.server import run_dmp

MEDS = """query ($ins: String!) {
  patientRecord(ins: $ins) { accessMode medications(first: 100) { totalCount } allergies { totalCount }
                             labResults { totalCount } } }"""


async def _counts() -> tuple[int, ...]:
    return (await Entry.all().count(), await ImportKey.all().count(),
            await AccessEvent.all().count(), await Grant.all().count(),
            await Entry.filter(masked=True).count(), await Record.all().count())


async def test_seed_demo_content_twice(client: httpx.AsyncClient) -> None:
    first = run_dmp("seed-demo")
    assert first.returncode == 0, first.stderr
    counts = await _counts()
    camille = await Record.get(owner__email="camille.martin@demo.dmp")
    lea = await Record.get(owner__email="lea.petit@demo.dmp")
    assert lea.status == RecordStatus.CLOSED
    imported = await Entry.filter(record_id=camille.id, source=EntrySource.INSURER).count()
    assert imported >= 40
    dates = await Entry.filter(record_id=camille.id).values_list("care_date", flat=True)
    assert (max(dates) - min(dates)).days >= 600
    assert await Entry.filter(record_id=camille.id, source=EntrySource.PRACTITIONER).count() == 5
    assert await Entry.filter(record_id=camille.id, masked=True).count() == 2
    durand = await Practitioner.get(account__email="dr.durand@demo.dmp")
    assert camille.treating_physician_id == durand.id  # type: ignore[attr-defined]
    grant = await Grant.get(record_id=camille.id)
    assert sorted(grant.sections) == ["ALLERGIES", "MEDICATIONS"]
    # Camille's sharing is in her history as her own changes read (in French, as the page).
    reasons = await AccessEvent.filter(record_id=camille.id, action="SHARING_CHANGED").values_list(
        "reason", flat=True)
    assert [r.split(" ")[0] for r in reasons] == ["médecin", "accès"], reasons

    again = run_dmp("seed-demo")
    assert again.returncode == 0, again.stderr
    assert await _counts() == counts

    # The pharmacist reads the granted sections, without the masked entries.
    pharmacist = await Account.get(email="pharma.leroy@demo.dmp")
    data = (await Caller(client, session=await session_for(pharmacist)).gql(
        MEDS, {"ins": camille.ins})).ok()["patientRecord"]
    all_meds = await Entry.filter(record_id=camille.id, section="MEDICATIONS", superseded=False)
    assert data["accessMode"] == "GRANTED"
    assert data["medications"]["totalCount"] == len([e for e in all_meds if not e.masked])
    assert data["allergies"]["totalCount"] == 1 and data["labResults"] is None
