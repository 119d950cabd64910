"""A fresh benchmark database, built from the migrations and seeded in bulk.

PostgreSQL rows go in with COPY (asyncpg ``copy_records_to_table``); SQLite rows with
``executemany`` in one transaction. The ORM is used only to apply the migrations.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import random
import sqlite3
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from backend.audit.chain import GENESIS, event_fields, mac
from backend.domain.enums import Profession, Section
from backend.domain.identifiers import ins_key, rpps_check_digit
from bench.urls import asyncpg_url

# Hashed once per run and reused for every account: argon2 is slow by design.
PASSWORD = "bench-password-Zq8!vT3#"  # noqa: S105
LOAD_PRACTITIONERS = 16
OTHER_PRACTITIONERS = 34
HOT_ENTRIES = 100
HOT_S1_ENTRIES = 60  # of which in ALLERGIES and MEDICATIONS, alternately
BIG_ENTRIES = 10_000
HISTORY_PATIENTS = 64
HISTORY_EVENTS = 80
CHUNK = 20_000

SECTION_WEIGHTS: list[tuple[Section, int]] = [
    (Section.MEDICATIONS, 30),
    (Section.LAB_RESULTS, 22),
    (Section.PROCEDURES, 10),
    (Section.IMAGING, 6),
    (Section.MEDICAL_DEVICES, 5),
    (Section.HOSPITAL_STAYS, 4),
    (Section.MEDICAL_HISTORY, 6),
    (Section.ALLERGIES, 5),
    (Section.VACCINATIONS, 7),
    (Section.DOCUMENTS, 5),
]
LIST_SECTIONS = [s for s, _ in SECTION_WEIGHTS]
SECTION_CHOICES = [s for s, w in SECTION_WEIGHTS for _ in range(w)]

MEDICINES = [
    ("3400930000000", "N02BE01", "Paracétamol 1 g comprimé"),
    ("3400934998331", "C09AA05", "Ramipril 5 mg gélule"),
    ("3400935955834", "A10BA02", "Metformine 850 mg comprimé pelliculé"),
    ("3400936403112", "C10AA05", "Atorvastatine 20 mg comprimé"),
    ("3400933224769", "J01CA04", "Amoxicilline 1 g comprimé dispersible"),
    ("3400930234765", "R03AC02", "Salbutamol 100 µg suspension pour inhalation"),
]
ALLERGENS = [
    ("Pénicilline", "Urticaire généralisée", "modérée"),
    ("Arachide", "Œdème de Quincke", "sévère"),
    ("Pollen de graminées", "Rhinite", "légère"),
    ("Latex", "Eczéma de contact", "modérée"),
    ("Iode", "Éruption cutanée", "légère"),
]
ANALYTES = [
    ("2345-7", "Glycémie à jeun", "mmol/L", "3.9-5.5"),
    ("718-7", "Hémoglobine", "g/dL", "12-16"),
    ("2160-0", "Créatinine", "µmol/L", "45-90"),
    ("2093-3", "Cholestérol total", "mmol/L", "< 5.2"),
]
FIRST = ["Marie", "Jean", "Camille", "Louis", "Chloé", "Hugo", "Léa", "Lucas", "Manon", "Nathan"]
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau"]
CITIES = ["Paris", "Lyon", "Marseille", "Lille", "Nantes", "Rennes", "Bordeaux", "Toulouse"]


@dataclass
class LoadPractitioner:
    rpps: str
    token: str
    patients: list[str] = field(default_factory=list)


@dataclass
class Manifest:
    """What the load generator needs to know about the seeded data."""

    db_url: str
    patients: int
    entries: int
    practitioners: list[LoadPractitioner]
    hot_ins: str
    big_ins: str
    history_sessions: list[str]
    login_emails: list[str]
    insurer_token: str
    # [ins, first name, last name, birth date] of records the insurer imports into (S4).
    import_patients: list[list[str]]
    password: str = PASSWORD

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, path: Path) -> Manifest:
        raw = json.loads(path.read_text())
        raw["practitioners"] = [LoadPractitioner(**p) for p in raw["practitioners"]]
        return cls(**raw)


def make_ins(n: int) -> str:
    sex = "1" if n % 2 else "2"
    body = f"{sex}{(n // 7) % 100:02d}{(n % 12) + 1:02d}75{n % 1000:03d}{(n // 1000) % 1000:03d}"
    return body + ins_key(body)


def make_rpps(n: int) -> str:
    body = f"10{n:08d}"
    return body + rpps_check_digit(body)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- rows -----------------------------------------------------------------------------------

ACCOUNT_COLS = [
    "id", "role", "email", "phone", "email_verified", "phone_verified", "password_hash",
    "first_name", "last_name", "code_channel", "failure_day", "failure_count", "locked_at",
    "lock_reason", "last_login_at", "last_failed_login_at", "created_at", "pending_email",
    "pending_phone",
]
PRACTITIONER_COLS = ["id", "account_id", "rpps", "profession", "city", "is_regulator", "search_text"]
RECORD_COLS = [
    "id", "ins", "owner_id", "first_name", "last_name", "birth_date", "status",
    "treating_physician_id", "allow_regulator", "allow_break_glass", "notify_new_documents",
    "blood_group", "emergency_contacts", "advance_directives", "pending_contact", "event_seq",
    "created_at", "activated_at", "closed_at", "deletion_requested_at",
]
ENTRY_COLS = [
    "id", "record_id", "section", "code", "title", "care_date", "author_id", "author_name",
    "author_profession", "source", "details", "file_id", "masked", "supersedes_id", "superseded",
    "organization", "external_id", "created_at",
]
GRANT_COLS = ["record_id", "practitioner_id", "sections", "created_at", "updated_at"]
TOKEN_COLS = [
    "id", "name", "token_hash", "prefix", "scopes", "organization", "practitioner_id",
    "created_at", "expires_at", "revoked_at", "last_used_at",
]
SESSION_COLS = [
    "id", "token_hash", "account_id", "created_at", "last_seen_at", "expires_at",
    "fresh_factor_at", "user_agent", "revoked_at",
]
EVENT_COLS = [
    "record_id", "seq", "at", "actor_id", "actor_name", "actor_profession", "actor_role",
    "action", "mode", "sections", "entry_id", "reason", "mac",
]
JSON_COLS = {"emergency_contacts", "details", "sections", "scopes"}


class Json:
    """Marks a value stored as JSON text."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def account_row(
    role: str, email: str, first: str, last: str, password_hash: str, now: dt.datetime
) -> tuple[uuid.UUID, tuple[Any, ...]]:
    aid = uuid.uuid4()
    return aid, (
        aid, role, email, None, True, False, password_hash, first, last, "EMAIL", None, 0,
        None, None, None, None, now, None, None,
    )


