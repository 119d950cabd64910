"""Print the SQL statements the product runs for S1 and S2, to keep the baseline honest.

    .venv/bin/python -m bench.capture [--db postgres|sqlite] [--operation S1|S2]

Seeds a tiny database of its own, sends the operation twice in-process (the second request
is the steady state that the baseline reproduces), and prints each statement Tortoise sends,
from the `tortoise.db_client` logger. Compare with bench/baseline.py after a product change.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import tempfile
from pathlib import Path


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE", "WITH",
                                                 "BEGIN", "COMMIT", "ROLLBACK")):
            self.lines.append(message.split(": [", 1)[0])


async def capture(db: str, operation: str) -> list[str]:
    work = Path(tempfile.mkdtemp(prefix="dmp-capture-"))
    url = (f"sqlite://{work / 'capture.sqlite3'}" if db == "sqlite"
           else "postgres://postgres@127.0.0.1:5432/dmp_bench_capture")
    os.environ.update({"DMP_DATABASE_URL": url, "DMP_DATA_DIR": str(work / "data"),
                       "DMP_PUBLIC_ORIGIN": "http://localhost:8000", "DMP_ENV": "development"})
    import httpx

    from backend import config
    from backend import db as product_db
    from backend.app import create_app
    from bench.run import S1, S2
    from bench.seed import create_database, seed

    config.reset(config.load())
    await create_database(url)
    manifest = await seed(url, 6, config.settings().audit_key, big_entries=300)
    await product_db.connect(url)
    handler = Collect()
    logger = logging.getLogger("tortoise.db_client")
    try:
        app = create_app(outbox_worker=False)
        token = manifest.practitioners[0].token
        body = {"query": S1 if operation == "S1" else S2, "variables": {"ins": manifest.hot_ins}}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://localhost:8000") as client:
            await client.post("/graphql", json=body, headers={"authorization": f"Bearer {token}"})
            logger.addHandler(handler)
            logger.setLevel(logging.DEBUG)
            response = await client.post("/graphql", json=body,
                                         headers={"authorization": f"Bearer {token}"})
            response.raise_for_status()
    finally:
        logger.removeHandler(handler)
        await product_db.disconnect()
    return handler.lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="sqlite")
    parser.add_argument("--operation", choices=["S1", "S2"], default="S1")
    args = parser.parse_args()
    for n, line in enumerate(asyncio.run(capture(args.db, args.operation)), start=1):
        print(f"{n:2}. {line}")


if __name__ == "__main__":
    main()
