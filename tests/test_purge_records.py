"""`dmp purge`: closed for 10 years, or deletion requested 30 days ago — everything goes."""

from __future__ import annotations

import os
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from backend import clock, config
from backend.domain.enums import CodeChannel, CodePurpose, RecordStatus, Section
from backend.models import (
    AccessEvent,
    Account,
    ActivationCode,
    BlockedPractitioner,
    Entry,
    Grant,
    OneTimeCode,
    OutboxMessage,
    PasskeyCredential,
    Record,
    Session,
    StoredFile,
)
from backend.purge import purge
from tests import factories
from tests.conftest import Caller, session_for
from tests.history_helpers import READ, grant
from tests.lifecycle_rows import set_state
from tests.server import run_dmp


async def populated(client: httpx.AsyncClient) -> dict[str, Any]:
    """A record with something in every table purge must empty."""
    owner, record = await factories.patient()
    pro_account, pro = await factories.practitioner()
    await factories.entry(record, Section.MEDICATIONS, title="Amoxicilline")
    stored = await StoredFile.create(record=record, content_type="application/pdf", size=3,
                                     filename="cr.pdf", key_id="k1", wrapped_key=b"w", nonce=b"n")
    await factories.entry(record, Section.DOCUMENTS, title="Compte rendu", author=pro_account)
    await Entry.filter(record_id=record.id, section=Section.DOCUMENTS).update(file_id=stored.id)
    path = config.settings().files_dir / str(stored.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"enc")
    await grant(record, pro, Section.MEDICATIONS)
    _, blocked = await factories.practitioner()
    await BlockedPractitioner.create(record=record, practitioner=blocked)
    await Caller(client, session=await session_for(pro_account)).gql(READ, {"ins": record.ins})
    await session_for(owner)
    await OneTimeCode.create(account=owner, purpose=CodePurpose.LOGIN, channel=CodeChannel.EMAIL,
                             code_hash="x" * 64, expires_at=clock.now())
    await ActivationCode.create(record=record, code_hash="y" * 64, issued_by="test",
                                expires_at=clock.now())
    await PasskeyCredential.create(account=owner, credential_id=uuid.uuid4().hex, public_key=b"k",
                                   name="phone")
    assert await AccessEvent.filter(record_id=record.id).exists()
    assert await OutboxMessage.filter(record_id=record.id).exists()  # the first-access notice
    return {"owner": owner, "record": record, "pro": pro_account, "file": path}


async def remains(item: dict[str, Any]) -> dict[str, int]:
    rid, oid = item["record"].id, item["owner"].id
    return {
        "record": await Record.filter(id=rid).count(),
        "entries": await Entry.filter(record_id=rid).count(),
        "files": await StoredFile.filter(record_id=rid).count(),
        "events": await AccessEvent.filter(record_id=rid).count(),
        "outbox": await OutboxMessage.filter(record_id=rid).count()
        + await OutboxMessage.filter(account_id=oid).count(),
        "grants": await Grant.filter(record_id=rid).count(),
        "blocks": await BlockedPractitioner.filter(record_id=rid).count(),
        "activation": await ActivationCode.filter(record_id=rid).count(),
        "account": await Account.filter(id=oid).count(),
        "sessions": await Session.filter(account_id=oid).count(),
        "codes": await OneTimeCode.filter(account_id=oid).count(),
        "passkeys": await PasskeyCredential.filter(account_id=oid).count(),
        "file on disk": int(Path(item["file"]).exists()),
    }


def all_gone(counts: dict[str, int]) -> bool:
    return all(v == 0 for v in counts.values())


# Expired sign-in state (sessions, codes) is housekeeping of its own, purged once expired
# whatever the record: it says nothing about whether a record's data was kept.
EXPIRING = ("sessions", "codes")


def all_there(counts: dict[str, int], *, after_expiry: bool = False) -> bool:
    return all(v >= 1 for k, v in counts.items() if not (after_expiry and k in EXPIRING))


async def test_purge_with_the_clock_moved(client: httpx.AsyncClient) -> None:
    closed, deleted, closed_late, deleted_late, active = [await populated(client) for _ in range(5)]
    now = clock.now()
    await set_state(closed["record"].id, RecordStatus.CLOSED, now)
    await set_state(deleted["record"].id, RecordStatus.DELETED, now)
    for item in (closed, deleted, closed_late, deleted_late, active):
        assert all_there(await remains(item))

    # 40 days on: the deletion request is past its grace period, nothing else is due.
    clock.shift(timedelta(days=40))
    await set_state(deleted_late["record"].id, RecordStatus.DELETED, clock.now() - timedelta(days=29))
    report = await purge()
    assert (report.closed, report.deleted, report.files) == (0, 1, 1)
    assert all_gone(await remains(deleted)), await remains(deleted)
    for item in (closed, deleted_late, active):
        assert all_there(await remains(item), after_expiry=True)

    # Ten years after the closing (plus a day): the closed record goes too.
    clock.shift(timedelta(days=365 * 10 + 3) - timedelta(days=40))
    await set_state(closed_late["record"].id, RecordStatus.CLOSED, clock.now() - timedelta(days=365 * 9))
    await Record.filter(id=deleted_late["record"].id).update(
        deletion_requested_at=clock.now() - timedelta(days=10))
    report = await purge()
    assert (report.closed, report.deleted) == (1, 0)
    assert all_gone(await remains(closed)), await remains(closed)
    for item in (closed_late, deleted_late, active):
        assert all_there(await remains(item), after_expiry=True)
    # Practitioners and their own accounts are untouched.
    assert await Account.filter(id=closed["pro"].id).exists()