def details_for(section: Section, rng: random.Random, i: int) -> tuple[str, str, dict[str, Any]]:
    """(code, title, details) of a plausible entry of this section."""
    if section == Section.MEDICATIONS:
        cip, atc, name = rng.choice(MEDICINES)
        return cip, name, {"cip13": cip, "atc": atc, "dose": "1 comprimé matin et soir",
                           "prescriber": "Dr " + rng.choice(LAST), "quantity": rng.randint(1, 6)}
    if section == Section.LAB_RESULTS:
        loinc, analyte, unit, ref = rng.choice(ANALYTES)
        return loinc, analyte, {"analyte": analyte, "loinc": loinc, "value": f"{rng.uniform(1, 15):.1f}",
                                "unit": unit, "referenceRange": ref, "abnormal": rng.random() < 0.1}
    if section == Section.ALLERGIES:
        substance, reaction, severity = rng.choice(ALLERGENS)
        return "", f"Allergie : {substance}", {"substance": substance, "reaction": reaction,
                                               "severity": severity}
    if section == Section.IMAGING:
        report = "Pas d'anomalie pleuro-parenchymateuse visible."
        return "ZBQK002", "Radiographie du thorax", {"ccamCode": "ZBQK002", "modality": "RX",
                                                     "bodySite": "thorax", "report": report}
    if section == Section.PROCEDURES:
        return "HHFA016", "Appendicectomie par cœlioscopie", {"ccamCode": "HHFA016",
                                                              "performer": "Dr " + rng.choice(LAST)}
    if section == Section.MEDICAL_DEVICES:
        return "1176318", "Lecteur de glycémie", {"lppCode": "1176318", "quantity": 1}
    if section == Section.HOSPITAL_STAYS:
        return "", "Séjour en médecine interne", {"facility": "CHU de " + rng.choice(CITIES),
                                                  "admissionDate": "2021-03-02",
                                                  "dischargeDate": "2021-03-09"}
    if section == Section.MEDICAL_HISTORY:
        return "E11", "Diabète de type 2", {"condition": "Diabète de type 2", "icd10": "E11",
                                            "notes": "Découvert en 2015, suivi trimestriel."}
    if section == Section.VACCINATIONS:
        return "J07BB02", "Vaccin grippe saisonnière", {"vaccine": "Influvac Tetra",
                                                         "lot": f"L{i % 9999:04d}", "doseNumber": 1}
    return "", "Compte rendu de consultation", {"documentType": "CR", "description":
                                                "Consultation de suivi, examen clinique normal."}


