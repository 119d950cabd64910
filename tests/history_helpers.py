"""Shared set-up of the access-history tests: a patient, a practitioner, a grant, a read."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from backend import clock
from backend.audit import reasons
from backend.domain.enums import EmergencyKind, Profession, ReviewState, Section
from backend.models import Account, EmergencySession, Grant, Practitioner, Record
from tests import factories
from tests.conftest import Caller, session_for

READ = """query Read($ins: String!) {
  patientRecord(ins: $ins) {
    ins accessMode
    medications { edges { node { title } } }
    again: medications { totalCount }
    allergies { edges { node { title } } }
  }
}"""


async def grant(record: Record, practitioner: Practitioner, *sections: Section) -> Grant:
    return await Grant.create(record=record, practitioner=practitioner, sections=[s.value for s in sections])


async def break_glass(record: Record, practitioner: Practitioner, *, kind: EmergencyKind =
                      EmergencyKind.BREAK_GLASS, minutes: int = 60,
                      reason: str = "Patient inconscient aux urgences") -> EmergencySession:
    now = clock.now()
    return await EmergencySession.create(
        record=record, practitioner=practitioner, kind=kind, reason=reason,
        opened_at=now, expires_at=now + dt.timedelta(minutes=minutes),
    )


async def reviewed(session: EmergencySession, state: str, comment: str = "") -> str:
    """The reason a review of this access writes in the history (reasons.reviewed_access): its
    state, the access (kind, opening, practitioner), then the patient's comment, if any."""
    stored = await EmergencySession.get(id=session.id).prefetch_related("practitioner__account")
    practitioner = stored.practitioner
    who = reasons.professional(
        practitioner.account.display_name, Profession(practitioner.profession), practitioner.rpps
    )
    kind = EmergencyKind(stored.kind)
    return reasons.reviewed_access(ReviewState(state), kind, stored.opened_at, who, comment)


async def setup(client: httpx.AsyncClient, profession: Profession = Profession.MEDECIN) -> dict[str, Any]:
    """A patient with two entries, a practitioner granted MEDICATIONS and ALLERGIES."""
    patient, record = await factories.patient()
    pro_account, pro = await factories.practitioner(profession)
    await factories.entry(record, Section.MEDICATIONS, title="Amoxicilline")
    await factories.entry(record, Section.ALLERGIES, title="Pénicilline")
    await grant(record, pro, Section.MEDICATIONS, Section.ALLERGIES)
    return {
        "patient": patient, "record": record, "pro_account": pro_account, "pro": pro,
        "as_patient": Caller(client, session=await session_for(patient)),
        "as_pro": Caller(client, session=await session_for(pro_account)),
    }


async def account_of(pro: Practitioner) -> Account:
    return await Account.get(id=pro.account_id)  # type: ignore[attr-defined]
