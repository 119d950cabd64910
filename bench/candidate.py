"""Serve the product with candidate optimizations applied in memory, to measure them first.

    python -m bench.run --server-module bench.candidate          # with DMP_BENCH_CANDIDATES=...

Nothing here is part of the product: each candidate is a monkeypatch that stands for a
proposed diff (docs/benchmarks.md, "Optimizations"); measuring it tells whether the diff is
worth making. DMP_BENCH_CANDIDATES lists them, comma-separated (default: all):

- validation: stable validation-rule classes, so strawberry's ValidationCache hits
  (today QueryDepthLimiter/MaxAliasesLimiter build a new rule class per request: every
  request misses the cache and validates the whole document again).
- pool: no asyncpg reset query when a connection goes back to the pool (one round trip per
  ORM query), and a pool of 10.
- sharing: the three sharing queries (grants, blocks, emergency sessions) as one statement.
- event: the chain head bump and the previous MAC in one statement (UPDATE … RETURNING).
- token: the bearer-token lookup selects the five columns it uses, not 40.
PostgreSQL only for `sharing`, `event` and `token` (they write $n placeholders).
"""

from __future__ import annotations

import argparse
import os
import uuid
from collections.abc import Sequence
from datetime import UTC, timedelta
from typing import Any

ALL = ("validation", "pool", "sharing", "event", "token")


def enabled() -> set[str]:
    raw = os.environ.get("DMP_BENCH_CANDIDATES", ",".join(ALL))
    return {name.strip() for name in raw.split(",") if name.strip()}


def patch_validation() -> None:
    from strawberry.extensions import AddValidationRules, MaxAliasesLimiter, QueryDepthLimiter

    from backend.schema import root

    replaced = []
    for ext in root.schema.extensions:
        probe = ext() if not isinstance(ext, type) and callable(ext) else None
        if isinstance(probe, QueryDepthLimiter | MaxAliasesLimiter):
            rules = list(probe.validation_rules)  # built once: the cache key stays the same

            def factory(rules: list[Any] = rules) -> AddValidationRules:
                return AddValidationRules(rules)

            replaced.append(factory)
        else:
            replaced.append(ext)
    root.schema.extensions = tuple(replaced)


def patch_pool() -> None:
    from tortoise.backends.base.config_generator import expand_db_url

    from backend import db

    original = db.tortoise_config

    async def no_reset(conn: Any) -> None:
        return None

    def config(url: str | None = None) -> dict[str, Any]:
        cfg = original(url)
        raw = cfg["connections"]["default"]
        if isinstance(raw, str) and raw.startswith(("postgres://", "asyncpg://")):
            expanded = expand_db_url(raw)
            expanded["credentials"].update(reset=no_reset, maxsize=10)
            cfg["connections"]["default"] = expanded
        return cfg

    db.tortoise_config = config  # type: ignore[assignment]


def patch_sharing() -> None:
    from tortoise import Tortoise

    from backend import clock
    from backend.authz import loaders
    from backend.authz.decision import NO_SHARING, SharingFacts
    from backend.domain.enums import Section

    sql = (
        'SELECT 0 AS k, record_id, sections::text AS v FROM "grant"'
        " WHERE practitioner_id = $1 AND record_id = ANY($2::uuid[])"
        " UNION ALL SELECT 1, record_id, NULL FROM blocked_practitioner"
        " WHERE practitioner_id = $1 AND record_id = ANY($2::uuid[])"
        " UNION ALL SELECT 2, record_id, kind FROM emergency_session"
        " WHERE practitioner_id = $1 AND record_id = ANY($2::uuid[]) AND expires_at > $3"
    )

    async def load(self: Any, record_ids: Sequence[uuid.UUID]) -> list[SharingFacts]:
        import json

        pid = self.practitioner_id
        if pid is None:
            return [NO_SHARING for _ in record_ids]
        ids = list(record_ids)
        conn = Tortoise.get_connection("default")
        _, rows = await conn.execute_query(sql, [pid, ids, clock.now()])
        granted: dict[uuid.UUID, frozenset[Section]] = {}
        blocked, regulator, break_glass = set(), set(), set()
        for kind, rid, value in rows:
            if kind == 0:
                granted[rid] = frozenset(Section(s) for s in json.loads(value))
            elif kind == 1:
                blocked.add(rid)
            elif value == "REGULATOR":
                regulator.add(rid)
            else:
                break_glass.add(rid)
        return [
            SharingFacts(granted=granted.get(rid, frozenset()), blocked=rid in blocked,
                         regulator_open=rid in regulator, break_glass_open=rid in break_glass)
            for rid in ids
        ]

    loaders.Loaders._load_sharing = load  # type: ignore[method-assign]