def entry_rows(
    record_id: uuid.UUID,
    count: int,
    rng: random.Random,
    authors: Sequence[tuple[uuid.UUID, str, str]],
    now: dt.datetime,
    sections: Sequence[Section] | None = None,
) -> Iterator[tuple[Any, ...]]:
    """`count` entries, every list section represented, about 5% masked."""
    for i in range(count):
        if sections is not None:
            section = sections[i % len(sections)]
        elif i < len(LIST_SECTIONS):
            section = LIST_SECTIONS[i]
        else:
            section = rng.choice(SECTION_CHOICES)
        code, title, details = details_for(section, rng, i)
        care_date = dt.date(2010, 1, 1) + dt.timedelta(days=rng.randint(0, 5800))
        if rng.random() < 0.5:
            author_id, author_name, profession = rng.choice(authors)
            source = "PRACTITIONER"
        else:
            author_id, author_name, profession = None, "Assurance maladie", None
            source = "INSURER"
        yield (
            uuid.uuid4(), record_id, section.value, code, title, care_date, author_id, author_name,
            profession, source, Json(details), None, rng.random() < 0.05, None, False, None, None, now,
        )


# --- backends ---------------------------------------------------------------------------------


class Writer:
    async def copy(self, table: str, cols: list[str], rows: Iterable[tuple[Any, ...]]) -> int:
        raise NotImplementedError

    async def execute(self, sql: str) -> None:
        raise NotImplementedError

    async def settle(self) -> None:
        """Statistics and a checkpoint, so the first scenario does not pay for the seeding."""
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


