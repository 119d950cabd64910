"""schema.graphql is the public contract: it must match the code (DESIGN §6)."""

from __future__ import annotations

from pathlib import Path

from backend.schema.root import schema

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_schema_file_matches_code() -> None:
    current = schema.as_str() + "\n"
    assert SCHEMA_FILE.read_text() == current, (
        "schema.graphql drifted from the code; regenerate it with `dmp print-schema > schema.graphql`"
    )
