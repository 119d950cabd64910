"""Demo care content for `dmp seed-demo`, written through the product's own paths.

Two years of insurer care history per demo patient (the import resolver, as the insurer),
a few practitioner entries (addEntry's logic, as the practitioner), masked entries, a
pharmacist's grant, a treating physician and one closed record. Dates are fixed, so a
second run imports the same items (unchanged) and changes nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from typing import Any

from starlette.requests import Request

from backend.audit.collector import AccessLog
from backend.audit.writer import Actor
from backend.auth.viewer import Viewer
from backend.domain.codes import ean13_check_digit
from backend.domain.enums import AccessAction, RecordStatus, Role, Section
from backend.models import AccessEvent, Account, Entry, Grant, ImportKey, Practitioner, Record
from backend.resolvers import content, imports, lifecycle, sharing
from backend.resolvers.context import Context, build_context

# The history ends here, not today: the same items on every run, whatever the date.
HISTORY_END = dt.date(2026, 9, 30)
HISTORY_DAYS = 730

MEDICINES = [  # (title, ATC, CIP13 body)
    ("Doliprane 1000 mg, comprimé", "N02BE01", "340093000101"),
    ("Amoxicilline 1 g, comprimé", "J01CA04", "340093000102"),
    ("Ventoline 100 µg, suspension pour inhalation", "R03AC02", "340093000103"),
    ("Metformine 850 mg, comprimé", "A10BA02", "340093000104"),
    ("Kardégic 75 mg, poudre", "B01AC06", "340093000105"),
    ("Levothyrox 50 µg, comprimé", "H03AA01", "340093000106"),
    ("Sertraline 50 mg, gélule", "N06AB06", "340093000107"),
]
LAB_TESTS = [  # (analyte, LOINC, unit, range, low, high)
    ("Glycémie à jeun", "2345-7", "mmol/L", "3.9-5.8", 4.2, 6.4),
    ("Hémoglobine glyquée", "4548-4", "%", "4.0-6.0", 5.2, 7.1),
    ("Créatinine", "2160-0", "µmol/L", "45-90", 55.0, 95.0),
    ("Cholestérol total", "2093-3", "mmol/L", "< 5.2", 4.1, 6.3),
]
PROCEDURES = [("Électrocardiogramme", "DEQP003"), ("Consultation spécialisée — spirométrie", "GLQP012")]
IMAGING = [("Radiographie du thorax", "ZBQK002", "RX", "Thorax",
            "Pas d'anomalie pleuro-parenchymateuse.")]
DEVICES = [("Lecteur de glycémie", "1101540"), ("Chambre d'inhalation", "1180990")]
STAYS = [("Appendicectomie — CHU", "K35.8", "CHU de Lille")]

PATIENT_SEEDS = {"Camille": 11, "Louis": 22, "Léa": 33}


def _cip13(body: str) -> str:
    return body + ean13_check_digit(body)


def _day(rng: random.Random, start: int = 0, end: int = HISTORY_DAYS) -> dt.date:
    return HISTORY_END - dt.timedelta(days=rng.randint(start, end))


def care_history(record: Record) -> list[imports.CareItem]:
    """About two years of care for one demo patient, the same on every run."""
    rng = random.Random(PATIENT_SEEDS.get(record.first_name, 7))  # noqa: S311 — demo data
    prefix = f"CNAM-{record.ins[-6:]}"
    items: list[imports.CareItem] = []

    def add(kind: str, n: int, section: Section, code: str, title: str, date: dt.date,
            details: dict[str, Any]) -> None:
        items.append(imports.CareItem(
            ins=record.ins, first_name=record.first_name, last_name=record.last_name,
            birth_date=record.birth_date, external_id=f"{prefix}-{kind}-{n:03d}",
            section=section, code=code, title=title, date=date, details=details,
        ))

    regular = rng.sample(MEDICINES[:6], 2)
    for month in range(24):
        title, atc, body = regular[month % 2]
        date = HISTORY_END - dt.timedelta(days=30 * month + rng.randint(0, 5))
        add("MED", month, Section.MEDICATIONS, _cip13(body), title, date,
            {"cip13": _cip13(body), "atc": atc, "dose": "selon prescription", "quantity": 2,
             "prescriber": "Dr Sophie Durand"})
    title, atc, body = MEDICINES[6]
    add("MED", 90, Section.MEDICATIONS, _cip13(body), title, _day(rng, 200, 300),
        {"cip13": _cip13(body), "atc": atc, "dose": "1 gélule le matin", "quantity": 1})
    for panel in range(4):
        date = HISTORY_END - dt.timedelta(days=180 * panel + rng.randint(0, 20))
        for n, (analyte, loinc, unit, ref, low, high) in enumerate(LAB_TESTS):
            value = round(rng.uniform(low, high), 1)
            add("LAB", panel * 10 + n, Section.LAB_RESULTS, loinc, analyte, date,
                {"analyte": analyte, "loinc": loinc, "value": str(value), "unit": unit,
                 "referenceRange": ref, "abnormal": value > high * 0.93})
    for n, (title, ccam) in enumerate(PROCEDURES):
        add("ACT", n, Section.PROCEDURES, ccam, title, _day(rng),
            {"ccamCode": ccam, "performer": "Dr Paul Moreau"})
    for n, (title, ccam, modality, site, report) in enumerate(IMAGING):
        add("IMG", n, Section.IMAGING, ccam, title, _day(rng),
            {"ccamCode": ccam, "modality": modality, "bodySite": site, "report": report})
    title, lpp = DEVICES[rng.randrange(len(DEVICES))]
    add("LPP", 0, Section.MEDICAL_DEVICES, lpp, title, _day(rng), {"lppCode": lpp, "quantity": 1})
    if rng.random() < 0.7:
        title, icd, facility = STAYS[0]
        admission = _day(rng, 100, 600)
        add("HOSP", 0, Section.HOSPITAL_STAYS, icd, title, admission,
            {"facility": facility, "admissionDate": admission.isoformat(),
             "dischargeDate": (admission + dt.timedelta(days=3)).isoformat()})
    return items


def _context(viewer: Viewer) -> Context:
    request = Request({"type": "http", "method": "POST", "path": "/seed-demo", "headers": []})
    return build_context(request, None, viewer)


async def _viewer_of(account: Account) -> Viewer:
    practitioner = await Practitioner.filter(account_id=account.id).first()
    return Viewer(
        account_id=account.id, role=Role(account.role), display_name=account.display_name,
        practitioner_id=practitioner.id if practitioner else None,
        profession=practitioner.profession if practitioner else None,
        is_regulator=bool(practitioner and practitioner.is_regulator),
    )


async def _as(account: Account) -> Context:
    return _context(await _viewer_of(account))


async def _import(organization: str, records: list[Record]) -> imports.ImportResult:
    log = AccessLog(Actor(account_id=None, name=organization, profession=None, role="INSURER"))
    items = [item for record in records for item in care_history(record)]
    result = await imports.run_import(log, organization, items)
    await log.flush()
    return result


async def _add(author: Account, record: Record, new: content.NewEntry) -> None:
    """Add an entry once: a second run finds it by author and title."""
    if await Entry.filter(record_id=record.id, author_id=author.id, title=new.title).exists():
        return
    ctx = await _as(author)
    await content.add_entry(ctx, dataclasses.replace(new, ins=record.ins))
    await ctx.access_log.flush()


async def _share(patient: Account, record: Record, doctor: Practitioner,
                 pharmacist: Practitioner) -> None:
    """Through the patient's own mutations, so that the history reads as theirs would."""
    ctx = await _as(patient)
    if record.treating_physician_id is None:  # type: ignore[attr-defined]
        await sharing.set_treating_physician(ctx, str(doctor.id))
        record.treating_physician_id = doctor.id
    if not await Grant.filter(record_id=record.id, practitioner_id=pharmacist.id).exists():
        await sharing.grant_access(ctx, str(pharmacist.id), [Section.MEDICATIONS, Section.ALLERGIES])
    await ctx.access_log.flush()


