"""The export's files put into its text after the rest is written (exportMyRecord, DESIGN §2).

A file's base64 is most of an export. Written through the serialiser with the rest, each
file is copied several times over: json.dumps' chunk for each string, then the joined
text; fhir.resources' validation, which decodes base64Binary to bytes and encodes it again,
its JSON text, orjson's tree read back from it and its text again. Here the tree is built
with a short placeholder where each file's base64 goes, written, and each placeholder then
replaced by its base64 as the text is joined once: the one copy of the files beside their
base64 is the export's text itself.

The text is the same, byte for byte, as if the tree had held the base64: json.dumps and
orjson write a string of base64 characters (A–Z, a–z, 0–9, +, / and =) as it is, between
quotes, and so the placeholder (letters and digits) too.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backend.resolvers.export import Attachment


class Spliced:
    """The files' base64 of one export, each held under a placeholder until `into`.

    A placeholder is 44 letters and digits: valid base64 (FHIR's base64Binary, which the
    Bundle's validation checks and decodes, then writes again as it was: 44 characters
    without padding decode to 33 bytes and encode back to the same characters), and random
    for each export (128 bits), so that no text of the record holds one."""

    def __init__(self) -> None:
        self._prefix = f"dmp{secrets.token_hex(16)}x"  # 36 characters, then 8 digits
        self._pattern = re.compile(re.escape(self._prefix) + "[0-9]{8}")
        self._texts: dict[str, str] = {}

    def hold(self, text: str) -> str:
        key = f"{self._prefix}{len(self._texts):08d}"
        self._texts[key] = text
        return key

    def attachment(self, attachment: Attachment | None) -> Attachment | None:
        """`attachment` with a placeholder for its base64 (as it is when the file has none)."""
        if attachment is None or attachment.base64 is None:
            return attachment
        return dataclasses.replace(attachment, base64=self.hold(attachment.base64))

    def into(self, written: str) -> str:
        """`written` (the tree's text) with each placeholder replaced by its base64, each
        placeholder found once. A file held and not written (the FHIR resource of an entry
        in a section other than DOCUMENTS and LAB_RESULTS has no attachment) stays out, as
        it was out of the tree's text."""
        if not self._texts:
            return written
        parts: list[str] = []
        at = 0
        for found in self._pattern.finditer(written):
            parts.append(written[at:found.start()])
            parts.append(self._texts.pop(found.group()))  # a placeholder found twice: KeyError
            at = found.end()
        parts.append(written[at:])
        self._texts.clear()
        return "".join(parts)
