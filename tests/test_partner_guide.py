"""Every example of docs/api.md runs against a real `dmp serve` and answers in its documented shape.

An example is a marker `<!-- example: NAME actor=ACTOR -->` followed by a ```graphql block,
an optional ```json variables block and a ```json response block — or, with `kind=curl`,
a ```sh block run by bash and its ```json (shape) or ```text (exact) output. Placeholders
($INS, $DMP_TOKEN, …) are the guide world's values (tests/partner_world.py). The response
must have the same keys, recursively, and the same JSON types (lists by their first element);
error codes must be the documented ones.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.document_samples import pdf
from tests.partner_world import World, build
from tests.server import dmp_server

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "api.md"
MARKER = re.compile(r"<!-- example: (?P<name>[\w-]+)(?P<attrs>(?: [\w-]+=[\w:-]+)*) -->")
FENCE = re.compile(r"^```(?P<lang>\w*)[^\n]*\n(?P<body>.*?)^```$", re.S | re.M)
PLACEHOLDER = re.compile(r"\$([A-Z][A-Z_]*)")


@dataclass
class Example:
    name: str
    attrs: dict[str, str]
    blocks: list[tuple[str, str]] = field(default_factory=list)

    @property
    def actor(self) -> str:
        return self.attrs.get("actor", "anonymous")


def examples(text: str) -> Iterator[Example]:
    markers = list(MARKER.finditer(text))
    for n, marker in enumerate(markers):
        end = markers[n + 1].start() if n + 1 < len(markers) else len(text)
        heading = re.search(r"^#", text[marker.end():end], re.M)
        if heading:
            end = marker.end() + heading.start()
        attrs = dict(a.split("=", 1) for a in marker["attrs"].split())
        blocks = [(f["lang"], f["body"]) for f in FENCE.finditer(text, marker.end(), end)]
        yield Example(marker["name"], attrs, blocks)


EXAMPLES = list(examples(GUIDE.read_text(encoding="utf-8")))


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "array", dict: "object"}[type(value)]


def shape_differences(documented: Any, actual: Any, path: str = "$") -> list[str]:
    if json_type(documented) != json_type(actual):
        return [f"{path}: documented {json_type(documented)}, got {json_type(actual)} ({actual!r:.80})"]
    if isinstance(documented, dict):
        problems = []
        if documented.keys() != actual.keys():
            problems.append(f"{path}: documented keys {sorted(documented)}, got {sorted(actual)}")
        for key in documented.keys() & actual.keys():
            problems += shape_differences(documented[key], actual[key], f"{path}.{key}")
        return problems
    if isinstance(documented, list) and documented:
        if not actual:
            return [f"{path}: documented a non-empty list, got []"]
        return shape_differences(documented[0], actual[0], f"{path}[0]")
    return []


def error_codes(body: Any) -> list[str | None]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


def substitute(text: str, values: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match[1]
        assert name in values, f"unknown placeholder ${name} in the guide"
        return values[name]

    return PLACEHOLDER.sub(one, text)


def check(example: Example, documented: Any, actual: Any) -> None:
    problems = shape_differences(documented, actual)
    assert not problems, (
        f"example {example.name!r}: the response does not have the documented shape:\n  "
        + "\n  ".join(problems) + "\nactual response:\n" + json.dumps(actual, indent=2, ensure_ascii=False)
    )
    if isinstance(documented, dict):
        assert error_codes(actual) == error_codes(documented), actual


def run_graphql(example: Example, world: World) -> None:
    langs = [lang for lang, _ in example.blocks]
    assert langs in (["graphql", "json"], ["graphql", "json", "json"]), (example.name, langs)
    query = example.blocks[0][1]
    variables = json.loads(substitute(example.blocks[1][1], world.values)) if len(langs) == 3 else {}
    documented = json.loads(example.blocks[-1][1])
    response = world.request(example.actor, query, variables)
    assert response.status_code == int(example.attrs.get("status", "200")), response.text
    check(example, documented, response.json())


def run_curl(example: Example, world: World, workdir: Path) -> None:
    langs = [lang for lang, _ in example.blocks]
    assert langs in (["sh", "json"], ["sh", "text"]), (example.name, langs)
    (workdir / "compte-rendu.pdf").write_bytes(pdf("guide"))
    env = {**os.environ, **world.values}
    if example.actor in world.tokens:
        env["DMP_TOKEN"] = world.tokens[example.actor]
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", example.blocks[0][1]], cwd=workdir,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lang, expected = example.blocks[1]
    if lang == "text":
        assert done.stdout.strip() == substitute(expected, world.values).strip()
    else:
        check(example, json.loads(expected), json.loads(done.stdout))


@pytest.fixture(scope="module")
def server(database: None) -> Iterator[str]:
    with dmp_server() as origin:
        yield origin


def test_the_guide_has_examples_for_the_partner_operations() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    names = {e.name for e in EXAMPLES}
    assert len(names) == len(EXAMPLES), "example names must be unique"
    for operation in ("openRecordForPatient", "patientRecord", "addEntry", "uploadDocument",
                      "openBreakGlass", "regulatorAccess", "practitionerDirectory",
                      "importCareHistory"):
        assert any(operation in block for e in EXAMPLES for _, block in e.blocks), operation
    for code in ("UNAUTHENTICATED", "FORBIDDEN", "BAD_USER_INPUT", "NOT_FOUND", "RATE_LIMITED",
                 "CONFLICT", "INTERNAL"):
        assert code in text, code


def test_the_shape_check_catches_what_a_partner_would_trip_on() -> None:
    documented = {"data": {"a": 1, "b": [{"c": "x"}], "d": None}}
    assert shape_differences(documented, {"data": {"a": 2, "b": [{"c": "y"}, {}], "d": None}}) == []
    assert shape_differences(documented, {"data": {"a": "2", "b": [{"c": "y"}], "d": None}}) == [
        "$.data.a: documented number, got string ('2')"
    ]
    assert shape_differences(documented, {"data": {"a": 1, "b": [], "d": None}}) == [
        "$.data.b: documented a non-empty list, got []"
    ]
    assert shape_differences(documented, {"data": {"a": 1, "b": [{"c": "x", "e": 1}], "d": None}}) == [
        "$.data.b[0]: documented keys ['c'], got ['c', 'e']"
    ]
    assert shape_differences(documented, {"data": {"a": 1, "b": [{"c": "x"}], "d": {}}}) == [
        "$.data.d: documented null, got object ({})"
    ]


def test_examples_are_read_with_their_blocks() -> None:
    text = """## A
<!-- example: one actor=insurer -->

```graphql
{ me { id } }
```

```json
{"data": {}}
```

## B
```json
{"not": "part of one"}
```
<!-- example: two actor=practitioner kind=curl -->
```sh
curl x
```
```text
200
```
"""
    one, two = examples(text)
    assert (one.name, one.actor, [lang for lang, _ in one.blocks]) == ("one", "insurer", ["graphql", "json"])
    assert (two.name, two.attrs["kind"]) == ("two", "curl")
    assert two.blocks == [("sh", "curl x\n"), ("text", "200\n")]


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
async def test_guide_example(example: Example, server: str, tmp_path: Path) -> None:
    world = await build(server)
    if example.attrs.get("kind") == "curl":
        run_curl(example, world, tmp_path)
    else:
        run_graphql(example, world)
