"""The guide's examples (docs/api.md) answer the values they show, not only their shape.

tests/test_partner_guide.py checks that each example's response keeps its documented keys
and JSON types. A partner also copies what the guide shows: error messages, enum values
(`mode`, `status`, `role`), reasons, counts, positions (`locations`), titles of the guide's
world, and the HTTP status and media type of each curl call. Here each documented value
must be the one the server answers, but for those that differ from run to run by nature
(ids, cursors, dates of care, expiry times, activation codes, INS and RPPS numbers, the
size of the sample file). A documented list may show fewer items than the response (the
guide says so where it elides), never more, and an empty one must be empty.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.document_samples import pdf
from tests.partner_world import World, build
from tests.server import dmp_server
from tests.test_partner_guide import EXAMPLES, Example, substitute

# Keys whose values differ from run to run: compared by shape only (test_partner_guide.py).
VOLATILE = frozenset({
    "id", "cursor", "endCursor", "date", "expiresAt", "activationCode", "ins", "rpps", "size",
    "downloadUrl", "supersedes",
})
# What each curl example answers, as the guide's text says (§2, §3, §7).
CURL_STATUS = {
    "me-curl": (200, "application/json"),
    "error-bad-token": (401, "application/json"),
    "upload": (200, "application/json"),
    "download": (200, "application/pdf"),
    "download-refused": (404, "application/json"),
}


def value_differences(documented: Any, actual: Any, path: str = "$") -> list[str]:
    if isinstance(documented, dict) and isinstance(actual, dict):
        problems = []
        for key in documented.keys() & actual.keys():
            if key not in VOLATILE:
                problems += value_differences(documented[key], actual[key], f"{path}.{key}")
        return problems
    if isinstance(documented, list) and isinstance(actual, list):
        if len(documented) > len(actual) or (not documented and actual):
            return [f"{path}: documented {len(documented)} items, got {len(actual)}"]
        problems = []
        for n, item in enumerate(documented):
            problems += value_differences(item, actual[n], f"{path}[{n}]")
        return problems
    if documented != actual:
        return [f"{path}: documented {documented!r}, got {actual!r}"]
    return []


def test_the_value_check_catches_what_a_partner_would_copy() -> None:
    documented = {"data": {"mode": "GRANTED", "id": "x", "edges": [{"title": "A"}], "none": []}}
    same = {"data": {"mode": "GRANTED", "id": "y", "edges": [{"title": "A"}, {"title": "B"}],
                     "none": []}}
    assert value_differences(documented, same) == []
    assert value_differences(documented, {**same, "data": {**same["data"], "mode": "BREAK_GLASS"}}) == [
        "$.data.mode: documented 'GRANTED', got 'BREAK_GLASS'"
    ]
    assert value_differences(documented, {**same, "data": {**same["data"], "none": [1]}}) == [
        "$.data.none: documented 0 items, got 1"
    ]
    assert value_differences(documented, {**same, "data": {**same["data"], "edges": []}}) == [
        "$.data.edges: documented 1 items, got 0"
    ]


def test_every_curl_example_has_its_status() -> None:
    curl = {e.name for e in EXAMPLES if e.attrs.get("kind") == "curl"}
    assert curl == set(CURL_STATUS), "say here which status the guide gives each curl example"


@pytest.fixture(scope="module")
def server(database: None) -> Iterator[str]:
    with dmp_server() as origin:
        yield origin


def assert_same_values(example: Example, documented: Any, actual: Any) -> None:
    problems = value_differences(documented, actual)
    assert not problems, (
        f"example {example.name!r} shows values the server does not answer:\n  " + "\n  ".join(problems)
        + "\nactual response:\n" + json.dumps(actual, indent=2, ensure_ascii=False)
    )


def run_curl(example: Example, world: World, workdir: Path) -> None:
    """The example's own command, with curl's response headers kept aside."""
    (workdir / "compte-rendu.pdf").write_bytes(pdf("guide"))
    headers = workdir / "headers.txt"
    env = {**os.environ, **world.values, "DMP_HEADERS": str(headers)}
    if example.actor in world.tokens:
        env["DMP_TOKEN"] = world.tokens[example.actor]
    script = 'curl() { command curl -D "$DMP_HEADERS" "$@"; }\n' + example.blocks[0][1]
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = headers.read_text(encoding="latin-1").splitlines()
    status = int(lines[0].split()[1])
    content_type = next(line.split(":", 1)[1].strip() for line in lines
                        if line.lower().startswith("content-type:"))
    assert (status, content_type) == CURL_STATUS[example.name], example.name
    lang, expected = example.blocks[1]
    if lang == "json":
        assert_same_values(example, json.loads(expected), json.loads(done.stdout))


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
async def test_guide_example_values(example: Example, server: str, tmp_path: Path) -> None:
    world = await build(server)
    if example.attrs.get("kind") == "curl":
        run_curl(example, world, tmp_path)
        return
    variables = json.loads(substitute(example.blocks[1][1], world.values)) if len(example.blocks) == 3 else {}
    response = world.request(example.actor, example.blocks[0][1], variables)
    assert response.headers["content-type"] == "application/json"
    assert_same_values(example, json.loads(example.blocks[-1][1]), response.json())
