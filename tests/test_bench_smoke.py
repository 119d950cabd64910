"""The benchmark harness works: bulk seeding, the baseline endpoint, one S1 request.

Marked slow: it starts the baseline in its own process. No timing is asserted here; the
figures come from `python -m bench.run` (docs/benchmarks.md).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from backend.audit import verify
from backend.config import settings
from backend.models import AccessEvent, Entry, Record
from bench.inprocess import owner_of
from bench.run import S1, wait_healthy
from bench.seed import BIG_ENTRIES, HOT_ENTRIES, seed
from tests.conftest import DB_URL, Caller
from tests.server import free_port, stop

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


async def test_seed_baseline_and_product_answer_s1_alike(client: httpx.AsyncClient) -> None:
    manifest = await seed(DB_URL, patients=6, audit_key=settings().audit_key, big_entries=300)
    assert await Record.all().count() == 6 + 2
    big = await Record.get(ins=manifest.big_ins)
    assert await Entry.filter(record_id=big.id).count() == 300 < BIG_ENTRIES
    hot = await Record.get(ins=manifest.hot_ins)
    assert await Entry.filter(record_id=hot.id).count() == HOT_ENTRIES
    practitioner = manifest.practitioners[0]
    ins = manifest.hot_ins  # granted to every load practitioner
    record = await Record.get(ins=ins)
    events_before = await AccessEvent.filter(record_id=record.id).count()

    product = await Caller(client, token=practitioner.token).gql(S1, {"ins": ins})
    data = product.ok()["patientRecord"]
    assert data["allergies"]["edges"] and data["medications"]["edges"]
    assert data["emergencyProfile"]["bloodGroup"]

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.baseline", "--db", DB_URL, "--port", str(port),
         "--audit-key", settings().audit_key.hex()],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_healthy(port, process)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            response = await http.post(
                "/s1", json={"query": S1, "variables": {"ins": ins}},
                headers={"Authorization": f"Bearer {practitioner.token}"},
            )
    finally:
        stop(process)
    assert response.status_code == 200
    # The same JSON as the product, and the same chained event written.
    assert response.json() == {"data": {"patientRecord": data}}
    events = await AccessEvent.filter(record_id=record.id).order_by("seq")
    assert len(events) == events_before + 2
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[-1].actor_id == events[-2].actor_id and events[-1].sections == events[-2].sections
    # The seeded history and the baseline's write both hold in the product's own chain check.
    report = await verify.verify(settings().audit_key, [record.id])
    assert report.ok and report.events == len(events)


def test_inprocess_comparison_runs(tmp_path: Path) -> None:
    """`bench.inprocess` seeds its own SQLite database under TMPDIR and prints its figures:
    S1 and S2 against the baseline, S3, S4 (imports) and S5 (logins) of the product alone."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.inprocess", "--db", "sqlite", "--seed", "--patients", "10",
         "--rounds", "1", "--requests", "10", "--only", "S1,S2,S3,S4,S5",
         "--time", "backend.schema.direct:execute",
         "--time", "backend.graphql_view:GraphQLView.create_response"],
        env={**os.environ, "TMPDIR": str(tmp_path)}, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line for line in done.stdout.splitlines() if "CPU ms per" in line]
    assert [line.split(":")[0] for line in lines] == ["S1", "S2", "S3", "S4", "S5"]
    assert all("product" in line and "baseline/product" in line for line in lines[:2])
    assert "baseline" not in lines[2] and "1,000 imported items" in lines[3]
    assert "event loop's thread" in lines[4]
    assert (tmp_path / "dmp-bench-inprocess" / "manifest-sqlite.json").exists()
    # The parts timed in place: each called once per S1 and S2 request, with a time.
    timed = [line for line in done.stdout.splitlines() if " in place " in line]
    assert [line.split(" ")[0] for line in timed] == ["S1", "S2"]
    for line in timed:
        figures = line.split(": ", 1)[1].split("; ")
        assert [f.split(" ")[0] for f in figures] == [
            "backend.schema.direct:execute", "backend.graphql_view:GraphQLView.create_response"
        ]
        assert all(f.endswith("µs x 1.00") and float(f.split(" ")[1]) > 0 for f in figures)
    assert all(" in place (wall, " in line for line in timed)

    # The same data again, the part timed by the thread's CPU time.
    again = subprocess.run(
        [sys.executable, "-m", "bench.inprocess", "--db", "sqlite", "--rounds", "1",
         "--requests", "10", "--only", "S1", "--time", "backend.schema.direct:execute", "--cpu",
         "--calls", "--time", "bench.baseline:Baseline.read"],
        env={**os.environ, "TMPDIR": str(tmp_path)}, capture_output=True, text=True, timeout=300,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    cpu_line, baseline_line = [line for line in again.stdout.splitlines() if " in place" in line]
    assert cpu_line.startswith("S1 in place (CPU, median per call, calls per request): ")
    figure = cpu_line.split(": ", 1)[1]
    assert figure.startswith("backend.schema.direct:execute ") and figure.endswith("µs x 1.00")
    assert float(figure.split(" ")[1]) > 0
    # A part of the baseline: on a line of its own, once per baseline request.
    assert baseline_line.startswith("S1 in place, baseline (CPU, median per call, calls per request): ")
    figure = baseline_line.split(": ", 1)[1]
    assert figure.startswith("bench.baseline:Baseline.read ") and figure.endswith("µs x 1.00")
    # The functions the requests ran, counted in both, the product's by package.
    [breadth] = [line for line in again.stdout.splitlines() if " Python functions run in " in line]
    match = re.fullmatch(
        r"S1 Python functions run in 10 requests: product (\d+) \((\d+) entries a request\), "
        r"baseline (\d+) \((\d+)\); the product's by package: (.+)", breadth
    )
    assert match is not None, breadth
    assert all(int(n) > 0 for n in match.groups()[:4])
    packages = dict(item.rsplit(" ", 1) for item in match.group(5).split(", "))
    assert {"backend/schema", "graphql", "strawberry"} <= packages.keys()
    assert sum(map(int, packages.values())) <= int(match.group(1))


@pytest.mark.parametrize(
    ("part", "refusal"),
    [
        ("backend.schema.direct", "expected MODULE:NAME"),
        ("backend.no_such_module:execute", "No module named"),
        ("backend.schema.direct:no_such_function", "not a function or method"),
        ("backend.schema.direct:RULES", "not a function or method"),  # a tuple
        ("backend.graphql_view:NoSuchClass.create_response", "not a function or method"),
    ],
)
def test_inprocess_refuses_a_part_it_cannot_time(part: str, refusal: str) -> None:
    with pytest.raises(SystemExit, match=refusal):
        owner_of(part)


def test_inprocess_finds_functions_and_methods() -> None:
    from backend.graphql_view import GraphQLView
    from backend.schema import direct

    assert owner_of("backend.schema.direct:execute") == (direct, "execute")
    assert owner_of("backend.graphql_view:GraphQLView.create_response") == (GraphQLView, "create_response")


def test_inprocess_refuses_a_misspelt_part_before_it_seeds(tmp_path: Path) -> None:
    """`--seed --time` with a part that does not exist stops before the database is made."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}  # the harness's state folder, here
    done = subprocess.run(
        [sys.executable, "-m", "bench.inprocess", "--db", "sqlite", "--seed",
         "--time", "backend.schema.direct:no_such_function"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )
    assert done.returncode != 0
    assert "--time backend.schema.direct:no_such_function: not a function or method" in done.stderr
    state = tmp_path / "dmp-bench-inprocess"
    assert not (state / "bench.sqlite3").exists() and not (state / "manifest-sqlite.json").exists()
