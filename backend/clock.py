"""The current time, in one place, so tests can move it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_offset = timedelta(0)


def now() -> datetime:
    return datetime.now(UTC) + _offset


# The calendar day reaches UTC+14 first: a date after that day is in the future for everyone.
_AHEAD = timedelta(hours=14)
# The service's own zone: the day given when the user gave none, and the times messages give.
SERVICE_ZONE = ZoneInfo("Europe/Paris")


def latest_today() -> date:
    """Today where it is latest on Earth: the bound of a date "not in the future". A user's
    own today (Paris after midnight, Réunion, Nouméa) is never refused as tomorrow."""
    return (now() + _AHEAD).date()


def service_today() -> date:
    """Today in the service's own zone (Paris): the date given when the user gave none."""
    return now().astimezone(SERVICE_ZONE).date()


def shift(delta: timedelta) -> None:
    """Move the clock (tests only)."""
    global _offset
    _offset += delta


def reset() -> None:
    global _offset
    _offset = timedelta(0)