def _file_on_disk(name: str, days_old: int) -> Path:
    """A file in the service's files folder, last written `days_old` days ago."""
    files_dir = config.settings().files_dir
    files_dir.mkdir(parents=True, exist_ok=True)
    path = files_dir / name
    path.write_bytes(b"enc")
    written = (clock.now() - timedelta(days=days_old)).timestamp()
    os.utime(path, (written, written))
    return path


async def test_dmp_purge_command(client: httpx.AsyncClient) -> None:
    due, kept = await populated(client), await populated(client)
    await set_state(due["record"].id, RecordStatus.DELETED, clock.now() - timedelta(days=31))
    await set_state(kept["record"].id, RecordStatus.CLOSED, clock.now() - timedelta(days=365 * 9))
    # An encrypted file no row holds, two days old: the command sweeps it too.
    orphan = _file_on_disk(str(uuid.uuid4()), days_old=2)
    done = run_dmp("purge")
    assert done.returncode == 0, done.stderr
    assert "purged 1 record(s)" in done.stdout and "1 file(s) removed" in done.stdout
    assert "1 orphan file(s) swept" in done.stdout
    assert not orphan.exists()
    assert due["record"].ins not in done.stdout
    assert all_gone(await remains(due))
    assert all_there(await remains(kept))
    # The remaining chains still verify.
    assert run_dmp("audit", "verify").returncode == 0


async def test_purge_removes_expired_sign_in_state_and_keeps_live_state() -> None:
    from backend.auth.secrets_util import digest
    from backend.models import LoginAttempt, PasskeyChallenge, RateCounter, Session
    from backend.notify.delivery import NEVER

    account, _ = await factories.patient()
    now = clock.now()
    await PasskeyChallenge.create(challenge="old", purpose="login", expires_at=now - timedelta(minutes=1))
    await PasskeyChallenge.create(challenge="live", purpose="login", expires_at=now + timedelta(minutes=5))
    await LoginAttempt.create(token_hash=digest("old"), account=account, purpose=CodePurpose.LOGIN,
                              expires_at=now - timedelta(days=2))
    await LoginAttempt.create(token_hash=digest("live"), account=account, purpose=CodePurpose.LOGIN,
                              expires_at=now + timedelta(minutes=10))
    await RateCounter.create(key="login:x", window_start=now - timedelta(days=3), count=4)
    await RateCounter.create(key="login:x", window_start=now, count=1)
    await Session.create(token_hash=digest("s-old"), account=account, created_at=now - timedelta(days=60),
                         last_seen_at=now - timedelta(days=60), expires_at=now - timedelta(days=59))
    await Session.create(token_hash=digest("s-live"), account=account, created_at=now,
                         last_seen_at=now, expires_at=now + timedelta(hours=1))
    # A message sent two days ago goes (its text may hold a code in clear); one sent now,
    # and one still waiting to be sent however old, stay.
    for sent_at, subject in ((now - timedelta(days=2), "old"), (now, "new"), (None, "waiting")):
        await OutboxMessage.create(channel="EMAIL", recipient="p@test.dmp", subject=subject, body="123456",
                                   next_attempt_at=now - timedelta(days=3), sent_at=sent_at)
    # One the mail server can never take goes a month after it was written, not before.
    for created_at, subject in ((now - timedelta(days=31), "undeliverable"), (now, "undeliverable, new")):
        await OutboxMessage.create(channel="EMAIL", recipient="p@test.dmp", subject=subject, body="123456",
                                   next_attempt_at=NEVER, sent_at=None, attempts=1)
        await OutboxMessage.filter(subject=subject).update(created_at=created_at)
    report = await purge()
    assert report.expired_rows == 6
    assert sorted(await OutboxMessage.filter(recipient="p@test.dmp").values_list("subject", flat=True)) == [
        "new", "undeliverable, new", "waiting"]
    assert await PasskeyChallenge.filter(challenge="live").exists()
    assert not await PasskeyChallenge.filter(challenge="old").exists()
    assert await LoginAttempt.filter(token_hash=digest("live")).exists()
    assert await RateCounter.all().count() == 1
    assert await Session.filter(token_hash=digest("s-live")).exists()
    assert await Session.all().count() == 1


async def test_orphan_files_are_swept_once_a_day_old() -> None:
    from backend.purge import sweep_orphan_files

    _, record = await factories.patient()
    stored = await StoredFile.create(record=record, content_type="application/pdf", size=3,
                                     filename="cr.pdf", key_id="k1", wrapped_key=b"w", nonce=b"n")
    held = _file_on_disk(str(stored.id), days_old=2)
    orphan = _file_on_disk(str(uuid.uuid4()), days_old=2)  # an upload whose row was never committed
    cut_write = _file_on_disk(f".{uuid.uuid4()}.0123456789abcdef.tmp", days_old=2)
    foreign = _file_on_disk("README", days_old=2)
    young = _file_on_disk(str(uuid.uuid4()), days_old=0)  # perhaps an upload in flight
    assert await sweep_orphan_files(clock.now()) == 2
    assert held.exists() and foreign.exists() and young.exists()
    assert not orphan.exists() and not cut_write.exists()
    # Two days later the young one is swept too (with what earlier tests left), the held
    # one never.
    assert await sweep_orphan_files(clock.now() + timedelta(days=2)) >= 1
    assert held.exists() and not young.exists()
    for path in (held, foreign):
        path.unlink()
