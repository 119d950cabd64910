"""Database configuration and lifecycle for Tortoise."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise

from backend.config import settings


def _url(url: str) -> str:
    if url.startswith("sqlite://"):
        # WAL + a busy timeout: several workers on one file wait instead of failing.
        sep = "&" if "?" in url else "?"
        return f"{url}{sep}busy_timeout=10000"
    return url


def tortoise_config(url: str | None = None) -> dict[str, Any]:
    return {
        "connections": {"default": _url(url or settings().database_url)},
        "apps": {
            "models": {
                "models": ["backend.models"],
                "default_connection": "default",
                "migrations": "backend.models.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def __getattr__(name: str) -> Any:
    # The `tortoise` command line reads TORTOISE_ORM; build it only when asked for.
    if name == "TORTOISE_ORM":
        return tortoise_config()
    raise AttributeError(name)


async def connect(url: str | None = None) -> None:
    from tortoise.context import get_current_context

    # uvicorn runs the lifespan in a task of its own: without the global fallback, the
    # requests' tasks would not see the connections opened there ("No TortoiseContext").
    await Tortoise.init(
        config=tortoise_config(url), _enable_global_fallback=get_current_context() is None
    )


async def disconnect() -> None:
    await Tortoise.close_connections()
