"""The fair baseline: a plain Starlette endpoint, outside the product, for S1 and S2.

It runs the SAME SQL statements the product runs for those operations (captured from the
product with the `tortoise.db_client` logger, see docs/benchmarks.md), written plainly
against asyncpg or aiosqlite, including the chained access-event write (the product's two
statements without a transaction for a repeated access on PostgreSQL, else one transaction),
and returns the same JSON. Served by uvicorn in its own process:

    python -m bench.baseline --db URL --port 8101 --audit-key HEX
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import re
import uuid
import weakref
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench.urls import asyncpg_url

SECTIONS = [
    "MEDICATIONS", "MEDICAL_DEVICES", "PROCEDURES", "IMAGING", "LAB_RESULTS", "HOSPITAL_STAYS",
    "MEDICAL_HISTORY", "ALLERGIES", "VACCINATIONS", "DOCUMENTS", "EMERGENCY",
]
FIELD_OF = {
    "MEDICATIONS": "medications", "MEDICAL_DEVICES": "medicalDevices", "PROCEDURES": "procedures",
    "IMAGING": "imaging", "LAB_RESULTS": "labResults", "HOSPITAL_STAYS": "hospitalStays",
    "MEDICAL_HISTORY": "medicalHistory", "ALLERGIES": "allergies", "VACCINATIONS": "vaccinations",
    "DOCUMENTS": "documents",
}
# Which sections each profession may see (a copy of the product's matrix: the baseline is
# outside the product and imports nothing from it).
ALL = frozenset(SECTIONS)
MATRIX = {
    "medecin": ALL,
    "pharmacien": frozenset({"MEDICATIONS", "ALLERGIES", "LAB_RESULTS", "VACCINATIONS", "EMERGENCY"}),
}
GENESIS = "0" * 64

# --- the statements, as the product issues them (PostgreSQL placeholders) ----------------
# Captured with `python -m bench.capture` (backend/auth/viewer.py, backend/resolvers/records.py,
# backend/resolvers/entry_pages.py, backend/audit/writer.py); copied, not imported.

SQL_BEARER = (
    'SELECT t."id", t."scopes", t."organization", t."name", t."last_used_at",'
    ' p."id" AS "practitioner_id", p."profession", p."is_regulator",'
    ' a."id" AS "account_id", a."first_name", a."last_name"'
    ' FROM "api_token" t LEFT JOIN "practitioner" p ON p."id" = t."practitioner_id"'
    ' LEFT JOIN "account" a ON a."id" = p."account_id"'
    ' WHERE t."token_hash" = $1 AND t."revoked_at" IS NULL AND t."expires_at" > $2 LIMIT 1'
)
SQL_TOKEN_TOUCH = 'UPDATE "api_token" SET "last_used_at"=$1 WHERE "id"=$2'  # noqa: S105
SQL_RECORD_AND_SHARING = (
    'SELECT r.*, g."sections" AS "shared_sections",'
    ' EXISTS(SELECT 1 FROM "blocked_practitioner" b'
    ' WHERE b."record_id" = r."id" AND b."practitioner_id" = $2) AS "is_blocked",'
    ' EXISTS(SELECT 1 FROM "emergency_session" s WHERE s."record_id" = r."id"'
    ' AND s."practitioner_id" = $2 AND s."kind" = $3 AND s."expires_at" > $5) AS "regulator_open",'
    ' EXISTS(SELECT 1 FROM "emergency_session" s WHERE s."record_id" = r."id"'
    ' AND s."practitioner_id" = $2 AND s."kind" = $4 AND s."expires_at" > $5) AS "break_glass_open"'
    ' FROM "record" r LEFT JOIN "grant" g ON g."record_id" = r."id" AND g."practitioner_id" = $2'
    ' WHERE r."ins" = $1'
)


def sql_pages(rid: Any, sections: list[str], author: Any, filtered: bool) -> tuple[str, list[Any]]:
    """The first pages of several sections in one UNION ALL, as the product reads them
    (no cursor, superseded hidden, no totalCount asked: no COUNT subquery)."""
    params: list[Any] = []
    branches = []
    for k, section in enumerate(sections):
        params.extend((rid, section))
        n = len(params)
        where = f'e."record_id" = ${n - 1} AND e."section" = ${n}'
        if filtered:
            params.extend((False, author))
            where += f' AND (e."masked" = ${len(params) - 1} OR e."author_id" = ${len(params)})'
        params.append(False)
        where += f' AND e."superseded" = ${len(params)}'
        params.append(21)
        branches.append(
            f'SELECT {k} AS "page_no", p{k}.* FROM (SELECT e.*, CAST(NULL AS BIGINT) AS "visible_total"'  # noqa: S608
            f' FROM "entry" e WHERE {where}'
            f' ORDER BY e."care_date" DESC, e."id" DESC LIMIT ${len(params)}) AS p{k}'
        )
    return " UNION ALL ".join(branches), params


SQL_BUMP_PG = (
    'WITH head AS (UPDATE "record" SET "event_seq" = "event_seq" + 1 WHERE "id" = $1'
    ' RETURNING "event_seq") SELECT "event_seq" FROM head'
)
SQL_BUMP_SQLITE = 'UPDATE "record" SET "event_seq" = "event_seq" + 1 WHERE "id" = $1 RETURNING "event_seq"'
SQL_HEAD = (
    'SELECT (SELECT "mac" FROM "access_event" WHERE "record_id" = $1 AND "seq" = $2),'
    ' EXISTS(SELECT 1 FROM "access_event" WHERE "record_id" = $1 AND "actor_id" = $3'
    ' AND "seq" <= $2 AND "action" <> $4)'
)
# The product's steady state on PostgreSQL (backend/audit/writer.py: _append_steady).
SQL_STEADY_HEAD = (
    'SELECT r."event_seq", (SELECT e."mac" FROM "access_event" e'
    ' WHERE e."record_id" = r."id" AND e."seq" = r."event_seq"),'
    ' EXISTS(SELECT 1 FROM "access_event" e WHERE e."record_id" = r."id"'
    ' AND e."actor_id" = $2 AND e."action" <> $3), r."audit_epoch"'
    ' FROM "record" r WHERE r."id" = $1'
)
SQL_STEADY_APPEND = (
    'WITH "head" AS (UPDATE "record" SET "event_seq" = "event_seq" + 1'
    ' WHERE "id" = $1 AND "event_seq" = $2 - 1 AND "audit_epoch" = $14 RETURNING "event_seq")'
    ' INSERT INTO "access_event" ("record_id", "seq", "at", "actor_id", "actor_name",'
    ' "actor_profession", "actor_role", "action", "mode", "sections", "entry_id", "reason", "mac")'
    ' SELECT $1::uuid, $2::int, $3::timestamptz, $4::text, $5::text, $6::text, $7::text,'
    ' $8::text, $9::text, $10::jsonb, $11::text, $12::text, $13::text FROM "head"'
    ' RETURNING "seq"'
)
SQL_EVENT_INSERT = (
    'INSERT INTO "access_event" ("record_id", "seq", "at", "actor_id", "actor_name",'
    ' "actor_profession", "actor_role", "action", "mode", "sections", "entry_id", "reason", "mac")'
    ' VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)'
)


def _sqlite(sql: str) -> str:
    # Numbered parameters: a statement may use the same one twice.
    return re.sub(r"\$(\d+)", r"?\1", sql)


class Database:
    """The minimum of a driver: fetch rows, and one transaction at a time per connection."""

    sqlite = False

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        raise NotImplementedError

    def transaction(self) -> contextlib.AbstractAsyncContextManager[Database]:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


class Postgres(Database):
    def __init__(self, pool: Any, conn: Any = None) -> None:
        self.pool, self.conn = pool, conn

    @classmethod
    async def open(cls, url: str, pool_size: int) -> Postgres:
        import asyncpg  # type: ignore[import-untyped]

        async def keep_session(conn: Any) -> None:  # as the product: no reset query on release
            return None

        pool = await asyncpg.create_pool(asyncpg_url(url), min_size=1,
                                         max_size=pool_size, reset=keep_session)
        return cls(pool)

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        if self.conn is not None:
            return list(await self.conn.fetch(sql, *args))
        async with self.pool.acquire() as conn:
            return list(await conn.fetch(sql, *args))

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Database]:
        async with self.pool.acquire() as conn, conn.transaction():
            yield Postgres(self.pool, conn)

    async def close(self) -> None:
        await self.pool.close()


class Sqlite(Database):
    """One connection, as the product's SQLite client; transactions take turns."""

    sqlite = True

    def __init__(self, conn: Any, lock: asyncio.Lock) -> None:
        self.conn, self.lock = conn, lock

    @classmethod
    async def open(cls, path: str) -> Sqlite:
        import aiosqlite

        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA busy_timeout=10000")
        return cls(conn, asyncio.Lock())

    @staticmethod
    def _arg(v: Any) -> Any:
        if isinstance(v, uuid.UUID):
            return str(v)
        if isinstance(v, bool):
            return int(v)
        if isinstance(v, dt.datetime):
            return str(v)
        return v

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        async with self.conn.execute(_sqlite(sql), [self._arg(a) for a in args]) as cursor:
            return list(await cursor.fetchall())

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Database]:
        async with self.lock:
            await self.conn.execute("BEGIN")
            try:
                yield self
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            await self.conn.execute("COMMIT")

    async def close(self) -> None:
        await self.conn.close()


