"""Backup and restore as docs/operations.md describes them, on the database of the pass.

SQLite: the online backup API (what `sqlite3 db ".backup out"` does); PostgreSQL: pg_dump
and pg_restore. The stored files are copied after the database; the keys are kept apart and
given back through the environment. The restored copy passes `dmp audit verify` against
an anchor taken before the backup, and a restored `dmp serve` hands out the same document.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import uuid
from pathlib import Path

import asyncpg
import httpx

from backend import config
from backend.models import AccessEvent, Grant
from tests import factories
from tests.conftest import BASE_DB_URL, DB_URL, TEST_DIR, Caller, db_kind, session_for
from tests.document_samples import download, pdf, upload
from tests.resilience import http_client, ready, servers
from tests.server import run_dmp

READ = "query($ins: String!) { patientRecord(ins: $ins) { accessMode documents { totalCount } } }"


def _run(*command: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"{command[0]}: {done.stdout}{done.stderr}"


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(BASE_DB_URL.replace("asyncpg://", "postgres://"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _backup_database(folder: Path) -> None:
    if db_kind() == "sqlite":
        # Online and consistent even while dmp serve writes (sqlite3's ".backup").
        source = sqlite3.connect(DB_URL.removeprefix("sqlite://"))
        target = sqlite3.connect(folder / "dmp.sqlite3")
        with target:
            source.backup(target)
        source.close()
        target.close()
    else:
        _run("pg_dump", "--format=custom", "--no-owner", "--file", str(folder / "dmp.dump"),
             DB_URL.replace("asyncpg://", "postgres://"))


async def _restore_database(folder: Path, into: Path) -> str:
    """Restore into an empty database; returns its URL."""
    if db_kind() == "sqlite":
        shutil.copyfile(folder / "dmp.sqlite3", into / "dmp.sqlite3")
        return f"sqlite://{into / 'dmp.sqlite3'}"
    name = f"dmp_restored_{uuid.uuid4().hex[:8]}"
    await _admin(f'CREATE DATABASE "{name}"')
    url = BASE_DB_URL.replace("asyncpg://", "postgres://").rsplit("/", 1)[0] + "/" + name
    _run("pg_restore", "--no-owner", "--exit-on-error", "--dbname", url, str(folder / "dmp.dump"))
    return url


async def test_a_backup_restored_into_an_empty_database_verifies_and_serves(
    client: httpx.AsyncClient,
) -> None:
    # A record with a document, shared with a doctor who read it: files, events, sessions.
    owner, record = await factories.patient()
    doctor, practitioner = await factories.practitioner()
    patient_api = Caller(client, session=await session_for(owner))
    doctor_session = await session_for(doctor)
    doctor_api = Caller(client, session=doctor_session)
    document = pdf("compte rendu opératoire")
    entry_id = (await upload(patient_api, document)).ok()["uploadDocument"]["entry"]["id"]
    await Grant.create(record=record, practitioner=practitioner, sections=["DOCUMENTS"])
    assert (await doctor_api.gql(READ, {"ins": record.ins})).ok()["patientRecord"]["documents"] == {
        "totalCount": 1}
    assert (await download(doctor_api, entry_id)).content == document
    events = await AccessEvent.filter(record_id=record.id).count()
    assert events >= 2

    work = TEST_DIR / f"backup-{uuid.uuid4().hex[:8]}"
    backup, restored_dir = work / "backup", work / "restored"
    backup.mkdir(parents=True)
    (restored_dir / "data").mkdir(parents=True)
    anchored = run_dmp("audit", "anchor", "--out", str(work / "anchor.json"))
    assert anchored.returncode == 0, anchored.stderr

    # Backup: the database first, then the files (never changed once written); no keys.
    _backup_database(backup)
    data_dir = config.settings().data_dir
    shutil.copytree(data_dir / "files", backup / "files")
    assert not list(backup.rglob("dmp_*_key")) and not (backup / "keys").exists()

    # Restore into an empty database and an empty data folder; keys come from their own store.
    url = await _restore_database(backup, restored_dir)
    shutil.copytree(backup / "files", restored_dir / "data" / "files")
    keys = {
        "DMP_AUDIT_KEY": config.settings().audit_key.hex(),
        "DMP_DATA_KEY": config.settings().data_key.hex(),
    }
    env = {"DMP_DATABASE_URL": url, "DMP_DATA_DIR": str(restored_dir / "data"), **keys}
    try:
        verified = run_dmp("audit", "verify", "--anchor", str(work / "anchor.json"), **env)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "access history intact" in verified.stdout and "anchored head(s) reached" in verified.stdout
        # The check is real: with another audit key the restored chains do not verify.
        forged = run_dmp("audit", "verify", **{**env, "DMP_AUDIT_KEY": "00" * 32})
        assert forged.returncode == 1 and "FAILED" in forged.stdout

        # A dmp serve on the restored copy serves the same document to the same session.
        with servers(1, **env) as (server,):
            await ready(server)
            async with http_client() as http:
                cookie = f"{config.settings().session_cookie}={doctor_session}"
                response = await http.get(f"{server.base}/files/{entry_id}", headers={"cookie": cookie})
        assert response.status_code == 200 and response.content == document
        # ... and writes the download's event on the restored chain, which still verifies.
        again = run_dmp("audit", "verify", "--ins", record.ins, **env)
        assert again.returncode == 0 and f"{events + 1} event(s)" in again.stdout, again.stdout
    finally:
        if db_kind() == "postgres":
            await _admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
        shutil.rmtree(work, ignore_errors=True)
