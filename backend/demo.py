"""`dmp seed-demo`: demo accounts and records, written through the product's own paths.

Running it twice changes nothing. The credentials printed are for a laptop demo only.
"""

from __future__ import annotations

import datetime as dt

from backend import accounts
from backend.demo_care import seed_care
from backend.domain.enums import Profession, Role
from backend.domain.identifiers import ins_key, rpps_check_digit
from backend.models import Account, ApiToken, Practitioner

DEMO_PASSWORD = "demo-Passw0rd-2026"  # noqa: S105 — printed for laptop demos


def demo_ins(body: str) -> str:
    return body + ins_key(body)


def demo_rpps(body: str) -> str:
    return body + rpps_check_digit(body)


PATIENTS = [
    ("camille.martin@demo.dmp", "Camille", "Martin", "2850675123456", dt.date(1985, 6, 12)),
    ("louis.bernard@demo.dmp", "Louis", "Bernard", "1720213055123", dt.date(1972, 2, 3)),
    ("lea.petit@demo.dmp", "Léa", "Petit", "2990175056789", dt.date(1999, 1, 20)),
]
PRACTITIONERS = [
    ("dr.durand@demo.dmp", "Sophie", "Durand", "1000000001", Profession.MEDECIN, "Paris", False),
    ("dr.moreau@demo.dmp", "Paul", "Moreau", "1000000002", Profession.MEDECIN, "Lyon", False),
    ("pharma.leroy@demo.dmp", "Julie", "Leroy", "1000000003", Profession.PHARMACIEN, "Paris", False),
    ("inf.roux@demo.dmp", "Marc", "Roux", "1000000004", Profession.INFIRMIER, "Lille", False),
    ("samu.fournier@demo.dmp", "Anne", "Fournier", "1000000005", Profession.MEDECIN, "Paris", True),
]
SUPPORT = ("support@demo.dmp", "Équipe", "Support")
INSURER = "Assurance Maladie"


async def seed() -> None:
    lines = [f"Demo accounts (password for all: {DEMO_PASSWORD})"]
    for email, first, last, body, birth in PATIENTS:
        ins = demo_ins(body)
        if not await Account.filter(email=email).exists():
            await accounts.create_account(accounts.NewAccount(
                role=Role.PATIENT, email=email, password=DEMO_PASSWORD, first_name=first,
                last_name=last, ins=ins, birth_date=birth, phone="+33600000000",
            ), command="dmp seed-demo")
        lines.append(f"  patient       {email:28} INS {ins}")
    for email, first, last, body, profession, city, regulator in PRACTITIONERS:
        rpps = demo_rpps(body)
        if not await Practitioner.filter(rpps=rpps).exists():
            await accounts.create_account(accounts.NewAccount(
                role=Role.PRACTITIONER, email=email, password=DEMO_PASSWORD, first_name=first,
                last_name=last, rpps=rpps, profession=profession, city=city, regulator=regulator,
            ))
        label = "SAMU regulator" if regulator else profession.value
        lines.append(f"  practitioner  {email:28} RPPS {rpps} ({label})")
    email, first, last = SUPPORT
    if not await Account.filter(email=email).exists():
        await accounts.create_account(accounts.NewAccount(
            role=Role.SUPPORT, email=email, password=DEMO_PASSWORD, first_name=first, last_name=last,
        ))
    lines.append(f"  support       {email}")
    if not await ApiToken.filter(organization=INSURER, revoked_at=None).exists():
        _, token = await accounts.create_token("demo insurer", ["insurer:import"], organization=INSURER)
        lines.append(f"  insurer token (shown once): {token}")
    else:
        lines.append("  insurer token: already created (dmp list-tokens; dmp create-token for another)")
    lines += await seed_care(INSURER, [p[0] for p in PATIENTS], PRACTITIONERS[0][0],
                             PRACTITIONERS[2][0], PATIENTS[2][0])
    print("\n".join(lines))
