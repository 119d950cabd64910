"""The session cookie: HttpOnly, SameSite=Strict, Secure and __Host- outside localhost."""

from __future__ import annotations

from starlette.responses import Response

from backend.config import settings


def set_session_cookie(response: Response, token: str) -> None:
    cfg = settings()
    response.set_cookie(
        cfg.session_cookie,
        token,
        max_age=cfg.session_absolute_hours * 3600,
        path="/",
        httponly=True,
        secure=cfg.secure_cookies,
        samesite="strict",
    )


def clear_session_cookie(response: Response) -> None:
    cfg = settings()
    response.delete_cookie(
        cfg.session_cookie, path="/", httponly=True, secure=cfg.secure_cookies, samesite="strict"
    )