# --- the endpoint -----------------------------------------------------------------------------


def _uuid(v: Any) -> uuid.UUID | None:
    if v is None or isinstance(v, uuid.UUID):
        return v
    return uuid.UUID(str(v))


def _json(v: Any) -> Any:
    return json.loads(v) if isinstance(v, str) else v


def _date(v: Any) -> str:
    return v.isoformat() if isinstance(v, dt.date) else str(v)


def _cursor(care_date: str, entry_id: Any) -> str:
    return base64.urlsafe_b64encode(f"e|{care_date}|{entry_id}".encode()).decode()


class Baseline:
    def __init__(self, db: Database, audit_key: bytes) -> None:
        self.db, self.key = db, audit_key
        # One writer per record at a time in this process, as the product's writer.
        self.locks: weakref.WeakValueDictionary[Any, asyncio.Lock] = weakref.WeakValueDictionary()

    async def viewer(self, request: Request) -> dict[str, Any] | None:
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        now = dt.datetime.now(dt.UTC)
        rows = await self.db.fetch(SQL_BEARER, hashlib.sha256(token.encode()).hexdigest(), now)
        if not rows or rows[0]["practitioner_id"] is None:
            return None
        row = rows[0]
        last = row["last_used_at"]
        if isinstance(last, str):
            last = dt.datetime.fromisoformat(last)
        if last is None or now - last > dt.timedelta(minutes=1):
            await self.db.fetch(SQL_TOKEN_TOUCH, now, row["id"])
        return {
            "practitioner_id": _uuid(row["practitioner_id"]),
            "account_id": _uuid(row["account_id"]),
            "name": f'{row["first_name"]} {row["last_name"]}',
            "profession": row["profession"],
        }

    async def read(self, request: Request, sections: list[str], whole: bool) -> Response:
        viewer = await self.viewer(request)
        if viewer is None:
            return JSONResponse({"errors": [{"message": "Invalid token"}]}, 401)
        ins = (await request.json())["variables"]["ins"]
        pid = viewer["practitioner_id"]
        now = dt.datetime.now(dt.UTC)
        records = await self.db.fetch(SQL_RECORD_AND_SHARING, ins, pid, "REGULATOR", "BREAK_GLASS", now)
        if not records:
            return JSONResponse({"data": None, "errors": [{"message": "No access to this record"}]})
        record = records[0]
        rid = _uuid(record["id"])
        granted = set(_json(record["shared_sections"]) or [])
        treating = _uuid(record["treating_physician_id"]) == pid and viewer["profession"] == "medecin"
        modes: dict[str, str] = {}
        if not record["is_blocked"] and record["status"] == "ACTIVE":
            matrix = MATRIX.get(viewer["profession"], frozenset())
            for section in SECTIONS:
                if treating:
                    modes[section] = "TREATING_PHYSICIAN"
                elif section in matrix and section in granted:
                    modes[section] = "GRANTED"
        if not modes:
            return JSONResponse({"data": None, "errors": [{"message": "No access to this record"}]})
        mode = "TREATING_PHYSICIAN" if treating else "GRANTED"
        out: dict[str, Any] = {}
        if whole:
            out.update(
                ins=record["ins"], firstName=record["first_name"], lastName=record["last_name"],
                birthDate=_date(record["birth_date"]), status=record["status"], accessMode=mode,
            )
        out["sectionAccess"] = [{"section": s, "mode": m} for s, m in modes.items()]
        returned: set[str] = set()
        wanted = [section for section in sections if section in modes]
        pages: dict[str, list[Any]] = {section: [] for section in wanted}
        if wanted:
            text, params = sql_pages(rid, wanted, viewer["account_id"], filtered=not treating)
            for row in await self.db.fetch(text, *params):
                pages[wanted[int(row["page_no"])]].append(row)
        for section in sections:
            if section not in modes:
                out[FIELD_OF[section]] = None
                continue
            rows = sorted(pages[section], key=lambda r: (_date(r["care_date"]), str(r["id"])), reverse=True)
            returned.add(section)
            edges = []
            for row in rows[:20]:
                date = _date(row["care_date"])
                node: dict[str, Any] = {"id": str(row["id"]), "title": row["title"], "date": date}
                if whole:
                    node.update(code=row["code"], source=row["source"])
                    edges.append({"cursor": _cursor(date, row["id"]), "node": node})
                else:
                    edges.append({"node": node})
            conn: dict[str, Any] = {"edges": edges}
            if whole:
                conn["pageInfo"] = {"hasNextPage": len(rows) > 20,
                                    "endCursor": edges[-1]["cursor"] if edges else None}
            out[FIELD_OF[section]] = conn
        if "EMERGENCY" in modes:
            returned.add("EMERGENCY")
            profile: dict[str, Any] = {"bloodGroup": record["blood_group"]}
            if whole:
                profile["emergencyContacts"] = [
                    {"name": c.get("name", ""), "phone": c.get("phone", ""), "relation": c.get("relation")}
                    for c in _json(record["emergency_contacts"]) or []
                ]
                profile["advanceDirectives"] = record["advance_directives"] or ""
            out["emergencyProfile"] = profile
        else:
            out["emergencyProfile"] = None
        await self.write_event(rid, viewer, mode, sorted(returned))
        return JSONResponse({"data": {"patientRecord": out}})

    async def write_event(self, rid: uuid.UUID | None, viewer: dict[str, Any], mode: str,
                          sections: list[str]) -> None:
        """The product's chained write: on PostgreSQL, a repeated access in two statements
        without a transaction (read the head, then move it and insert if it has not moved and
        no rekey sealed the chain anew);
        otherwise, and after three moves, bump the head, read the previous MAC, insert."""
        actor_id = str(viewer["account_id"])
        if not self.db.sqlite:
            lock = self.locks.get(rid)
            if lock is None:
                lock = self.locks[rid] = asyncio.Lock()
            async with lock:
                for _ in range(3):
                    current, previous, seen_before, epoch = (
                        await self.db.fetch(SQL_STEADY_HEAD, rid, actor_id, "ACCESS_DENIED")
                    )[0]
                    if not seen_before:
                        break
                    args = self._event(rid, current + 1, previous or GENESIS, viewer, mode, sections)
                    if await self.db.fetch(SQL_STEADY_APPEND, *args, epoch):
                        return
        async with self.db.transaction() as tx:
            seq = (await tx.fetch(SQL_BUMP_SQLITE if tx.sqlite else SQL_BUMP_PG, rid))[0][0]
            head = await tx.fetch(SQL_HEAD, rid, seq - 1, actor_id, "ACCESS_DENIED")
            previous = head[0][0] or GENESIS  # head[0][1]: seen before (the first-access notice)
            await tx.fetch(SQL_EVENT_INSERT, *self._event(rid, seq, previous, viewer, mode, sections))

    def _event(self, rid: uuid.UUID | None, seq: int, previous: str, viewer: dict[str, Any],
               mode: str, sections: list[str]) -> list[Any]:
        """The INSERT's values, the MAC chained on `previous`."""
        actor_id = str(viewer["account_id"])
        at = dt.datetime.now(dt.UTC)
        fields = {
            "record": str(rid), "seq": seq, "at": at.isoformat(timespec="microseconds"),
            "actor_id": actor_id, "actor_name": viewer["name"],
            "actor_profession": viewer["profession"], "actor_role": "PRACTITIONER",
            "action": "RECORD_READ", "mode": mode, "sections": sections, "entry_id": None,
            "reason": "",
        }
        canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hmac.new(self.key, previous.encode() + canonical.encode(), hashlib.sha256).hexdigest()
        return [
            rid, seq, at, actor_id, viewer["name"], viewer["profession"], "PRACTITIONER",
            "RECORD_READ", mode, json.dumps(sections, separators=(",", ":")), None, "", digest,
        ]


