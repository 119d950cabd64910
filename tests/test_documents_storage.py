"""Encryption at rest: no plaintext anywhere, fresh keys per file, tampering is an error."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import httpx
import pytest
from tortoise import Tortoise

from backend import config
from backend.files import storage
from backend.files.crypto import FileIntegrityError, Keyring, KeyUnavailable, key_id, open_sealed, seal
from backend.models import Entry, StoredFile
from tests import factories
from tests.conftest import DB_URL, Caller, _tables, db_kind, session_for
from tests.document_samples import download, pdf, upload

MARKER = "PLAINTEXT-" + uuid.uuid4().hex


async def owner_caller(client: httpx.AsyncClient) -> Caller:
    account, _ = await factories.patient()
    return Caller(client, session=await session_for(account))


async def upload_ok(caller: Caller, content: bytes) -> str:
    result = await upload(caller, content, "note.pdf")
    return str(result.ok()["uploadDocument"]["entry"]["id"])


def stored_path(file_id: uuid.UUID) -> Path:
    return config.settings().files_dir / str(file_id)


async def test_plaintext_is_neither_in_the_database_nor_in_the_data_folder(
    client: httpx.AsyncClient,
) -> None:
    content = pdf(MARKER)
    caller = await owner_caller(client)
    entry_id = await upload_ok(caller, content)
    needles = [MARKER.encode(), content[:64], content[-64:]]

    conn = Tortoise.get_connection("default")
    for table in _tables():
        for row in await conn.execute_query_dict(f'SELECT * FROM "{table}"'):  # noqa: S608
            for value in row.values():
                binary = isinstance(value, bytes | bytearray | memoryview)
                blob = bytes(value) if binary else str(value).encode()
                assert not any(n in blob for n in needles), f"plaintext found in {table}"

    folder = config.settings().data_dir
    scanned = 0
    for path in folder.rglob("*"):
        if path.is_file():
            scanned += 1
            data = path.read_bytes()
            assert not any(n in data for n in needles), f"plaintext found in {path}"
    assert scanned > 0
    if db_kind() == "sqlite":  # the database file itself, and its journal
        for path in Path(DB_URL.removeprefix("sqlite://")).parent.glob("test.sqlite3*"):
            # Read in another process: opening and closing a live SQLite file here would drop
            # this process's POSIX locks on it, and another process could then reset the WAL.
            found = subprocess.run(["grep", "-c", "-F", MARKER, str(path)], capture_output=True)
            assert found.returncode == 1, f"plaintext found in {path.name}"
    # And yet the owner gets the document back intact.
    assert (await download(caller, entry_id)).content == content


async def test_the_same_file_twice_gives_different_ciphertexts_and_keys(client: httpx.AsyncClient) -> None:
    caller = await owner_caller(client)
    content = pdf("twice")
    await upload_ok(caller, content)
    await upload_ok(caller, content)
    first, second = await StoredFile.all()
    assert stored_path(first.id).read_bytes() != stored_path(second.id).read_bytes()
    assert bytes(first.nonce) != bytes(second.nonce)
    assert bytes(first.wrapped_key) != bytes(second.wrapped_key)
    assert first.key_id == second.key_id == key_id(config.settings().data_key)
    # GCM: ciphertext plus a 16-byte tag, nothing else on disk.
    assert len(stored_path(first.id).read_bytes()) == len(content) + 16


def _flip(path: Path, index: int) -> None:
    data = bytearray(path.read_bytes())
    data[index] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("where", ["start", "middle", "tag"])
async def test_a_flipped_byte_on_disk_is_an_error_never_altered_content(
    client: httpx.AsyncClient, where: str
) -> None:
    caller = await owner_caller(client)
    content = pdf("tampered")
    entry_id = await upload_ok(caller, content)
    stored = await StoredFile.get()
    path = stored_path(stored.id)
    size = path.stat().st_size
    _flip(path, {"start": 0, "middle": size // 2, "tag": size - 1}[where])
    response = await download(caller, entry_id)
    assert response.status_code == 500
    assert response.json()["errors"][0]["extensions"]["code"] == "INTERNAL"
    assert b"tampered" not in response.content and b"%PDF" not in response.content


@pytest.mark.parametrize("column", ["nonce", "wrapped_key"])
async def test_altered_key_material_is_an_error(client: httpx.AsyncClient, column: str) -> None:
    caller = await owner_caller(client)
    entry_id = await upload_ok(caller, pdf())
    stored = await StoredFile.get()
    value = bytearray(getattr(stored, column))
    value[0] ^= 0x80
    await StoredFile.filter(id=stored.id).update(**{column: bytes(value)})
    response = await download(caller, entry_id)
    assert response.status_code == 500
    assert b"%PDF" not in response.content


async def test_a_deletion_stands_when_the_disk_refuses_to_remove_its_file(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The deletion has committed (row, wrapped key, event): a file the disk will not remove
    is left to `dmp purge`, and the patient is told the entry is deleted, not INTERNAL."""
    caller = await owner_caller(client)
    entry_id = await upload_ok(caller, pdf())
    file_id = await _file_of(entry_id)

    def refuse(_: uuid.UUID) -> bool:
        raise PermissionError("read-only file system")

    monkeypatch.setattr(storage, "remove", refuse)
    result = await caller.gql("mutation($id: ID!) { deleteEntry(id: $id) }", {"id": entry_id})
    assert result.ok()["deleteEntry"] is True
    assert not await Entry.filter(id=entry_id).exists()
    assert not await StoredFile.filter(id=file_id).exists()
    assert stored_path(file_id).exists()  # unreadable without its row; swept by `dmp purge`


