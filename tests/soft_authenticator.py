"""A software WebAuthn authenticator: genuine ES256 registration and assertion responses.

It reads the options JSON the server hands out and answers as a browser with a platform
authenticator would (attestation "none"), with switches to misbehave: another origin,
another RP ID, no user verification, a chosen challenge or sign count.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP = 0x01
UV = 0x04
AT = 0x40
AAGUID = bytes(16)  # "none" attestation: an all-zero AAGUID is allowed


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftCredential:
    credential_id: bytes
    private_key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0
    # Synced passkeys report 0 every time; hardware keys count up.
    counts: bool = True

    @property
    def id(self) -> str:
        return b64url(self.credential_id)

    def cose_public_key(self) -> bytes:
        numbers = self.private_key.public_key().public_numbers()
        return cbor2.dumps({
            1: 2,  # kty: EC2
            3: -7,  # alg: ES256
            -1: 1,  # crv: P-256
            -2: numbers.x.to_bytes(32, "big"),
            -3: numbers.y.to_bytes(32, "big"),
        })


class AuthenticatorRefused(Exception):
    """What a browser would report as InvalidStateError / NotAllowedError."""


@dataclass
class SoftAuthenticator:
    origin: str = "http://localhost:8000"
    credentials: list[SoftCredential] = field(default_factory=list)

    @staticmethod
    def _flags(*, up: bool, uv: bool, attested: bool = False) -> int:
        return (UP if up else 0) | (UV if uv else 0) | (AT if attested else 0)

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps({
            "type": kind,
            "challenge": challenge,
            "origin": origin or self.origin,
            "crossOrigin": False,
        }).encode()

    def register(
        self,
        options_json: str,
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        uv: bool = True,
        challenge: str | None = None,
        counts: bool = True,
        credential_id: bytes | None = None,
        public_key: bytes | None = None,
        sign_count: int = 0,
        transports: list[str] | None = None,
    ) -> tuple[SoftCredential, str]:
        """navigator.credentials.create(): a new key, and the response JSON to send back.

        A hostile client may choose the credential id, the COSE public key it reports, the
        starting sign count and the transports."""
        options = json.loads(options_json)
        real_rp = options["rp"]["id"]
        excluded = {c["id"] for c in options.get("excludeCredentials", [])}
        if any(c.id in excluded for c in self.credentials):
            raise AuthenticatorRefused("InvalidStateError: already registered here")
        cred = SoftCredential(
            credential_id=os.urandom(32) if credential_id is None else credential_id,
            private_key=ec.generate_private_key(ec.SECP256R1()),
            rp_id=real_rp,
            user_handle=unb64url(options["user"]["id"]),
            sign_count=sign_count,
            counts=counts,
        )
        attested = AAGUID + struct.pack(">H", len(cred.credential_id)) + cred.credential_id
        auth_data = (
            hashlib.sha256((rp_id or real_rp).encode()).digest()
            + bytes([self._flags(up=True, uv=uv, attested=True)])
            + struct.pack(">I", cred.sign_count)
            + attested
            + (cred.cose_public_key() if public_key is None else public_key)
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data(
            "webauthn.create", challenge or options["challenge"], origin
        )
        self.credentials.append(cred)
        return cred, json.dumps({
            "id": cred.id,
            "rawId": cred.id,
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal", "hybrid"] if transports is None else transports,
            },
        })

    def assertion(
        self,
        options_json: str,
        *,
        credential: SoftCredential | None = None,
        origin: str | None = None,
        rp_id: str | None = None,
        uv: bool = True,
        challenge: str | None = None,
        sign_count: int | None = None,
    ) -> str:
        """navigator.credentials.get(): the assertion JSON to send back."""
        options = json.loads(options_json)
        real_rp = options["rpId"]
        allowed = {c["id"] for c in options.get("allowCredentials", [])}
        if credential is None:
            candidates = [
                c for c in self.credentials
                if c.rp_id == real_rp and (not allowed or c.id in allowed)
            ]
            if not candidates:
                raise AuthenticatorRefused("NotAllowedError: no credential for this request")
            credential = candidates[-1]
        if sign_count is not None:
            credential.sign_count = sign_count
        elif credential.counts:
            credential.sign_count += 1
        auth_data = (
            hashlib.sha256((rp_id or real_rp).encode()).digest()
            + bytes([self._flags(up=True, uv=uv)])
            + struct.pack(">I", credential.sign_count)
        )
        client_data = self._client_data("webauthn.get", challenge or options["challenge"], origin)
        signature = credential.private_key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        response: dict[str, Any] = {
            "clientDataJSON": b64url(client_data),
            "authenticatorData": b64url(auth_data),
            "signature": b64url(signature),
            "userHandle": b64url(credential.user_handle),
        }
        return json.dumps({
            "id": credential.id,
            "rawId": credential.id,
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": response,
        })