async def _mask(patient: Account, record: Record, external_ids: list[str]) -> None:
    ctx = await _as(patient)
    entry_ids = await ImportKey.filter(record_id=record.id, external_id__in=external_ids) \
        .values_list("entry_id", flat=True)
    for entry_id in entry_ids:
        await content.set_masked(ctx, str(entry_id), True)
    await ctx.access_log.flush()


async def seed_care(insurer: str, patient_emails: list[str], doctor_email: str,
                    pharmacist_email: str, closed_email: str) -> list[str]:
    """Write the demo care content; returns lines for the operator."""
    patients = [await Account.get(email=email) for email in patient_emails]
    records = [await Record.get(owner_id=p.id) for p in patients]
    # A record closed by an earlier seed is left out: its items would be refused, and each
    # refusal is a denied attempt in its history, so a second seed would not change nothing.
    result = await _import(insurer, [r for r in records if r.status in (RecordStatus.ACTIVE,
                                                                           RecordStatus.PENDING)])
    lines = [f"  care history: {result.created} imported, {result.unchanged} already there, "
             f"{len(result.rejected)} refused"]

    camille, record = patients[0], records[0]
    lines += await _camille(camille, record, doctor_email, pharmacist_email)
    closed = next(p for p in patients if p.email == closed_email)
    closed_record = next(r for r in records if r.owner_id == closed.id)  # type: ignore[attr-defined]
    # Close it once only: if the demo user reopens it, a new seed leaves it be.
    ever_closed = await AccessEvent.filter(record_id=closed_record.id,
                                           action=AccessAction.RECORD_CLOSED).exists()
    if closed_record.status == RecordStatus.ACTIVE and not ever_closed:
        ctx = await _as(closed)
        await lifecycle.close_record(ctx)
        await ctx.access_log.flush()
    lines.append(f"  {closed.display_name}: record {(await Record.get(id=closed_record.id)).status}")
    return lines


