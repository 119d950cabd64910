"""The HMAC chain of a record's events: each MAC covers the event and the previous MAC."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

GENESIS = "0" * 64


# One encoder for every event: json.dumps with options builds a new one on each call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical(fields: dict[str, Any]) -> bytes:
    return _CANONICAL.encode(fields).encode()


def event_fields(
    *,
    record_id: str,
    seq: int,
    at: datetime,
    actor_id: str | None,
    actor_name: str,
    actor_profession: str | None,
    actor_role: str,
    action: str,
    mode: str | None,
    sections: list[str],
    entry_id: str | None,
    reason: str,
) -> dict[str, Any]:
    return {
        "record": record_id,
        "seq": seq,
        "at": at.isoformat(timespec="microseconds"),
        "actor_id": actor_id,
        "actor_name": actor_name,
        "actor_profession": actor_profession,
        "actor_role": actor_role,
        "action": action,
        "mode": mode,
        "sections": sorted(sections),
        "entry_id": entry_id,
        "reason": reason,
    }


def mac(key: bytes, fields: dict[str, Any], previous_mac: str) -> str:
    return hmac.new(key, previous_mac.encode() + canonical(fields), hashlib.sha256).hexdigest()


def purge_seal(key: bytes, record_id: str, purged_at: datetime, last_seq: int, last_mac: str) -> str:
    """The seal of a purged record's history: a last link after its head (seq `last_seq`, MAC
    `last_mac`), which only the audit key can make."""
    fields = {"purged": record_id, "seq": last_seq, "at": purged_at.isoformat(timespec="microseconds")}
    return mac(key, fields, last_mac or GENESIS)
