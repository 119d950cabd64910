"""Peak memory of one exportMyRecord, against the size of the record's documents.

    .venv/bin/python -m bench.export_memory                      # 20 and 100 MB, JSON and FHIR
    .venv/bin/python -m bench.export_memory --mb 20,100,228 --file-mb 10 --formats JSON
    .venv/bin/python -m bench.export_memory --mb 100 --text emoji

For each size, a temporary data folder with a SQLite database is made and seeded, in a
process of its own, through the product's own functions: a patient (`accounts.create_account`,
which writes the record's first events), one entry in each list section, and documents of
random bytes (`storage.write`, the stored-file and entry rows as `uploadDocument` makes
them), `--file-mb` MB each (the upload limit is 20 MB) up to `--mb` MB in all; and a second,
small record used to warm the process up.

Each export then runs in fresh processes: once under `tracemalloc` (the peak of Python's
allocations, `get_traced_memory`, while the export is built, in `export.export_my_record`,
then over the whole request), and `--repeat` times without it (the growth of the process's
resident memory to its high-water mark, `resource.getrusage(RUSAGE_SELF).ru_maxrss`, from
the resident memory just before the request; the median of the runs, which differ by up to
a fifth: the C allocator keeps some of what Python frees, more or less from one run to the
next). The request is a real GraphQL one, sent to the product's ASGI application through
httpx's `ASGITransport` as the tests send theirs, after a warm-up export of the small record
in the same format; the peaks are read once the response has arrived (httpx holds the body
the application sent, not a copy of it), before it is parsed. The whole request's traced
peak counts memory reserved but never touched: orjson reserves about ten times a string's
length to write it into the response and uses what it writes; the resident memory is what
the machine gives.

Prints, per size and format, the export's length (UTF-8), the request's time, the peaks,
and each peak divided by the documents' size. MB are 2**20 bytes. `--text` chooses what the
entries' titles hold: Python stores a text in one, two or four bytes per character after
its widest character, the export's base64 included. Not run by CI or by the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

MB = 1 << 20
ORIGIN = "http://localhost:8000"
EXPORT = """
mutation ($format: ExportFormat!) {
  exportMyRecord(format: $format) { fileName contentType content }
}"""
OWNER = "export-owner@bench.dmp"
WARM = "export-warm@bench.dmp"
# What the entries' titles hold, which decides how Python stores the export's text: one byte
# per character up to U+00FF (French accents), two up to U+FFFF (a typographic apostrophe),
# four beyond (an emoji), for the whole text, its base64 included.
TEXTS = {"ascii": "Element", "accents": "Élément", "apostrophe": "L’élément", "emoji": "Élément 💊"}


def _env(folder: Path, mb: int) -> dict[str, str]:
    return {
        **os.environ,
        "DMP_DATABASE_URL": f"sqlite://{folder / 'export.sqlite3'}",
        "DMP_DATA_DIR": str(folder / "data"),
        "DMP_PUBLIC_ORIGIN": ORIGIN,
        "DMP_ENV": "development",
        "DMP_RECORD_STORAGE_MB": str(max(500, mb + 1)),
    }


async def _patient(email: str, last_name: str) -> Any:
    import datetime as dt

    from backend import accounts
    from backend.domain.enums import Role
    from backend.domain.identifiers import ins_key
    from backend.models import Record

    body = "1850575900001" if email == OWNER else "1850575900002"
    account = await accounts.create_account(accounts.NewAccount(
        role=Role.PATIENT, email=email, password="bench-password-Zq8!vT3#",  # noqa: S106
        first_name="Alice", last_name=last_name, ins=body + ins_key(body),
        birth_date=dt.date(1985, 6, 12), phone=None,
    ))
    return account, await Record.get(owner_id=account.id)


async def _entries(record: Any, documents: int, file_size: int, text: str = "accents") -> None:
    """One entry in each list section, `documents` documents of `file_size` random bytes."""
    import datetime as dt
    import uuid

    from backend.domain.enums import EntrySource, Section
    from backend.files import storage
    from backend.models import Entry, StoredFile

    today = dt.date.today()
    for n, section in enumerate(s for s in Section if s != Section.EMERGENCY):
        await Entry.create(
            record=record, section=section, title=f"{TEXTS[text]} {n}", code="",
            care_date=today - dt.timedelta(days=n), author_name="Assurance Maladie",
            source=EntrySource.INSURER, details={"value": "5.40", "unit": "mmol/L"},
        )
    for n in range(documents):
        file_id = uuid.uuid4()
        content = os.urandom(file_size)
        sealed = await storage.write(file_id, content)
        stored = await StoredFile.create(
            id=file_id, record=record, content_type="application/pdf", size=len(content),
            filename=f"compte-rendu-{n}.pdf", key_id=sealed.key_id, wrapped_key=sealed.wrapped_key,
            nonce=sealed.nonce,
        )
        await Entry.create(
            record=record, section=Section.DOCUMENTS, title=f"Compte rendu {n}", code="",
            care_date=today - dt.timedelta(days=n), author_name="Alice", source=EntrySource.PATIENT,
            details={"documentType": "Compte rendu"}, file=stored,
        )


async def _seed(mb: int, file_mb: float, text: str) -> None:
    from backend import db
    from backend.config import settings
    from bench.seed import create_database

    url = settings().database_url
    await create_database(url)
    await db.connect(url)
    try:
        _, record = await _patient(OWNER, "Export")
        size = int(mb * MB)
        file_size = int(file_mb * MB)
        documents, last = divmod(size, file_size)
        await _entries(record, documents, file_size, text)
        if last:
            await _entries(record, 1, last)
        _, warm = await _patient(WARM, "Warm")
        await _entries(warm, 1, 1000)
    finally:
        await db.disconnect()


def _rss_now() -> int:
    """The process's resident memory now, in bytes (Linux)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


