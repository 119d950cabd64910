"""The canonical form of an event, which every stored MAC covers, is byte for byte the
standard library's JSON (keys sorted, no spaces, UTF-8): a MAC computed today must match one
computed by any earlier version."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest

from backend.audit.chain import canonical, event_fields

# The form every stored MAC was computed on.
REFERENCE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def reference(fields: dict[str, Any]) -> bytes:
    return REFERENCE.encode(fields).encode()


def test_every_character_is_written_as_before() -> None:
    # Text of every code point but the surrogates, in chunks: quotes, backslashes, control
    # characters, DEL, the line separators, non-BMP characters.
    points = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    for start in range(0, len(points), 4096):
        text = "".join(map(chr, points[start : start + 4096]))
        fields = {"actor_name": text, "reason": text[::-1], "sections": [text[:7], text[-7:]]}
        assert canonical(fields) == reference(fields)
    for c in points[:0x100] + [0x2028, 0x2029, 0xFEFF, 0x1F600]:
        fields = {"reason": chr(c)}
        assert canonical(fields) == reference(fields), hex(c)


def test_an_event_is_written_as_before() -> None:
    fields = event_fields(
        record_id=str(uuid.uuid4()),
        seq=2**40,
        at=dt.datetime.now(dt.UTC),
        actor_id=None,
        actor_name='Dr Zoé "Ł" O\'Brien\n',
        actor_profession="medecin",
        actor_role="PRACTITIONER",
        action="RECORD_READ",
        mode=None,
        sections=["MEDICATIONS", "ALLERGIES", "EMERGENCY"],
        entry_id="e-1",
        reason="\u2028\t\\",
    )
    assert canonical(fields) == reference(fields)
    assert canonical({**fields, "z": True, "a": False, "n": -7}) == reference(
        {**fields, "z": True, "a": False, "n": -7}
    )


@pytest.mark.parametrize(
    "value",
    [1.0, 1e16, 0.1, [1, "a"], {"b": 1, "a": [2]}, ("x",), 2**64, -(2**70)],
    ids=["float", "big float", "decimal float", "mixed list", "dict", "tuple", "u64+1", "big negative"],
)
def test_other_values_are_written_as_the_standard_library_writes_them(value: Any) -> None:
    fields = {"reason": "r", "value": value}
    assert canonical(fields) == reference(fields)


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"value": uuid.UUID(int=1)}, TypeError),
        ({"value": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}, TypeError),
        ({"reason": "\ud800"}, UnicodeEncodeError),
        ({"value": ["\udfff"]}, UnicodeEncodeError),
    ],
    ids=["uuid", "datetime", "lone surrogate", "lone surrogate in a list"],
)
def test_what_the_standard_library_refuses_is_refused(fields: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        reference(fields)
    with pytest.raises(error):
        canonical(fields)


def test_keys_that_are_not_text_are_written_as_before() -> None:
    fields: dict[Any, Any] = {2: "b", 1: "a"}
    assert canonical(fields) == reference(fields) == b'{"1":"a","2":"b"}'
