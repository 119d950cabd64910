"""Encrypted files on disk under settings().files_dir, one per StoredFile row."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path

from backend.config import settings
from backend.files.crypto import Keyring, Sealed, open_sealed, seal

log = logging.getLogger("dmp.files")


def keyring() -> Keyring:
    """The current data key, and the previous ones still configured (they only open)."""
    cfg = settings()
    return Keyring(cfg.data_key, cfg.previous_data_keys)


def path_of(file_id: uuid.UUID) -> Path:
    return settings().files_dir / str(file_id)


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    # The rename is durable once the directory entry is.
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _seal_and_write(file_id: uuid.UUID, plaintext: bytes) -> Sealed:
    sealed = seal(keyring(), file_id, plaintext)
    _write_atomically(path_of(file_id), sealed.ciphertext)
    return sealed


def _remove_once_written(done: asyncio.Future[Sealed], file_id: uuid.UUID) -> None:
    if not done.cancelled() and done.exception() is None:
        remove(file_id)


async def write(file_id: uuid.UUID, plaintext: bytes) -> Sealed:
    """Encrypt and write the file; the caller stores nonce, wrapped key and key id.

    Cancelled (the request ends, the service stops) while its thread writes, which nothing
    can stop: the file that thread then finishes is removed, as nobody will store its row.
    """
    writing = asyncio.ensure_future(asyncio.to_thread(_seal_and_write, file_id, plaintext))
    try:
        return await asyncio.shield(writing)
    except asyncio.CancelledError:
        writing.add_done_callback(lambda done: _remove_once_written(done, file_id))
        raise


def _read_and_open(file_id: uuid.UUID, nonce: bytes, wrapped_key: bytes, kid: str) -> bytes:
    ciphertext = path_of(file_id).read_bytes()
    return open_sealed(keyring(), file_id, Sealed(ciphertext, nonce, wrapped_key, kid))


async def read(file_id: uuid.UUID, nonce: bytes, wrapped_key: bytes, kid: str) -> bytes:
    """The verified plaintext; FileIntegrityError, KeyUnavailable or OSError otherwise."""
    return await asyncio.to_thread(_read_and_open, file_id, bytes(nonce), bytes(wrapped_key), kid)


def remove(file_id: uuid.UUID) -> bool:
    """Delete the file; whether there was one."""
    try:
        path_of(file_id).unlink()
    except FileNotFoundError:
        return False
    return True


def discard(file_id: uuid.UUID, whose: str) -> None:
    """Delete the file of a row already gone (or never stored), after its transaction: if the
    disk refuses, what the request did stands, and the file, which nothing can open without
    its row's wrapped key, is left to `dmp purge`, which sweeps files no row holds."""
    try:
        remove(file_id)
    except OSError as exc:
        log.warning("the file %s of %s could not be removed: %s", file_id, whose, type(exc).__name__)


def _temporary(name: str) -> bool:
    """A half-written file of `_write_atomically`: `.<id>.<hex>.tmp`."""
    return name.startswith(".") and name.endswith(".tmp")


def files_on_disk() -> Iterator[tuple[Path, uuid.UUID | None]]:
    """The service's files: each path with the id of the file it holds, None for a
    half-written temporary file. Anything else in the folder is not the service's and is
    left out."""
    files_dir = settings().files_dir
    if not files_dir.is_dir():
        return
    for path in files_dir.iterdir():
        if not path.is_file():
            continue
        if _temporary(path.name):
            yield path, None
            continue
        try:
            yield path, uuid.UUID(path.name)
        except ValueError:
            continue