async def _measure(fmt: str, probe: str) -> dict[str, Any]:
    import httpx
    from tortoise import Tortoise

    from backend import db
    from backend.app import create_app
    from backend.auth.sessions import create_session
    from backend.config import settings
    from backend.models import Account, StoredFile
    from backend.resolvers import export as export_module

    cfg = settings()
    await db.connect(cfg.database_url)
    try:
        # The bench's own database: the exports of its earlier runs leave the owner's hourly
        # bound (`schema/documents.py`, EXPORTS_PER_HOUR) as it was before them.
        await Tortoise.get_connection("default").execute_script(
            """DELETE FROM "rate_counter" WHERE "key" LIKE 'export:%'"""
        )
        owner = await Account.get(email=OWNER)
        warm = await Account.get(email=WARM)
        documents = sum(row.size for row in await StoredFile.all()) - 1000  # the warm one's
        app = create_app(cfg, outbox_worker=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ORIGIN) as client:

            async def export(account: Any) -> httpx.Response:
                _, token = await create_session(account)
                client.cookies.clear()
                client.cookies.set(cfg.session_cookie, token)
                return await client.post(
                    "/graphql", json={"query": EXPORT, "variables": {"format": fmt}},
                    headers={"origin": ORIGIN},
                )

            await export(warm)
            _, token = await create_session(owner)
            built = 0  # the peak of Python's allocations while the export is built (the resolver)
            if probe == "tracemalloc":
                build = export_module.export_my_record

                async def measured(*args: Any) -> Any:
                    nonlocal built
                    result = await build(*args)
                    built = tracemalloc.get_traced_memory()[1]
                    tracemalloc.reset_peak()
                    return result

                export_module.export_my_record = measured  # type: ignore[assignment]
            gc.collect()
            before = _rss_now()
            if probe == "tracemalloc":
                tracemalloc.start()
            started = time.perf_counter()
            client.cookies.clear()
            client.cookies.set(cfg.session_cookie, token)
            response = await client.post(
                "/graphql", json={"query": EXPORT, "variables": {"format": fmt}}, headers={"origin": ORIGIN},
            )
            seconds = time.perf_counter() - started
            traced = max(built, tracemalloc.get_traced_memory()[1]) if probe == "tracemalloc" else 0
            tracemalloc.stop()
            high = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            body_length = len(response.content)
            answer = response.json()
            if answer.get("errors"):
                raise SystemExit(f"the export was refused: {answer['errors']}")
            content = answer["data"]["exportMyRecord"]["content"]
    finally:
        await db.disconnect()
    return {
        "documents": documents, "content": len(content.encode()), "response": body_length, "seconds": seconds,
        "built_peak": built, "traced_peak": traced, "rss_before": before, "rss_high": high,
    }


def _child(args: list[str], folder: Path, mb: int) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bench.export_memory", *args],
        env=_env(folder, mb), capture_output=True, text=True, check=False,
    )
    if done.returncode:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"bench.export_memory {' '.join(args)} failed ({done.returncode})")
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mb", default="20,100", help="documents' sizes in MB, comma-separated")
    parser.add_argument("--file-mb", type=float, default=10, help="size of each document, in MB")
    parser.add_argument("--formats", default="JSON,FHIR")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each export without tracemalloc; their median RSS growth is printed")
    parser.add_argument("--text", choices=sorted(TEXTS), default="accents",
                        help="what the entries' titles hold (how Python stores the export's text)")
    parser.add_argument("--seed-only", type=int, help=argparse.SUPPRESS)  # in a child process
    parser.add_argument("--measure", choices=["JSON", "FHIR"], help=argparse.SUPPRESS)
    parser.add_argument("--probe", choices=["tracemalloc", "rss"], default="rss", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only is not None:
        asyncio.run(_seed(args.seed_only, args.file_mb, args.text))
        return
    if args.measure:
        print(json.dumps(asyncio.run(_measure(args.measure, args.probe))))
        return

    sizes = [int(s) for s in args.mb.split(",") if s.strip()]
    formats = [f.strip().upper() for f in args.formats.split(",") if f.strip()]
    print(f"{'docs MB':>8} {'format':>6} {'export MB':>9} {'s':>5} {'built MB':>9} {'×':>5} "
          f"{'traced MB':>10} {'×':>5} {'RSS growth MB':>14} {'×':>5}")
    for mb in sizes:
        with tempfile.TemporaryDirectory(prefix="dmp-export-memory-") as tmp:
            folder = Path(tmp)
            _child(["--seed-only", str(mb), "--file-mb", str(args.file_mb), "--text", args.text], folder, mb)
            for fmt in formats:
                traced = json.loads(_child(["--measure", fmt, "--probe", "tracemalloc"], folder, mb))
                runs = [json.loads(_child(["--measure", fmt, "--probe", "rss"], folder, mb))
                        for _ in range(max(1, args.repeat))]
                rss = runs[0]
                docs = rss["documents"]
                growth = statistics.median(run["rss_high"] - run["rss_before"] for run in runs)
                print(
                    f"{docs / MB:8.1f} {fmt:>6} {rss['content'] / MB:9.1f} {rss['seconds']:5.1f} "
                    f"{traced['built_peak'] / MB:9.1f} {traced['built_peak'] / docs:5.2f} "
                    f"{traced['traced_peak'] / MB:10.1f} {traced['traced_peak'] / docs:5.2f} "
                    f"{growth / MB:14.1f} {growth / docs:5.2f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
