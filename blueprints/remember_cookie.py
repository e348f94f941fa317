"""The "pf_appareil" cookie of a remembered phone (services.remembered_devices has the rules).

Not Flask-Login's remember cookie: that one holds the same value for its whole life and
cannot be revoked server-side. This one is restored through Flask-Login's request loader,
which runs when the session cookie names no live session, and is rewritten at each use.
Distinct from the lockout's device cookie: this one signs a person in, that one does not.
"""

from __future__ import annotations

from flask import Flask, current_app, g, request, session
from flask_login import login_user

from extensions import login_manager
from models import utcnow
from services import remembered_devices

COOKIE_NAME = "pf_appareil"
_FORGET = "forget"


def register(app: Flask) -> None:
    login_manager.request_loader(load_remembered_user)
    app.after_request(_write_cookie)


def load_remembered_user(_request):
    """The family behind a remembered phone's cookie, in a fresh session; None otherwise."""
    cookie = request.cookies.get(COOKIE_NAME)
    if not cookie:
        return None
    try:
        restored = remembered_devices.restore_session(cookie, utcnow(), request.remote_addr or "")
    except remembered_devices.DeviceNotRemembered as refused:
        if not refused.keep_cookie:
            forget_cookie()
        return None
    # As at sign-in: nothing of the previous session survives.
    session.clear()
    login_user(restored.account, fresh=False)
    set_cookie(restored.cookie)
    return restored.account


def set_cookie(cookie: remembered_devices.DeviceCookie | None) -> None:
    """Send this cookie with the response (None: nothing to send)."""
    if cookie is not None:
        g.remember_cookie = cookie


def forget_cookie() -> None:
    """Delete the cookie from the browser with the response."""
    g.remember_cookie = _FORGET


def current_cookie() -> str | None:
    return request.cookies.get(COOKIE_NAME)


def _write_cookie(response):
    cookie = g.pop("remember_cookie", None)
    secure = current_app.config.get("SESSION_COOKIE_SECURE", False)
    if cookie == _FORGET:
        response.delete_cookie(COOKIE_NAME, secure=secure, httponly=True, samesite="Lax")
    elif cookie is not None:
        max_age = int((cookie.expires_at - utcnow()).total_seconds())
        response.set_cookie(
            COOKIE_NAME,
            cookie.value,
            max_age=max_age,
            secure=secure,
            httponly=True,
            samesite="Lax",
        )
    return response
