"""Limits on password guessing at sign-in, beyond the per-address one and the account's
lockout (services.accounts). Counted in the rate limiter's storage: Redis in production,
shared by every worker.

The rules (OWASP, "Slow down online guessing attacks with device cookies"):
- A browser that signed in to a login carries a known-browser cookie: that login and a
  random nonce, signed with SECRET_KEY (a forged or edited one is worth nothing, and one
  signed for another login too).
- Attempts at a login from any other browser count per login (LOGIN_RATE_PER_ACCOUNT,
  whatever the address): past it, 429 and no password checked. Their failures also feed
  the account's lockout.
- Attempts from a browser with this login's cookie are judged by that browser's own
  failures only (LOGIN_FAILURES_PER_BROWSER): a stranger's failures, counted elsewhere,
  never stop the owner's phone. Past its limit the browser waits, its password unchecked.
- A new password (reset, invitation, change) clears the login's count.
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from limits import parse

from extensions import limiter

COOKIE = "pf_navigateur"
COOKIE_MAX_AGE = int(timedelta(days=365).total_seconds())
_ACCOUNT_SCOPE = "login-account"
_BROWSER_SCOPE = "login-browser"


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="known-browser")


def known_browser_cookie(login: str) -> str:
    """A new cookie value for a browser that just signed in to `login` (normalized)."""
    return _signer().dumps([login, secrets.token_urlsafe(16)])


def known_browser(cookie: str | None, login: str) -> str | None:
    """The browser's nonce if `cookie` is a genuine known-browser cookie for `login`."""
    try:
        signed_login, nonce = _signer().loads(cookie or "")
    except (BadSignature, ValueError, TypeError):
        return None
    return nonce if signed_login == login and isinstance(nonce, str) else None


def account_attempt_allowed(login: str) -> bool:
    """Count one attempt at `login` from an unknown browser; False once past the limit."""
    return not limiter.enabled or limiter.limiter.hit(_account_rate(), _ACCOUNT_SCOPE, login)


def forget_account_attempts(login: str) -> None:
    """The login starts afresh (its password just changed)."""
    limiter.limiter.clear(_account_rate(), _ACCOUNT_SCOPE, login)


def browser_locked_until(nonce: str, now: datetime) -> datetime | None:
    """When the known browser may try again, if its failures reached the limit."""
    rate = _browser_rate()
    if not limiter.enabled or limiter.limiter.test(rate, _BROWSER_SCOPE, nonce):
        return None
    reset_at = limiter.limiter.get_window_stats(rate, _BROWSER_SCOPE, nonce).reset_time
    return now + timedelta(seconds=max(0.0, reset_at - time.time()))


def count_browser_failure(nonce: str) -> bool:
    """Count a failed sign-in from this known browser; True if it is now locked."""
    if not limiter.enabled:
        return False
    rate = _browser_rate()
    limiter.limiter.hit(rate, _BROWSER_SCOPE, nonce)
    return not limiter.limiter.test(rate, _BROWSER_SCOPE, nonce)


def _account_rate():
    return parse(current_app.config["LOGIN_RATE_PER_ACCOUNT"])


def _browser_rate():
    return parse(current_app.config["LOGIN_FAILURES_PER_BROWSER"])