def _chunks(rows: Iterable[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class PostgresWriter(Writer):
    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def copy(self, table: str, cols: list[str], rows: Iterable[tuple[Any, ...]]) -> int:
        n = 0
        for chunk in _chunks(rows):
            records = [
                tuple(json.dumps(v.value, separators=(",", ":")) if isinstance(v, Json) else v for v in row)
                for row in chunk
            ]
            await self.conn.copy_records_to_table(table, records=records, columns=cols)
            n += len(records)
        return n

    async def execute(self, sql: str) -> None:
        await self.conn.execute(sql)

    async def settle(self) -> None:
        await self.conn.execute("VACUUM ANALYZE")
        await self.conn.execute("CHECKPOINT")

    async def close(self) -> None:
        await self.conn.close()


def _sqlite_value(v: Any) -> Any:
    if isinstance(v, Json):
        return json.dumps(v.value, separators=(",", ":"), ensure_ascii=False)
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, dt.datetime):
        return str(v)  # Tortoise's own text form: "YYYY-MM-DD HH:MM:SS.ffffff+00:00"
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


class SqliteWriter(Writer):
    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=OFF")

    async def copy(self, table: str, cols: list[str], rows: Iterable[tuple[Any, ...]]) -> int:
        sql = f'INSERT INTO "{table}" ({", ".join(cols)}) VALUES ({", ".join("?" * len(cols))})'
        n = 0
        for chunk in _chunks(rows):
            self.conn.executemany(sql, [tuple(_sqlite_value(v) for v in row) for row in chunk])
            n += len(chunk)
        self.conn.commit()
        return n

    async def execute(self, sql: str) -> None:
        self.conn.execute(sql)
        self.conn.commit()

    async def settle(self) -> None:
        self.conn.execute("ANALYZE")
        self.conn.commit()
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def close(self) -> None:
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.close()


# --- database creation ----------------------------------------------------------------------


async def migrate_database(url: str) -> None:
    """Apply the committed migrations the database does not have yet."""
    from tortoise import Tortoise
    from tortoise.migrations.api import migrate

    from backend import db

    await migrate(config=db.tortoise_config(url, create=True))
    await Tortoise.close_connections()


async def create_database(url: str) -> None:
    """Drop and create the benchmark database, then apply the committed migrations."""
    if url.startswith("sqlite://"):
        path = Path(url.removeprefix("sqlite://"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
    else:
        import asyncpg  # type: ignore[import-untyped]

        # The database's name is the URL's path; a query (`?host=/var/run/postgresql` for the
        # Unix socket) applies to the administrative connection too.
        parts = urlsplit(asyncpg_url(url))
        name = parts.path.lstrip("/")
        admin = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
    await migrate_database(url)


async def open_writer(url: str) -> Writer:
    if url.startswith("sqlite://"):
        return SqliteWriter(url.removeprefix("sqlite://"))
    import asyncpg

    return PostgresWriter(await asyncpg.connect(asyncpg_url(url)))


# --- seeding ---------------------------------------------------------------------------------


async def seed(
    url: str, patients: int, audit_key: bytes, *, seed_value: int = 14, big_entries: int = BIG_ENTRIES
) -> Manifest:
    """Fill an empty, migrated database; returns what the load generator needs."""
    from backend.auth.passwords import HASHER

    rng = random.Random(seed_value)
    now = dt.datetime.now(dt.UTC)
    password_hash = HASHER.hash(PASSWORD)
    w = await open_writer(url)
    try:
        # Practitioners: 16 médecins drive the load; others make the grants realistic.
        accounts: list[tuple[Any, ...]] = []
        practitioners: list[tuple[Any, ...]] = []
        authors: list[tuple[uuid.UUID, str, str]] = []
        practitioner_ids: list[uuid.UUID] = []
        professions: list[Profession] = []
        load: list[LoadPractitioner] = []
        token_rows: list[tuple[Any, ...]] = []
        other_professions = [p for p in Profession if p != Profession.MEDECIN]
        for n in range(LOAD_PRACTITIONERS + OTHER_PRACTITIONERS):
            profession = Profession.MEDECIN if n < LOAD_PRACTITIONERS or n % 2 else rng.choice(
                other_professions
            )
            first, last = rng.choice(FIRST), rng.choice(LAST)
            aid, row = account_row("PRACTITIONER", f"pro{n}@bench.test", first, last, password_hash, now)
            accounts.append(row)
            pid = uuid.uuid4()
            rpps = make_rpps(n + 1)
            city = rng.choice(CITIES)
            practitioners.append(
                (pid, aid, rpps, profession.value, city, False, f"{first} {last} {city} {rpps}".lower())
            )
            authors.append((aid, f"{first} {last}", profession.value))
            practitioner_ids.append(pid)
            professions.append(profession)
            if n < LOAD_PRACTITIONERS:
                token = f"dmp_bench{n:02d}_" + uuid.uuid4().hex
                load.append(LoadPractitioner(rpps=rpps, token=token))
                token_rows.append(
                    (uuid.uuid4(), f"bench {n}", token_digest(token), token[:12], Json(["practitioner"]),
                     None, pid, now, now + dt.timedelta(days=30), None, now)
                )
        insurer_token = "dmp_benchins_" + uuid.uuid4().hex
        token_rows.append(
            (uuid.uuid4(), "bench insurer", token_digest(insurer_token), insurer_token[:12],
             Json(["insurer:import"]), "CNAM", None, now, now + dt.timedelta(days=30), None, now)
        )

        # Patients, their records, entries and grants.
        from backend.authz.matrix import allowed_sections

        identities: list[list[str]] = []
        record_ids: list[uuid.UUID] = []
        owner_ids: list[uuid.UUID] = []
        ins_list: list[str] = []
        grants: list[tuple[Any, ...]] = []
        records: list[tuple[Any, ...]] = []
        readers: list[list[tuple[uuid.UUID, str, str]]] = []
        total = len(practitioner_ids)
        specials = 2  # the hot record (100 entries) and the big one (10,000)
        for n in range(patients + specials):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            aid, row = account_row("PATIENT", f"patient{n}@bench.test", first, last, password_hash, now)
            accounts.append(row)
            rid = uuid.uuid4()
            ins = make_ins(n)
            treating = rng.choice(practitioner_ids[LOAD_PRACTITIONERS:]) if rng.random() < 0.2 else None
            records.append(
                (rid, ins, aid, first, last, dt.date(1940, 1, 1) + dt.timedelta(days=rng.randint(0, 25000)),
                 "ACTIVE", treating, True, True, False, rng.choice(["A+", "O+", "B-", "AB+", "O-"]),
                 Json([{"name": f"{rng.choice(FIRST)} {last}", "phone": "+33 6 12 34 56 78",
                        "relation": "conjoint"}]),
                 "", None, 0, now, now, None, None)
            )
            identities.append([ins, first, last, records[-1][5].isoformat()])
            record_ids.append(rid)
            owner_ids.append(aid)
            ins_list.append(ins)
            if n >= patients:
                chosen = list(range(LOAD_PRACTITIONERS))
            else:
                chosen = rng.sample(range(total), 3)
            readers.append([authors[k] for k in chosen if k < LOAD_PRACTITIONERS])
            for k in chosen:
                sections = sorted(s.value for s in allowed_sections(professions[k]))
                grants.append((rid, practitioner_ids[k], Json(sections), now, now))
                if k < LOAD_PRACTITIONERS and n < patients:
                    load[k].patients.append(ins)
        hot_ins, big_ins = ins_list[patients], ins_list[patients + 1]

        # The access history, chained as the product writes it: 80 events for the S3 patients,
        # and one earlier read by each load practitioner of each record granted to them, so S1
        # measures the steady state (a first access by a new professional also e-mails the patient).
        sessions: list[str] = []
        session_rows: list[tuple[Any, ...]] = []
        event_rows: list[tuple[Any, ...]] = []
        for n, rid in enumerate(record_ids):
            actors = [rng.choice(authors) for _ in range(HISTORY_EVENTS)] if n < HISTORY_PATIENTS else []
            actors += readers[n]
            previous = GENESIS
            for seq, (aid, name, actor_profession) in enumerate(actors, start=1):
                at = now - dt.timedelta(minutes=len(actors) - seq + 1)
                f = event_fields(
                    record_id=str(rid), seq=seq, at=at, actor_id=str(aid), actor_name=name,
                    actor_profession=actor_profession, actor_role="PRACTITIONER", action="RECORD_READ",
                    mode="GRANTED", sections=["ALLERGIES", "EMERGENCY", "MEDICATIONS"], entry_id=None,
                    reason="",
                )
                previous = mac(audit_key, f, previous)
                event_rows.append(
                    (rid, seq, at, f["actor_id"], name, actor_profession, "PRACTITIONER", "RECORD_READ",
                     "GRANTED", Json(f["sections"]), None, "", previous)
                )
            if actors:
                row = records[n]
                records[n] = row[:15] + (len(actors),) + row[16:]
            if n < HISTORY_PATIENTS and n < patients:
                token = uuid.uuid4().hex + uuid.uuid4().hex
                sessions.append(token)
                session_rows.append(
                    (uuid.uuid4(), token_digest(token), owner_ids[n], now, now,
                     now + dt.timedelta(hours=12), None, "bench", None)
                )

        await w.copy("account", ACCOUNT_COLS, accounts)
        await w.copy("practitioner", PRACTITIONER_COLS, practitioners)
        await w.copy("record", RECORD_COLS, records)
        await w.copy("grant", GRANT_COLS, grants)
        await w.copy("api_token", TOKEN_COLS, token_rows)

        def all_entries() -> Iterator[tuple[Any, ...]]:
            for n, rid in enumerate(record_ids):
                if n < patients:
                    yield from entry_rows(rid, rng.randint(20, 60), rng, authors, now)
                elif n == patients:
                    # The hot record: enough allergies and medications that S1 returns two
                    # full pages, as on the big record, so the two differ only in size.
                    yield from entry_rows(rid, HOT_S1_ENTRIES, rng, authors, now,
                                          sections=(Section.ALLERGIES, Section.MEDICATIONS))
                    yield from entry_rows(rid, HOT_ENTRIES - HOT_S1_ENTRIES, rng, authors, now)
                else:
                    yield from entry_rows(rid, big_entries, rng, authors, now)

        entries = await w.copy("entry", ENTRY_COLS, all_entries())
        await w.copy("access_event", EVENT_COLS, event_rows)
        await w.copy("session", SESSION_COLS, session_rows)

        await w.settle()
    finally:
        await w.close()
    return Manifest(
        db_url=url,
        patients=patients,
        entries=entries,
        practitioners=load,
        hot_ins=hot_ins,
        big_ins=big_ins,
        history_sessions=sessions,
        login_emails=[f"patient{n}@bench.test" for n in range(min(patients, 256))],
        insurer_token=insurer_token,
        import_patients=identities[: min(patients, 200)],
    )


def main() -> None:  # pragma: no cover - manual use
    import argparse

    parser = argparse.ArgumentParser(description="seed a benchmark database")
    parser.add_argument("url")
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--manifest", type=Path, required=True)
    args = parser.parse_args()

    async def go() -> None:
        from backend.config import settings

        await create_database(args.url)
        manifest = await seed(args.url, args.patients, settings().audit_key)
        manifest.save(args.manifest)

    asyncio.run(go())


if __name__ == "__main__":
    main()
