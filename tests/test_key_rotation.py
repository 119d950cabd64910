"""Rotating the data key: old files open through DMP_PREVIOUS_DATA_KEYS until
`dmp rewrap-files` wraps their keys with the new DMP_DATA_KEY."""

from __future__ import annotations

import dataclasses
import secrets
import uuid
from collections.abc import Iterator

import pytest

from backend import config
from backend.files import rotation, storage
from backend.files.crypto import FileIntegrityError, Keyring, KeyUnavailable, key_id, seal
from backend.files.rotation import rewrap_files
from backend.models import Record, StoredFile
from tests import factories
from tests.server import run_dmp


@pytest.fixture
def restore_settings() -> Iterator[config.Settings]:
    saved = config.settings()
    yield saved
    config.reset(saved)


def _use(saved: config.Settings, current: bytes, *previous: bytes) -> None:
    config.reset(dataclasses.replace(saved, data_key=current, previous_data_keys=previous))


async def _stored(record: Record, text: bytes, file_id: uuid.UUID | None = None) -> StoredFile:
    file_id = file_id or uuid.uuid4()
    sealed = await storage.write(file_id, text)
    return await StoredFile.create(
        id=file_id, record=record, content_type="text/plain", size=len(text), filename="note.txt",
        key_id=sealed.key_id, wrapped_key=sealed.wrapped_key, nonce=sealed.nonce,
    )


async def _read(row: StoredFile) -> bytes:
    row = await StoredFile.get(id=row.id)
    return await storage.read(row.id, row.nonce, row.wrapped_key, row.key_id)


async def test_files_sealed_before_a_rotation_open_then_move_to_the_new_key(
    restore_settings: config.Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = restore_settings
    monkeypatch.setattr(rotation, "BATCH", 1)  # every row in a batch of its own
    old, new = secrets.token_bytes(32), secrets.token_bytes(32)
    _, record = await factories.patient()
    _use(saved, old)
    first, second = await _stored(record, b"compte rendu 1"), await _stored(record, b"compte rendu 2")
    # One sealed under a key nobody configured any more, one whose wrapped key was altered.
    lost_key = secrets.token_bytes(32)
    lost_id = uuid.uuid4()
    lost = seal(Keyring(lost_key), lost_id, b"perdu")
    storage.path_of(lost_id).write_bytes(lost.ciphertext)
    await StoredFile.create(id=lost_id, record=record, content_type="text/plain", size=5,
                            filename="x.txt", key_id=lost.key_id, wrapped_key=lost.wrapped_key,
                            nonce=lost.nonce)
    damaged = await _stored(record, b"abime")
    await StoredFile.filter(id=damaged.id).update(wrapped_key=b"\x00" * 40)

    # The new key seals; the old one still opens.
    _use(saved, new, old)
    assert await _read(first) == b"compte rendu 1"
    with pytest.raises(FileIntegrityError):
        await _read(damaged)
    report = await rewrap_files()
    assert (report.rewrapped, report.key_unavailable, report.damaged, report.skipped) == (2, 1, 1, 0)
    assert report.remaining == 2  # the lost and the damaged ones
    assert {f.key_id for f in await StoredFile.filter(id__in=[first.id, second.id])} == {key_id(new)}

    # Without the old key: the rewrapped files open, the others did not change.
    _use(saved, new)
    assert await _read(first) == b"compte rendu 1" and await _read(second) == b"compte rendu 2"
    for left in (await StoredFile.get(id=lost_id), damaged):
        with pytest.raises(KeyUnavailable):
            await _read(left)
    # A second run, without the old key, has nothing it can do: both are under keys it lacks.
    again = await rewrap_files()
    assert (again.rewrapped, again.key_unavailable, again.damaged) == (0, 2, 0)


async def test_the_rewrap_command(restore_settings: config.Settings) -> None:
    saved = restore_settings
    old, new = secrets.token_bytes(32), secrets.token_bytes(32)
    _, record = await factories.patient()
    _use(saved, old)
    row = await _stored(record, b"ordonnance")
    done = run_dmp("rewrap-files", DMP_DATA_KEY=new.hex(), DMP_PREVIOUS_DATA_KEYS=old.hex())
    assert done.returncode == 0, done.stderr
    assert "rewrapped 1 file key(s)" in done.stdout
    assert "no file key left under an older key" in done.stdout
    _use(saved, new)
    assert await _read(row) == b"ordonnance"
    # A key given wrongly is refused by name, before anything is touched.
    refused = run_dmp("rewrap-files", DMP_DATA_KEY=new.hex(), DMP_PREVIOUS_DATA_KEYS="abc")
    assert refused.returncode != 0 and "DMP_PREVIOUS_DATA_KEYS" in refused.stderr


async def test_the_rewrap_command_without_the_previous_key_says_to_give_it(
    restore_settings: config.Settings,
) -> None:
    """DMP_PREVIOUS_DATA_KEYS left out (or a wrong DMP_DATA_KEY after a restore): the command
    said to keep DMP_PREVIOUS_DATA_KEYS and restart every process, which mends nothing."""
    saved = restore_settings
    old, new = secrets.token_bytes(32), secrets.token_bytes(32)
    _, record = await factories.patient()
    _use(saved, old)
    row = await _stored(record, b"ordonnance")
    done = run_dmp("rewrap-files", DMP_DATA_KEY=new.hex())
    assert done.returncode == 1
    assert "1 under a key no longer configured" in done.stdout
    assert done.stderr == (
        "dmp: 1 file key(s) still under an older key: 1 under a key no longer configured (give it in "
        "DMP_PREVIOUS_DATA_KEYS, or is DMP_DATA_KEY the wrong one?); then run rewrap-files again\n")
    assert (await StoredFile.get(id=row.id)).key_id == key_id(old)  # left as it was
    assert await _read(row) == b"ordonnance"



async def test_a_file_sealed_behind_the_run_by_a_process_on_the_old_key_is_reported(
    restore_settings: config.Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process not yet restarted keeps sealing with the old key while the run goes on: a file
    it stores behind the run's cursor is left under the old key. The run says so, so that the
    old key is not dropped while a file only it opens remains."""
    saved = restore_settings
    old, new = secrets.token_bytes(32), secrets.token_bytes(32)
    _, record = await factories.patient()
    _use(saved, old)
    for n in range(3):
        await _stored(record, f"compte rendu {n}".encode())
    _use(saved, new, old)
    late: list[StoredFile] = []

    class Update:
        def __init__(self, query: object) -> None:
            self.query = query

        async def update(self, **values: object) -> int:
            changed: int = await self.query.update(**values)  # type: ignore[attr-defined]
            if not late:  # after the run's first re-wrap: an old process stores a file
                _use(saved, old)
                late.append(await _stored(record, b"tardif", uuid.UUID(int=0)))  # behind the cursor
                _use(saved, new, old)
            return changed

    class LateProcess:
        """StoredFile, its re-wrap's update followed once by another process's upload."""

        def __getattr__(self, name: str) -> object:
            return getattr(StoredFile, name)

        def filter(self, *args: object, **kwargs: object) -> object:
            query = StoredFile.filter(*args, **kwargs)
            return Update(query) if "wrapped_key" in kwargs else query

    monkeypatch.setattr(rotation, "StoredFile", LateProcess())
    report = await rewrap_files()
    assert late and late[0].key_id == key_id(old)
    assert (report.rewrapped, report.key_unavailable, report.damaged, report.skipped) == (3, 0, 0, 0)
    assert report.remaining == 1
    assert (await StoredFile.get(id=late[0].id)).key_id == key_id(old)
