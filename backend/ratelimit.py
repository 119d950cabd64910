"""Per-address rate limits for the sign-in and activation steps (DESIGN §5), counted in the database.

The client address is the socket peer, or, when the operator names the header their
reverse proxy sets (DMP_TRUSTED_PROXY_HEADER), the right-most entry of that header: the one
the trusted proxy appended. Entries to its left come from the client and are never trusted.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from starlette.requests import Request

from backend import clock
from backend.auth import limits
from backend.config import settings

WINDOW_MINUTES = 10
# Sign-in steps per client address and 10 minutes: high enough for a clinic behind one NAT,
# low enough that one address cannot spray passwords or codes across many accounts.
# `resetPassword` counts as a `completeLogin` (a code checked), `requestPasswordReset` as a
# `startLogin`; a record is activated once in a patient's life: `createRecord` has fewer.
PER_ADDRESS = {"start-login": 100, "complete-login": 100, "create-record": 30}


def client_address(request: Request) -> str:
    header = settings().trusted_proxy_header
    if header:
        entries = [e.strip() for e in request.headers.get(header, "").split(",")]
        entries = [e for e in entries if e]
        if entries:
            return entries[-1][:100]
    return request.client.host if request.client else "unknown"


def _window() -> datetime:
    now = clock.now()
    return now.replace(minute=now.minute - now.minute % WINDOW_MINUTES, second=0, microsecond=0)


async def limit_address(request: Request, action: str) -> None:
    """Count one `action` from the caller's address; RATE_LIMITED past the limit."""
    key = f"addr:{action}:{client_address(request)}"
    await limits.require(key, _window(), PER_ADDRESS[action], window=timedelta(minutes=WINDOW_MINUTES))