def patch_event() -> None:
    from backend import clock
    from backend.audit import writer
    from backend.audit.chain import GENESIS, event_fields, mac
    from backend.config import settings
    from backend.models import AccessEvent

    head_sql = (
        'WITH head AS (UPDATE "record" SET "event_seq" = "event_seq" + 1 WHERE "id" = $1'
        ' RETURNING "event_seq") SELECT head."event_seq", (SELECT "mac" FROM "access_event" e'
        ' WHERE e."record_id" = $1 AND e."seq" = head."event_seq" - 1) FROM head'
    )

    async def append(conn: Any, key: bytes, actor: Any, event: Any) -> AccessEvent:
        _, rows = await conn.execute_query(head_sql, [event.record_id])
        if not rows:
            raise LookupError("the record of an access event does not exist")
        seq, previous = rows[0][0], rows[0][1]
        previous_mac = str(previous) if previous else GENESIS
        at = clock.now().astimezone(UTC)
        mode = event.effective_mode
        fields = event_fields(
            record_id=str(event.record_id), seq=seq, at=at,
            actor_id=str(actor.account_id) if actor.account_id else None, actor_name=actor.name,
            actor_profession=actor.profession, actor_role=actor.role, action=event.action.value,
            mode=mode.value if mode else None, sections=[s.value for s in event.sections],
            entry_id=event.entry_id, reason=event.reason,
        )
        return await AccessEvent.create(
            using_db=conn, record_id=event.record_id, seq=seq, at=at, actor_id=fields["actor_id"],
            actor_name=actor.name, actor_profession=actor.profession, actor_role=actor.role,
            action=event.action.value, mode=fields["mode"], sections=fields["sections"],
            entry_id=event.entry_id, reason=event.reason, mac=mac(key, fields, previous_mac),
        )

    assert settings() is not None
    writer._append = append  # type: ignore[assignment]


def patch_token() -> None:
    from tortoise import Tortoise

    from backend import clock
    from backend.auth import viewer as viewer_module
    from backend.auth.secrets_util import digest
    from backend.domain.enums import Profession, Role

    sql = (
        'SELECT t.id, t.scopes::text, t.organization, t.name, t.last_used_at, p.id, p.profession,'
        ' p.is_regulator, a.id, a.first_name, a.last_name FROM api_token t'
        ' LEFT JOIN practitioner p ON p.id = t.practitioner_id LEFT JOIN account a ON a.id = p.account_id'
        ' WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 LIMIT 1'
    )

    async def from_bearer(token: str) -> Any:
        import json

        now = clock.now()
        conn = Tortoise.get_connection("default")
        _, rows = await conn.execute_query(sql, [digest(token), now])
        if not rows:
            return None
        (tid, scopes, organization, name, last_used, pid, profession, regulator, aid, first,
         last) = rows[0]
        if last_used is None or now - last_used > timedelta(minutes=1):
            await conn.execute_query('UPDATE api_token SET last_used_at = $1 WHERE id = $2', [now, tid])
        scope_set = frozenset(json.loads(scopes))
        if pid is not None:
            return viewer_module.Viewer(
                account_id=aid, role=Role.PRACTITIONER, display_name=f"{first} {last}",
                practitioner_id=pid, profession=Profession(profession), is_regulator=regulator,
                token_id=tid, scopes=scope_set,
            )
        return viewer_module.Viewer(role=Role.INSURER, display_name=organization or name, token_id=tid,
                                    scopes=scope_set, organization=organization)

    viewer_module.viewer_from_bearer = from_bearer  # type: ignore[assignment]


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    chosen = enabled()
    postgres = os.environ.get("DMP_DATABASE_URL", "").startswith(("postgres", "asyncpg"))
    patches = {"validation": patch_validation, "pool": patch_pool, "sharing": patch_sharing,
               "event": patch_event, "token": patch_token}
    for name in ALL:
        if name in chosen and (postgres or name in ("validation", "pool")):
            patches[name]()
    from backend.app import create_app

    uvicorn.run(create_app(), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
