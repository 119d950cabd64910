"""Accounts, records and entries for tests, made through the provisioning path."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from backend import accounts, clock
from backend.domain.enums import EntrySource, Profession, RecordStatus, Role, Section
from backend.domain.identifiers import ins_key, rpps_check_digit
from backend.models import Account, Entry, Practitioner, Record

PASSWORD = "correct-horse-battery-9"
_counter = itertools.count(1)


def new_ins() -> str:
    n = next(_counter)
    body = f"1850575{n:06d}"
    return body + ins_key(body)


def new_rpps() -> str:
    body = f"1{next(_counter):09d}"
    return body + rpps_check_digit(body)


async def patient(email: str | None = None, **kw: Any) -> tuple[Account, Record]:
    n = next(_counter)
    account = await accounts.create_account(accounts.NewAccount(
        role=Role.PATIENT, email=email or f"patient{n}@test.dmp", password=PASSWORD,
        first_name=kw.get("first_name", "Alice"), last_name=kw.get("last_name", f"Patient{n}"),
        ins=kw.get("ins") or new_ins(), birth_date=dt.date(1985, 6, 12), phone=kw.get("phone"),
    ))
    record = await Record.get(owner_id=account.id)
    return account, record


async def pending_deletion(record: Record) -> None:
    """The record as its owner's request, a day ago, to delete it leaves it: waiting for its deletion."""
    await Record.filter(id=record.id).update(
        status=RecordStatus.DELETED, deletion_requested_at=clock.now() - dt.timedelta(days=1)
    )


async def practitioner(
    profession: Profession = Profession.MEDECIN, *, regulator: bool = False,
    email: str | None = None,
) -> tuple[Account, Practitioner]:
    n = next(_counter)
    account = await accounts.create_account(accounts.NewAccount(
        role=Role.PRACTITIONER, email=email or f"pro{n}@test.dmp", password=PASSWORD,
        first_name="Dr", last_name=f"Pro{n}", rpps=new_rpps(), profession=profession,
        city="Paris", regulator=regulator,
    ))
    return account, await Practitioner.get(account_id=account.id)


async def support(email: str | None = None) -> Account:
    n = next(_counter)
    return await accounts.create_account(accounts.NewAccount(
        role=Role.SUPPORT, email=email or f"support{n}@test.dmp", password=PASSWORD,
        first_name="Sam", last_name=f"Support{n}",
    ))


async def entry(
    record: Record, section: Section, *, title: str = "Entry", days_ago: int = 1,
    author: Account | None = None, masked: bool = False, **details: Any,
) -> Entry:
    return await Entry.create(
        record=record, section=section, title=title, code="",
        care_date=dt.date.today() - dt.timedelta(days=days_ago),
        author=author, author_name=author.display_name if author else "Assurance Maladie",
        source=EntrySource.PRACTITIONER if author else EntrySource.INSURER,
        details=details, masked=masked,
    )
