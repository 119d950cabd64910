"""AES-256-GCM for stored files, with a fresh data key per file (envelope encryption).

Each file gets its own random 256-bit key. That key is wrapped (AES key wrap, RFC 3394)
by the service's data key (DMP_DATA_KEY), and the wrapping key's id is kept beside it so
the data key can be rotated: files stay readable while their key id is in the keyring.
The file id is the associated data, so a ciphertext moved to another row does not open.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

NONCE_BYTES = 12
_AAD_PREFIX = b"dmp/stored-file/v1\x00"


class FileIntegrityError(Exception):
    """A stored file, its nonce or its wrapped key was altered; nothing is returned."""


class KeyUnavailable(Exception):
    """The file was sealed under a data key that is not in the keyring."""


def key_id(key: bytes) -> str:
    """A short public name for a data key: never the key, nor enough to guess it."""
    return hashlib.sha256(b"dmp/data-key-id\x00" + key).hexdigest()[:16]


@dataclass(frozen=True)
class Sealed:
    ciphertext: bytes
    nonce: bytes
    wrapped_key: bytes
    key_id: str


class Keyring:
    """The current data key, which seals, and older ones, which only open."""

    def __init__(self, current: bytes, previous: Iterable[bytes] = ()) -> None:
        if len(current) != 32:
            raise ValueError("the data key must be 32 bytes")
        self.current = current
        self._keys = {key_id(k): k for k in (*previous, current)}

    def get(self, kid: str) -> bytes:
        try:
            return self._keys[kid]
        except KeyError:
            raise KeyUnavailable(f"data key {kid} is not configured") from None


def _aad(file_id: uuid.UUID) -> bytes:
    return _AAD_PREFIX + file_id.bytes


def seal(keyring: Keyring, file_id: uuid.UUID, plaintext: bytes) -> Sealed:
    file_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(file_key).encrypt(nonce, plaintext, _aad(file_id))
    return Sealed(
        ciphertext=ciphertext,
        nonce=nonce,
        wrapped_key=aes_key_wrap(keyring.current, file_key),
        key_id=key_id(keyring.current),
    )


def _file_key(keyring: Keyring, file_id: uuid.UUID, wrapped_key: bytes, kid: str) -> bytes:
    """The file's own key; KeyUnavailable if `kid` is not in the keyring, FileIntegrityError
    if the wrapped key does not unwrap."""
    try:
        return aes_key_unwrap(keyring.get(kid), wrapped_key)
    except (InvalidUnwrap, ValueError) as exc:
        raise FileIntegrityError(f"the key of stored file {file_id} does not unwrap") from exc


def rewrap(keyring: Keyring, file_id: uuid.UUID, wrapped_key: bytes, kid: str) -> tuple[bytes, str]:
    """A file's key wrapped by the current data key instead of the one `kid` names.

    Only the 40-byte wrapped key changes; the file on disk, sealed with the file's own key,
    stays as it is. FileIntegrityError if the wrapped key does not unwrap.
    """
    file_key = _file_key(keyring, file_id, wrapped_key, kid)
    return aes_key_wrap(keyring.current, file_key), key_id(keyring.current)


def open_sealed(keyring: Keyring, file_id: uuid.UUID, sealed: Sealed) -> bytes:
    """The plaintext, or FileIntegrityError: GCM checks the tag before returning anything."""
    file_key = _file_key(keyring, file_id, sealed.wrapped_key, sealed.key_id)
    try:
        return AESGCM(file_key).decrypt(sealed.nonce, sealed.ciphertext, _aad(file_id))
    except (InvalidTag, ValueError) as exc:
        raise FileIntegrityError(f"stored file {file_id} failed its integrity check") from exc
