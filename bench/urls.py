"""Benchmark database URLs: as plain asyncpg takes them (`asyncpg_url`, which the baseline
uses without importing the product), and the pool size the product gives them."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

# The product's pool settings (Tortoise's, backend/db.py), which asyncpg would send to the
# server as settings of the session.
_POOL_SETTINGS = ("maxsize", "minsize")


def asyncpg_url(url: str) -> str:
    """`url` as `postgres://`, without the product's pool settings."""
    parts = urlsplit(url.replace("asyncpg://", "postgres://"))
    query = [p for p in parts.query.split("&") if p and p.split("=", 1)[0] not in _POOL_SETTINGS]
    return urlunsplit(parts._replace(query="&".join(query)))


def pool_size(url: str) -> int:
    """The product's pool size for `url`: its `maxsize`, or the product's default."""
    from backend.db import POSTGRES_DEFAULTS

    for item in urlsplit(url).query.split("&"):
        name, _, value = item.partition("=")
        if name == "maxsize" and value.isdigit():
            return int(value)
    return int(POSTGRES_DEFAULTS["maxsize"])
