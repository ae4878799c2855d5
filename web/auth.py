"""The console's token: with one configured, every request must carry it.

Either `Authorization: Bearer <token>` (scripts, feed readers that can send headers) or the
cookie that `/login?token=<token>` sets (browsers, feed readers that cannot). The cookie holds a
digest of the token, not the token, and is HttpOnly and SameSite=Strict.

Write actions (feedback forms) also need a CSRF token in the form: an HMAC of the session
cookie's value under the configured token, which a page the console served carries and another
site cannot compute or read.
"""

from __future__ import annotations

import hashlib
import hmac

from starlette.requests import Request

COOKIE_NAME = "watchfloor_session"


def session_value(token: str) -> str:
    """What the login cookie holds for `token`: a digest, so the cookie never reveals it."""
    return hmac.new(token.encode(), b"watchfloor-web-session", hashlib.sha256).hexdigest()


def token_matches(given: str, token: str) -> bool:
    """Constant-time comparison of a presented token with the configured one."""
    return hmac.compare_digest(given.encode(), token.encode())


def request_allowed(request: Request, token: str | None) -> bool:
    """True when no token is configured, or the request carries it (header or login cookie)."""
    if token is None:
        return True
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token_matches(given.strip(), token):
        return True
    cookie = request.cookies.get(COOKIE_NAME, "")
    return hmac.compare_digest(cookie.encode(), session_value(token).encode())


def csrf_token(token: str) -> str:
    """The CSRF token the console's forms carry: derived from the session cookie's value."""
    return hmac.new(
        token.encode(), b"watchfloor-csrf:" + session_value(token).encode(), hashlib.sha256
    ).hexdigest()


def csrf_matches(given: str, token: str) -> bool:
    """Constant-time check of a form's CSRF token."""
    return hmac.compare_digest(given.encode(), csrf_token(token).encode())