async def _camille(camille: Account, record: Record, doctor_email: str,
                   pharmacist_email: str) -> list[str]:
    """Sharing and practitioner entries for the first demo patient, while her record is active."""
    if record.status != RecordStatus.ACTIVE:
        return [f"  {camille.display_name}: record {record.status}, left as it is"]
    doctor_account = await Account.get(email=doctor_email)
    pharmacist_account = await Account.get(email=pharmacist_email)
    doctor = await Practitioner.get(account_id=doctor_account.id)
    pharmacist = await Practitioner.get(account_id=pharmacist_account.id)
    await _share(camille, record, doctor, pharmacist)
    for new in (
        content.NewEntry(section=Section.MEDICAL_HISTORY, title="Asthme allergique",
                         date=dt.date(2025, 3, 4), code="J45.0",
                         structured=[(Section.MEDICAL_HISTORY, {
                             "condition": "Asthme allergique", "icd10": "J45.0",
                             "notes": "Depuis l'enfance, bien contrôlé sous traitement."})]),
        content.NewEntry(section=Section.ALLERGIES, title="Allergie à la pénicilline",
                         date=dt.date(2025, 3, 4),
                         structured=[(Section.ALLERGIES, {
                             "substance": "Pénicilline", "reaction": "Urticaire",
                             "severity": "modérée"})]),
        content.NewEntry(section=Section.VACCINATIONS, title="Vaccin grippe saisonnière",
                         date=dt.date(2025, 10, 20),
                         structured=[(Section.VACCINATIONS, {
                             "vaccine": "Vaxigrip Tetra", "lot": "W3G541", "doseNumber": 1})]),
        content.NewEntry(section=Section.DOCUMENTS, title="Compte rendu de consultation",
                         date=dt.date(2026, 2, 11),
                         structured=[(Section.DOCUMENTS, {
                             "documentType": "Compte rendu",
                             "description": "Suivi de l'asthme : pas d'exacerbation."})]),
    ):
        await _add(doctor_account, record, new)
    await _add(pharmacist_account, record, content.NewEntry(
        section=Section.MEDICATIONS, title="Délivrance Ventoline (conseil inhalation)",
        date=dt.date(2026, 4, 2), code="R03AC02",
        structured=[(Section.MEDICATIONS, {"atc": "R03AC02", "quantity": 1,
                                           "dose": "2 bouffées si besoin"})]))
    prefix = f"CNAM-{record.ins[-6:]}"
    await _mask(camille, record, [f"{prefix}-MED-090", f"{prefix}-LAB-000"])
    if record.blood_group is None:
        ctx = await _as(camille)
        await content.update_emergency_profile(ctx, content.EmergencyUpdate(
            blood_group="A+", advance_directives="",
            contacts=[{"name": "Thomas Martin", "phone": "+33 6 11 22 33 44",
                       "relation": "conjoint"}]))
        await ctx.access_log.flush()
    return [f"  {camille.display_name}: treating physician Dr Durand, pharmacist Leroy granted "
            "MEDICATIONS+ALLERGIES, 2 masked entries"]
