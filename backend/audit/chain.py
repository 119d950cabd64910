"""The HMAC chain of a record's events: each MAC covers the event and the previous MAC."""

from __future__ import annotations

import hmac
import json
from datetime import datetime
from typing import Any

import orjson

from backend.config import settings

GENESIS = "0" * 64


# The canonical form every stored MAC was computed on: the standard library's JSON, keys
# sorted, no spaces, non-ASCII text as UTF-8. For fields of text, integers, booleans, None and
# lists of text (an event's), orjson with sorted keys writes the same bytes about ten times
# faster: it escapes the same characters the same way, which tests/test_audit_canonical.py checks
# for every code point. Any other value (a float, which the two write differently; a type
# orjson writes and the standard library refuses) and anything orjson refuses (an integer
# past 64 bits, a lone surrogate) go to the standard library, as they always did.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_SAME_IN_BOTH = frozenset({str, int, bool, type(None)})


def canonical(fields: dict[str, Any]) -> bytes:
    for value in fields.values():
        kind = type(value)
        if kind not in _SAME_IN_BOTH and (kind is not list or any(type(item) is not str for item in value)):
            break
    else:
        try:
            return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:  # a key that is not text, an integer past 64 bits, a lone surrogate
            pass
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
    return hmac.digest(key, previous_mac.encode() + canonical(fields), "sha256").hex()


def purged_ins_mac(key: bytes, ins: str) -> str:
    """What is kept of the INS of a purged record: a keyed hash, which only the audit key can
    compute (an INS has too little entropy for a plain hash)."""
    return hmac.new(key, b"purged-ins:" + ins.encode(), "sha256").hexdigest()


def purged_ins_macs(ins: str) -> list[str]:
    """The INS's keyed hash under the current audit key, and under the previous one while a
    rotation keeps it configured (a purge before the rotation is still found)."""
    current = settings()
    keys = [current.audit_key, *([current.previous_audit_key] if current.previous_audit_key else [])]
    return [purged_ins_mac(key, ins) for key in keys]


def purge_seal(key: bytes, record_id: str, purged_at: datetime, last_seq: int, last_mac: str) -> str:
    """The seal of a purged record's history: a last link after its head (seq `last_seq`, MAC
    `last_mac`), which only the audit key can make."""
    fields = {"purged": record_id, "seq": last_seq, "at": purged_at.isoformat(timespec="microseconds")}
    return mac(key, fields, last_mac or GENESIS)