async def test_a_ciphertext_moved_to_another_file_does_not_open(client: httpx.AsyncClient) -> None:
    caller = await owner_caller(client)
    first_entry = await upload_ok(caller, pdf("first"))
    await upload_ok(caller, pdf("second"))
    first_id = await _file_of(first_entry)
    first = await StoredFile.get(id=first_id)
    second = await StoredFile.exclude(id=first_id).get()
    # Give the first row the second file's ciphertext and key: the file id is bound in.
    os.replace(stored_path(second.id), stored_path(first.id))
    await StoredFile.filter(id=first.id).update(nonce=second.nonce, wrapped_key=second.wrapped_key)
    response = await download(caller, first_entry)
    assert response.status_code == 500
    assert b"second" not in response.content


async def _file_of(entry_id: str) -> uuid.UUID:
    entry = await Entry.get(id=entry_id)
    return entry.file_id  # type: ignore[attr-defined,no-any-return]


async def test_a_missing_key_is_an_error(client: httpx.AsyncClient) -> None:
    caller = await owner_caller(client)
    entry_id = await upload_ok(caller, pdf())
    await StoredFile.all().update(key_id="0000000000000000")
    response = await download(caller, entry_id)
    assert response.status_code == 500
    assert b"%PDF" not in response.content


def test_rotation_keeps_old_files_readable_and_seals_with_the_new_key() -> None:
    old, new = os.urandom(32), os.urandom(32)
    file_id = uuid.uuid4()
    sealed = seal(Keyring(old), file_id, b"document")
    rotated = Keyring(new, previous=[old])
    assert open_sealed(rotated, file_id, sealed) == b"document"
    assert seal(rotated, file_id, b"x").key_id == key_id(new) != sealed.key_id
    with pytest.raises(KeyUnavailable):
        open_sealed(Keyring(new), file_id, sealed)
    with pytest.raises(FileIntegrityError):
        open_sealed(rotated, uuid.uuid4(), sealed)


async def test_deleting_a_document_removes_its_stored_file(client: httpx.AsyncClient) -> None:
    caller = await owner_caller(client)
    entry_id = await upload_ok(caller, pdf())
    file_id = await _file_of(entry_id)
    assert stored_path(file_id).exists()
    result = await caller.gql("mutation($id: ID!) { deleteEntry(id: $id) }", {"id": entry_id})
    assert result.ok()["deleteEntry"] is True
    assert not stored_path(file_id).exists()
    assert not await StoredFile.filter(id=file_id).exists()
