"""The fair baseline: a plain Starlette endpoint, outside the product, for S1 and S2.

It runs the SAME SQL statements the product runs for those operations (captured from the
product with the `tortoise.db_client` logger, see docs/benchmarks.md), written plainly
against asyncpg or aiosqlite, including the chained access-event write in one transaction,
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
import uuid
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

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

ACCOUNT_COLS = (
    "code_channel", "locked_at", "last_failed_login_at", "first_name", "failure_day", "last_name",
    "password_hash", "created_at", "phone_verified", "email", "email_verified", "id", "phone",
    "failure_count", "role", "pending_email", "lock_reason", "pending_phone", "last_login_at",
)
PRACT_COLS = ("city", "search_text", "is_regulator", "rpps", "id", "account_id", "profession")
TOKEN_COLS = (
    "revoked_at", "scopes", "prefix", "created_at", "id", "name", "token_hash", "last_used_at",
    "expires_at", "practitioner_id", "organization",
)
SQL_TOKEN = (
    "SELECT "
    + ",".join(f'"api_token"."{c}"' for c in TOKEN_COLS) + ","
    + ",".join(f'"p"."{c}" "p.{c}"' for c in PRACT_COLS) + ","
    + ",".join(f'"a"."{c}" "a.{c}"' for c in ACCOUNT_COLS) + ","
    + ",".join(f'"p"."{c}" "p2.{c}"' for c in PRACT_COLS)
    + ' FROM "api_token" LEFT OUTER JOIN "practitioner" "p" ON "p"."id"="api_token"."practitioner_id"'
    ' LEFT OUTER JOIN "account" "a" ON "a"."id"="p"."account_id"'
    ' WHERE "api_token"."token_hash"=$1 AND "api_token"."revoked_at" IS NULL'
    ' AND "api_token"."expires_at">$2 LIMIT $3'
)
SQL_TOKEN_TOUCH = 'UPDATE "api_token" SET "last_used_at"=$1 WHERE "id"=$2'  # noqa: S105
SQL_RECORD = (
    'SELECT "owner_id","event_seq","closed_at","emergency_contacts","birth_date","pending_contact",'
    '"allow_regulator","first_name","treating_physician_id","last_name","created_at","ins","id",'
    '"status","allow_break_glass","notify_new_documents","activated_at","deletion_requested_at",'
    '"blood_group","advance_directives" FROM "record" WHERE "ins"=$1 LIMIT $2'
)
SQL_GRANTS = (
    'SELECT "record_id" "0","sections" "1" FROM "grant" WHERE "practitioner_id"=$1 AND "record_id" IN ($2)'
)
SQL_BLOCKS = (
    'SELECT "record_id" "0" FROM "blocked_practitioner" WHERE "practitioner_id"=$1'
    ' AND "record_id" IN ($2)'
)
SQL_SESSIONS = (
    'SELECT "record_id" "0","kind" "1" FROM "emergency_session" WHERE "practitioner_id"=$1'
    ' AND "record_id" IN ($2) AND "expires_at">$3'
)
ENTRY_SELECT = (
    'SELECT "care_date","author_name","superseded","source","external_id","details","record_id",'
    '"section","created_at","author_id","id","masked","title","author_profession","code",'
    '"supersedes_id","organization","file_id" FROM "entry" '
)
# The product counts the visible entries of the section in the same statement (totalCount),
# whether or not the client asked for it.
SQL_PAGE_FILTERED = (
    ENTRY_SELECT.replace(' FROM "entry" ', ',(SELECT COUNT("id") "visible_total" FROM "entry"'
                         ' WHERE "record_id"=$1 AND "section"=$2 AND ("masked"=$3 OR "author_id"=$4)'
                         ' AND "superseded"=$5) "visible_total" FROM "entry" ')
    + 'WHERE "record_id"=$1 AND "section"=$2 AND ("masked"=$3 OR "author_id"=$4)'
    ' AND "superseded"=$5 ORDER BY "care_date" DESC,"id" DESC LIMIT $6'
)
SQL_PAGE_ALL = (
    ENTRY_SELECT.replace(' FROM "entry" ', ',(SELECT COUNT("id") "visible_total" FROM "entry"'
                         ' WHERE "record_id"=$1 AND "section"=$2 AND "superseded"=$3)'
                         ' "visible_total" FROM "entry" ')
    + 'WHERE "record_id"=$1 AND "section"=$2 AND "superseded"=$3'
    ' ORDER BY "care_date" DESC,"id" DESC LIMIT $4'
)
SQL_SEQ_BUMP = 'UPDATE "record" SET "event_seq"="event_seq"+$1 WHERE "id"=$2'
SQL_SEQ_READ = 'SELECT "event_seq" "0" FROM "record" WHERE "id"=$1'
SQL_PREV_MAC = 'SELECT "mac" "0" FROM "access_event" WHERE "record_id"=$1 AND "seq"=$2'
SQL_EVENT_INSERT = (
    'INSERT INTO "access_event" ("seq","at","actor_id","actor_name","actor_profession","actor_role",'
    '"action","mode","sections","entry_id","reason","mac","record_id")'
    ' VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) RETURNING "id"'
)
SQL_SEEN_BEFORE = (
    'SELECT 1 FROM "access_event" WHERE "record_id"=$1 AND "actor_id"=$2 AND "seq"<$3'
    ' AND NOT "action"=$4 LIMIT $5'
)


def _sqlite(sql: str) -> str:
    # Numbered parameters: a statement may use the same one twice.
    for n in range(13, 0, -1):
        sql = sql.replace(f"${n}", f"?{n}")
    return sql


class Database:
    """The minimum of a driver: fetch rows, and one transaction at a time per connection."""

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
        import asyncpg

        pool = await asyncpg.create_pool(url.replace("asyncpg://", "postgres://"), min_size=1,
                                         max_size=pool_size)
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

    async def viewer(self, request: Request) -> dict[str, Any] | None:
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        now = dt.datetime.now(dt.UTC)
        rows = await self.db.fetch(SQL_TOKEN, hashlib.sha256(token.encode()).hexdigest(), now, 1)
        if not rows or rows[0]["p.id"] is None:
            return None
        row = rows[0]
        last = row["last_used_at"]
        if isinstance(last, str):
            last = dt.datetime.fromisoformat(last)
        if last is None or now - last > dt.timedelta(minutes=1):
            await self.db.fetch(SQL_TOKEN_TOUCH, now, row["id"])
        return {
            "practitioner_id": _uuid(row["p.id"]),
            "account_id": _uuid(row["a.id"]),
            "name": f'{row["a.first_name"]} {row["a.last_name"]}',
            "profession": row["p.profession"],
        }

    async def read(self, request: Request, sections: list[str], whole: bool) -> Response:
        viewer = await self.viewer(request)
        if viewer is None:
            return JSONResponse({"errors": [{"message": "Invalid token"}]}, 401)
        ins = (await request.json())["variables"]["ins"]
        records = await self.db.fetch(SQL_RECORD, ins, 1)
        if not records:
            return JSONResponse({"data": None, "errors": [{"message": "No access to this record"}]})
        record = records[0]
        rid = _uuid(record["id"])
        pid = viewer["practitioner_id"]
        now = dt.datetime.now(dt.UTC)
        grants = await self.db.fetch(SQL_GRANTS, pid, rid)
        blocks = await self.db.fetch(SQL_BLOCKS, pid, rid)
        await self.db.fetch(SQL_SESSIONS, pid, rid, now)
        granted = set(_json(grants[0][1])) if grants else set()
        treating = _uuid(record["treating_physician_id"]) == pid and viewer["profession"] == "medecin"
        modes: dict[str, str] = {}
        if not blocks and record["status"] == "ACTIVE":
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
        for section in sections:
            if section not in modes:
                out[FIELD_OF[section]] = None
                continue
            if treating:
                rows = await self.db.fetch(SQL_PAGE_ALL, rid, section, False, 21)
            else:
                rows = await self.db.fetch(SQL_PAGE_FILTERED, rid, section, False,
                                           viewer["account_id"], False, 21)
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
        """The product's chained write: bump the head, read the previous MAC, insert."""
        async with self.db.transaction() as tx:
            await tx.fetch(SQL_SEQ_BUMP, 1, rid)
            seq = (await tx.fetch(SQL_SEQ_READ, rid))[0][0]
            prev = await tx.fetch(SQL_PREV_MAC, rid, seq - 1)
            previous = prev[0][0] if prev else GENESIS
            at = dt.datetime.now(dt.UTC)
            actor_id = str(viewer["account_id"])
            fields = {
                "record": str(rid), "seq": seq, "at": at.isoformat(timespec="microseconds"),
                "actor_id": actor_id, "actor_name": viewer["name"],
                "actor_profession": viewer["profession"], "actor_role": "PRACTITIONER",
                "action": "RECORD_READ", "mode": mode, "sections": sections, "entry_id": None,
                "reason": "",
            }
            canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            digest = hmac.new(self.key, previous.encode() + canonical.encode(), hashlib.sha256).hexdigest()
            await tx.fetch(
                SQL_EVENT_INSERT, seq, at, actor_id, viewer["name"], viewer["profession"],
                "PRACTITIONER", "RECORD_READ", mode, json.dumps(sections, separators=(",", ":")), None,
                "", digest, rid,
            )
            # The product's "first access by this professional?" check, inside the transaction.
            await tx.fetch(SQL_SEEN_BEFORE, rid, actor_id, seq, "ACCESS_DENIED", 1)


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
    parser.add_argument("--pool-size", type=int, default=5, help="as Tortoise's default pool")
    args = parser.parse_args()
    app = create_app(args.db, bytes.fromhex(args.audit_key), args.pool_size)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
