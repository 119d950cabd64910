"""docs/security.md cites tests by name: each cited file and test must exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_every_test_cited_in_the_security_doc_exists() -> None:
    doc = (ROOT / "docs" / "security.md").read_text()
    cited = 0
    for line in doc.splitlines():
        current: Path | None = None
        # `tests/x.py::test_a`, then `::test_b` (same file) until the next file.
        for file, name in re.findall(r"`(tests/[\w/]+\.py)?(?:::(test_\w+))?", line):
            if file:
                current = ROOT / file
                assert current.is_file(), file
            if name:
                assert current is not None, name
                source = current.read_text()
                assert re.search(rf"def {name}\b", source), f"{current.name}::{name}"
                cited += 1
    assert cited >= 100