S1_SECTIONS = ["ALLERGIES", "MEDICATIONS"]
S2_SECTIONS = [s for s in SECTIONS if s != "EMERGENCY"]


def create_app(url: str, audit_key: bytes, pool_size: int) -> Starlette:
    state: dict[str, Baseline] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if url.startswith("sqlite://"):
            db: Database = await Sqlite.open(url.removeprefix("sqlite://"))
        else:
            db = await Postgres.open(url, pool_size)
        state["app"] = Baseline(db, audit_key)
        try:
            yield
        finally:
            await db.close()

    async def s1(request: Request) -> Response:
        return await state["app"].read(request, S1_SECTIONS, whole=False)

    async def s2(request: Request) -> Response:
        return await state["app"].read(request, S2_SECTIONS, whole=True)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[Route("/s1", s1, methods=["POST"]), Route("/s2", s2, methods=["POST"]),
                Route("/healthz", healthz)],
        lifespan=lifespan,
    )


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="the baseline endpoint of the benchmark")
    parser.add_argument("--db", required=True, help="database URL (postgres:// or sqlite://)")
    parser.add_argument("--port", type=int, default=8101)
    parser.add_argument("--audit-key", required=True, help="hex HMAC key of the access history")
    parser.add_argument("--pool-size", type=int, default=20, help="as the product's (bench.run passes it)")
    args = parser.parse_args()
    app = create_app(args.db, bytes.fromhex(args.audit_key), args.pool_size)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
