"""The benchmark of issue #14: seed, serve, drive load from another core, print the table.

    .venv/bin/python -m bench.run --db postgres            # 1,000 patients, 10 s per scenario
    .venv/bin/python -m bench.run --db sqlite
    .venv/bin/python -m bench.run --db postgres --patients 100000 --only S1

The server (`dmp serve`, one worker) and the baseline (bench/baseline.py) run pinned to
core 0; the load generator (bench/load.py) runs pinned to core 1. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.seed import Manifest, create_database, seed
from bench.urls import pool_size

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG_URL = "postgres://postgres@127.0.0.1:5432/dmp_bench"

S1 = """query S1($ins: String!) {
  patientRecord(ins: $ins) {
    sectionAccess { section mode }
    allergies(first: 20) { edges { node { id title date } } }
    medications(first: 20) { edges { node { id title date } } }
    emergencyProfile { bloodGroup }
  }
}"""

# Without `author { … }`, as the baseline answers it (the product's cost limit, 10,000, would let it pass).
_S2_CONN = ("(first: 20) { edges { cursor node { id title code date source } }"
            " pageInfo { hasNextPage endCursor } }")
S2 = (
    "query S2($ins: String!) {\n  patientRecord(ins: $ins) {\n"
    "    ins firstName lastName birthDate status accessMode\n"
    "    sectionAccess { section mode }\n"
    + "".join(
        f"    {name}{_S2_CONN}\n"
        for name in ("medications", "medicalDevices", "procedures", "imaging", "labResults", "hospitalStays",
                     "medicalHistory", "allergies", "vaccinations", "documents")
    )
    + "    emergencyProfile { bloodGroup emergencyContacts { name phone relation }"
    " advanceDirectives }\n  }\n}"
)

S3 = """query S3 {
  myAccessHistory(first: 50) {
    edges { cursor node { id seq at actorName actorProfession actorRole action mode sections reason } }
    pageInfo { hasNextPage endCursor }
  }
}"""
S4 = """mutation S4($items: [CareItemInput!]!) {
  importCareHistory(items: $items) {
    accepted created corrected unchanged rejected { index externalId code message }
  }
}"""
IMPORT_ITEMS = 1000


def pin(core: int) -> list[str]:
    """Pin a child to one core where taskset exists and the machine has two cores or more."""
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", str(core)]
    return []


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux), 0 where /proc is missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_healthy(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with status {process.returncode}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not become healthy")


def server_env(url: str, data_dir: Path, port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "DMP_DATABASE_URL": url,
        "DMP_DATA_DIR": str(data_dir),
        "DMP_PUBLIC_ORIGIN": f"http://localhost:{port}",
        "DMP_ENV": "development",
        # Logins (S5) come from many addresses, as behind a load balancer.
        "DMP_TRUSTED_PROXY_HEADER": "X-Forwarded-For",
    })
    return env


def configure_here(url: str, data_dir: Path, port: int) -> bytes:
    """This process configured as the product it measures (database, data folder, origin);
    returns the audit key, which seeding chains the history with."""
    env = server_env(url, data_dir, port)
    names = ("DMP_DATABASE_URL", "DMP_DATA_DIR", "DMP_PUBLIC_ORIGIN", "DMP_ENV")
    os.environ.update({k: env[k] for k in names})
    from backend import config

    config.reset(config.load())
    return config.settings().audit_key


def start_product(url: str, data_dir: Path, port: int, log: Path, module: str = "") -> Server:
    if module:
        cmd = [*pin(0), PYTHON, "-m", module, "--port", str(port)]
    else:
        dmp = str(Path(PYTHON).with_name("dmp"))
        cmd = [*pin(0), dmp, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    process = subprocess.Popen(cmd, env=server_env(url, data_dir, port), cwd=ROOT,
                               stdout=log.open("wb"), stderr=subprocess.STDOUT)
    server = Server("product", port, process)
    try:
        wait_healthy(port, process)
    except Exception:
        server.stop()
        raise
    return server


def start_baseline(url: str, audit_key: bytes, port: int, log: Path) -> Server:
    # The baseline's pool holds as many connections as the product's.
    cmd = [*pin(0), PYTHON, "-m", "bench.baseline", "--db", url, "--port", str(port),
           "--audit-key", audit_key.hex(), "--pool-size", str(pool_size(url))]
    process = subprocess.Popen(cmd, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    server = Server("baseline", port, process)
    try:
        wait_healthy(port, process)
    except Exception:
        server.stop()
        raise
    return server


def gql(query: str, variables: dict[str, Any] | None = None) -> str:
    return json.dumps({"query": query, "variables": variables or {}})


def drive(spec: dict[str, Any], work: Path) -> dict[str, Any]:
    """Run the load generator in its own process on core 1; returns its JSON result."""
    path = work / f"spec-{time.monotonic_ns()}.json"
    path.write_text(json.dumps(spec))
    out = subprocess.run([*pin(1), PYTHON, "-m", "bench.load", str(path)], cwd=ROOT,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{out.stderr[-3000:]}")
    path.unlink()
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def spread_clients(m: Manifest, query: str, concurrency: int) -> list[dict[str, Any]]:
    """Each client is one practitioner reading the records that granted them access."""
    clients = []
    for i in range(concurrency):
        p = m.practitioners[i % len(m.practitioners)]
        clients.append({"headers": bearer(p.token),
                        "bodies": [gql(query, {"ins": ins}) for ins in p.patients[:500]]})
    return clients


def one_record_clients(m: Manifest, query: str, ins: str, concurrency: int) -> list[dict[str, Any]]:
    return [
        {"headers": bearer(m.practitioners[i % len(m.practitioners)].token),
         "bodies": [gql(query, {"ins": ins})]}
        for i in range(concurrency)
    ]


def product_fields() -> set[str]:
    """Root fields the product exposes now (other areas are still being built)."""
    from backend.schema.root import schema

    text = schema.as_str()
    return {name for name in ("myAccessHistory", "importCareHistory", "startLogin", "completeLogin")
            if f"  {name}(" in text or f"  {name}:" in text}


S4_REQUESTS = 12
S5_CLIENTS = 2


def cip13(n: int) -> str:
    from backend.domain.codes import ean13_check_digit

    body = f"34009{n % 10_000_000:07d}"
    return body + ean13_check_digit(body)


def import_items(patients: Sequence[Sequence[str]], batch: int) -> list[dict[str, Any]]:
    """1,000 new dispensed medicines over 200 known patients (`Manifest.import_patients`);
    unique external ids per batch."""
    items = []
    for k in range(IMPORT_ITEMS):
        ins, first, last, birth = patients[k % len(patients)]
        n = batch * IMPORT_ITEMS + k
        items.append({
            "ins": ins, "firstName": first, "lastName": last, "birthDate": birth,
            "externalId": f"BENCH-{n}", "section": "MEDICATIONS", "code": cip13(n),
            "title": "Paracétamol 1 g comprimé", "date": "2024-03-01",
            "details": {"atc": "N02BE01", "dose": "1 cp x 3/j", "quantity": 2},
        })
    return items


def beside_s1_and_s5(m: Manifest, product: Server, login: dict[str, Any], base: dict[str, Any],
                     work: Path, rows: list[Row], c: int, rate: float = 0.0) -> None:
    """S1 latency while S5 logins (argon2) run beside it: two load processes at once.

    With `rate`, S1 is paced at that many requests per second instead of saturating the server.
    """
    s1 = {**base, "port": product.port, "path": "/graphql", "clients": spread_clients(m, S1, c),
          **({"rate": rate} if rate else {})}
    s5 = {**base, "port": product.port, "path": "/graphql",
          "clients": [{"bodies": ["{}"]}] * S5_CLIENTS,
          "login": {**login, "accounts": list(reversed(login["accounts"]))}}
    paths = []
    for name, spec in (("s1", s1), ("s5", s5)):
        path = work / f"beside-{name}.json"
        path.write_text(json.dumps(spec))
        paths.append(path)
    procs = [subprocess.Popen([*pin(1), PYTHON, "-m", "bench.load", str(p)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True) for p in paths]
    results = [json.loads(proc.communicate()[0].strip().splitlines()[-1]) for proc in procs]
    paced = f", paced {rate:.0f}/s" if rate else ""
    for (label, conc), result in zip(((f"S1 spread{paced}, S5 beside", c),
                                      (f"S5 login, beside S1{paced}", S5_CLIENTS)), results, strict=True):
        result["items_per_request"] = 1
        rows.append(Row(label, "product", conc, result))
        print_table(rows[-1:], [])


@dataclass
class Row:
    operation: str
    target: str
    concurrency: int
    result: dict[str, Any] | None
    note: str = ""


def adjacent_ratios(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, list[float]]:
    """The ratios of each (product, baseline) pair measured back to back: on a host whose
    speed drifts within minutes, two runs a few seconds apart share its speed better than the
    best runs of each, which may come from different minutes. A pair whose baseline served
    nothing, or without CPU figures, is left out of that figure's list; a product that served
    nothing counts as 0."""
    by_rps = [p["rps"] / b["rps"] for p, b in pairs if b.get("rps")]
    by_cpu = [b["cpu_ms"] / p["cpu_ms"] for p, b in pairs if p.get("cpu_ms") and b.get("cpu_ms")]
    return {"req/s": by_rps, "cpu": by_cpu}


def print_table(rows: list[Row], ratios: list[tuple[str, float]]) -> None:
    head = (f"{'operation':<34} {'server':<9} {'conc':>4} {'req/s':>8} {'items/s':>8} "
            f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>6} {'cpu ms/req':>10}")
    print(head)
    print("-" * len(head))
    for row in rows:
        r = row.result
        if r is None:
            print(f"{row.operation:<34} {row.target:<9} {row.concurrency:>4} {row.note}")
            continue
        items = f"{r['items_per_s']:>8.0f}" if r.get("items_per_request", 1) != 1 else f"{'':>8}"
        print(f"{row.operation:<34} {row.target:<9} {row.concurrency:>4} {r['rps']:>8.1f} {items} "
              f"{r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['errors']:>6} "
              f"{r.get('cpu_ms', float('nan')):>10.2f}")
        if r["errors"] and r.get("error_sample"):
            print(f"    first error: {r['error_sample'][:200]}")
    for name, value in ratios:
        print(f"ratio {name}: {value:.2f}")


# The performance targets the figures are read against (docs/benchmarks.md, "Where the
# targets stand"). The growth to 100,000 patients needs two runs and is not checked here.
S1_RPS, S1_P99_MS, S1_RATIO, S2_RATIO = 300, 100, 0.7, 0.5
ONE_RECORD_RPS, BIG_RECORD_GROWTH, S4_ITEMS_PER_S = 100, 1.2, 5000


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def target_lines(rows: list[Row], ratios: list[tuple[str, float]]) -> list[str]:
    """This run's figures against each target it measured, with whether each is met. The
    ratios are given as the run prints them (best runs, and the median of the pairs with
    `--repeat`), by requests/s (the target's reading) and by server CPU per request (a
    cross-check, marked so). S1's latency beside logins has
    no threshold: its p95 and p99 alone and beside are printed, to be read against the
    host's noise."""

    def product(operation: str) -> dict[str, Any] | None:
        for row in rows:
            if row.operation == operation and row.target == "product" and row.result:
                return row.result
        return None

    lines = []
    s1 = product("S1 consultation, spread")
    if s1:
        lines.append(
            f"S1 spread >= {S1_RPS} req/s, p99 <= {S1_P99_MS} ms: {s1['rps']:.0f} req/s, "
            f"p99 {s1['p99_ms']:.1f} ms, {s1['errors']} errors: "
            f"{_verdict(s1['rps'] >= S1_RPS and s1['p99_ms'] <= S1_P99_MS and not s1['errors'])}"
        )
    for operation, floor in (("S1 consultation, spread", S1_RATIO), ("S2 whole record, spread", S2_RATIO)):
        for name, value in ratios:
            if name.startswith(f"{operation} "):
                # The ratio is product/baseline in requests/s; CPU per request is
                # judged against the same floor as a steadier cross-check.
                how = name.removeprefix(operation + " ")
                if "server CPU" in how:
                    how += "; a cross-check, the target is read in req/s"
                # Three decimals: 0.699 printed as "0.70: NOT met" reads as a contradiction.
                lines.append(f"{operation} ratio >= {floor} ({how}): {value:.3f}: {_verdict(value >= floor)}")
    for label, operation, figure, floor, unit in (
        (f"S1 one record >= {ONE_RECORD_RPS} req/s, no error", "S1 one record (100 entries)", "rps",
         ONE_RECORD_RPS, "req/s"),
        (f"S4 >= {S4_ITEMS_PER_S:,} items/s", "S4 insurer import, 1,000 items", "items_per_s",
         S4_ITEMS_PER_S, "items/s"),
    ):
        result = product(operation)
        if result:
            met = result[figure] >= floor and not result["errors"]
            lines.append(f"{label}: {result[figure]:,.0f} {unit}, {result['errors']} errors: {_verdict(met)}")
    one, big = product("S1 one record (100 entries)"), product("S1 one record (10,000 entries)")
    if one and big and one.get("cpu_ms") and big.get("cpu_ms"):
        growth = big["cpu_ms"] / one["cpu_ms"]
        lines.append(f"S1 at 10,000 entries within {BIG_RECORD_GROWTH}x of 100 (CPU per request): "
                     f"{growth:.2f}x: {_verdict(growth <= BIG_RECORD_GROWTH)}")
    for row in rows:
        if row.operation.startswith("S1 spread, paced") and not row.operation.endswith("S5 beside"):
            alone, beside = row.result, product(f"{row.operation}, S5 beside")
            if alone and beside:
                lines.append(
                    f"{row.operation}, S5 beside it: p95 {alone['p95_ms']:.1f} -> {beside['p95_ms']:.1f} ms, "
                    f"p99 {alone['p99_ms']:.1f} -> {beside['p99_ms']:.1f} ms (no threshold: read against "
                    "the host's noise)"
                )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per scenario")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before measuring")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--only", default="", help="comma-separated: S1,S1one,S1big,S2,S3,S4,S5")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--pg-url", default=PG_URL, help="the benchmark's own database (dropped first)")
    # Three pairs by default: one pair's ratio moves by ±0.15 on a shared host within minutes;
    # the median of three pairs, printed and judged beside the best runs', moves less.
    parser.add_argument("--repeat", type=int, default=3,
                        help="run each product/baseline pair N times, interleaved; keep the best of each "
                             "and print the median of the pairs' ratios (default 3)")
    parser.add_argument("--server-module", default="",
                        help="serve the product with `python -m MODULE --port P` instead of `dmp serve` "
                             "(to measure a candidate optimization without editing the product)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, manifest)")
    parser.add_argument("--profile-scenario", choices=("S1", "S2"), default="S1",
                        help="the scenario --profile records")
    parser.add_argument("--profile", type=Path,
                        help="record the server with py-spy during --profile-scenario into this file")
    args = parser.parse_args(argv)

    only = {s.strip() for s in args.only.split(",") if s.strip()}

    def wanted(name: str) -> bool:
        return not only or name in only

    work = Path(tempfile.mkdtemp(prefix="dmp-bench-"))
    data_dir = work / "data"
    url = args.pg_url if args.db == "postgres" else f"sqlite://{work / 'bench.sqlite3'}"
    audit_key = configure_here(url, data_dir, args.port)

    t0 = time.monotonic()
    asyncio.run(create_database(url))
    manifest = asyncio.run(seed(url, args.patients, audit_key))
    print(f"seeded {manifest.patients} patients, {manifest.entries} entries on {args.db} "
          f"in {time.monotonic() - t0:.1f} s", flush=True)

    rows: list[Row] = []
    ratios: list[tuple[str, float]] = []
    servers: list[Server] = []
    fields = product_fields()
    c = args.concurrency
    base = {"host": "127.0.0.1", "duration": args.duration, "warmup": args.warmup}
    try:
        product = start_product(url, data_dir, args.port, work / "product.log", args.server_module)
        servers.append(product)
        baseline = start_baseline(url, audit_key, args.port + 1, work / "baseline.log")
        servers.append(baseline)

        def measure(operation: str, server: Server, path: str, clients: list[dict[str, Any]],
                    profile: Path | None = None, **extra: Any) -> dict[str, Any]:
            spec = {**base, "port": server.port, "path": path, "clients": clients, **extra}
            spy = None
            if profile is not None:
                spy = subprocess.Popen(
                    [*pin(1), str(Path(PYTHON).with_name("py-spy")), "record", "--pid",
                     str(server.process.pid), "--duration", str(int(args.warmup + args.duration)),
                     "--rate", "250", "--format", "raw", "--output", str(profile)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            cpu_before = cpu_seconds(server.process.pid)
            try:
                result = drive(spec, work)
            except RuntimeError as exc:
                print(exc, file=sys.stderr)
                rows.append(Row(operation, server.name, len(clients), None, "load generator failed"))
                return {"rps": 0.0, "completed": 0}
            used = cpu_seconds(server.process.pid) - cpu_before
            result["cpu_ms"] = 1000 * used / result["completed"] if result["completed"] else float("nan")
            if spy is not None and profile is not None:
                spy.wait(timeout=60)
                from bench.profile import summarize

                print(summarize(profile))
            result["items_per_request"] = extra.get("items_per_request", 1)
            rows.append(Row(operation, server.name, len(clients), result))
            print_table(rows[-1:], [])
            return result

        def pair(operation: str, query: str, baseline_path: str, clients: list[dict[str, Any]],
                 profile: Path | None = None) -> dict[str, Any]:
            """Product and baseline back to back, `--repeat` times; the best run of each is kept.
            With several pairs, the median of the pairs' own ratios is given too."""
            best: dict[str, tuple[Row, dict[str, Any]]] = {}
            pairs: list[tuple[dict[str, Any], dict[str, Any]]] = []
            for attempt in range(args.repeat):
                measured: dict[str, dict[str, Any]] = {}
                for server, path in ((product, "/graphql"), (baseline, baseline_path)):
                    result = measure(operation, server, path, clients,
                                     profile if attempt == 0 and server is product else None)
                    row = rows.pop()
                    measured[server.name] = result
                    if server.name not in best or result["rps"] > best[server.name][1]["rps"]:
                        best[server.name] = (row, result)
                pairs.append((measured["product"], measured["baseline"]))
            rows.extend(row for row, _ in best.values())
            p = best["product"][1]
            labels = {"req/s": "product/baseline, req/s", "cpu": "baseline/product, server CPU per request"}
            for figure, values in adjacent_ratios([(p, best["baseline"][1])]).items():
                ratios.extend((f"{operation} {labels[figure]}", value) for value in values)
            if len(pairs) > 1:
                for figure, values in adjacent_ratios(pairs).items():
                    if values:
                        each = " ".join(f"{v:.2f}" for v in values)
                        ratios.append((f"{operation} {labels[figure]}, median of the pairs ({each})",
                                       statistics.median(values)))
            return p

        s1: dict[str, Any] = {}
        if wanted("S1"):
            s1 = pair("S1 consultation, spread", S1, "/s1", spread_clients(manifest, S1, c),
                      args.profile if args.profile_scenario == "S1" else None)
        if wanted("S1one"):
            pair("S1 one record (100 entries)", S1, "/s1",
                 one_record_clients(manifest, S1, manifest.hot_ins, c))
        if wanted("S1big"):
            pair("S1 one record (10,000 entries)", S1, "/s1",
                 one_record_clients(manifest, S1, manifest.big_ins, c))
        if wanted("S2"):
            pair("S2 whole record, spread", S2, "/s2", spread_clients(manifest, S2, c),
                 args.profile if args.profile_scenario == "S2" else None)
        if wanted("S3"):
            if "myAccessHistory" not in fields:
                rows.append(Row("S3 access history, first 50", "product", c, None,
                                "pending: myAccessHistory is not in the schema yet"))
            else:
                origin = f"http://localhost:{args.port}"
                clients = [
                    {"headers": {"Cookie": f"dmp_session={s}", "Origin": origin}, "bodies": [gql(S3)]}
                    for s in manifest.history_sessions[:c]
                ]
                measure("S3 access history, first 50", product, "/graphql", clients)
        if wanted("S4"):
            if "importCareHistory" not in fields:
                rows.append(Row("S4 insurer import, 1,000 items", "product", 1, None,
                                "pending: importCareHistory is not in the schema yet"))
            else:
                patients = manifest.import_patients
                bodies = [gql(S4, {"items": import_items(patients, n)}) for n in range(S4_REQUESTS)]
                measure("S4 insurer import, 1,000 items", product, "/graphql",
                        [{"headers": bearer(manifest.insurer_token), "bodies": bodies}],
                        items_per_request=IMPORT_ITEMS, sequential=True, warmup=0.0)
        if wanted("S5"):
            if not {"startLogin", "completeLogin"} <= fields:
                rows.append(Row("S5 login (password + code)", "product", 1, None,
                                "pending: startLogin/completeLogin are not in the schema yet"))
            else:
                login = {"db_url": url, "password": manifest.password, "accounts": manifest.login_emails}
                measure("S5 login (password + code)", product, "/graphql",
                        [{"bodies": ["{}"]} for _ in range(S5_CLIENTS)], login=login)
                if wanted("S1"):
                    beside_s1_and_s5(manifest, product, login, base, work, rows, c)
                    # The same at half the server's S1 throughput, paced: latency without the
                    # queue of a saturated server, alone and with logins beside it.
                    rate = max(10, round(s1.get("rps", 0) / 2, -1))
                    measure(f"S1 spread, paced {rate:.0f}/s", product, "/graphql",
                            spread_clients(manifest, S1, c), rate=rate)
                    beside_s1_and_s5(manifest, product, login, base, work, rows, c, rate)
    finally:
        for server in servers:
            server.stop()
    print()
    print(f"{args.db}, {manifest.patients} patients, {manifest.entries} entries, "
          f"{args.duration:.0f} s per scenario, {c} clients")
    print_table(rows, ratios)
    targets = target_lines(rows, ratios)
    if targets:
        print("\ntargets:")
        for line in targets:
            print(f"  {line}")
    if args.json:
        args.json.write_text(json.dumps({
            "db": args.db, "patients": manifest.patients, "entries": manifest.entries,
            "rows": [row.__dict__ for row in rows], "ratios": ratios, "targets": targets,
        }, indent=2))
    if args.keep:
        manifest.save(work / "manifest.json")
        print(f"work folder kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
