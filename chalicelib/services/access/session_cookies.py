"""What the browser holds of a console session: the cookie (set, clear, read) and the CSRF token derived from it.

The cookie carries an opaque random token, HttpOnly and ``Secure``, with
SameSite=Strict to keep it off cross-site requests; the sessions table keeps
only the token's SHA-256 (``hash_token``).  Writes made with the cookie must
also carry the CSRF token in ``CSRF_HEADER``: derived from the session token
by HMAC (``csrf_for``), so a page can fetch it again after a reload, and no
other site can forge it (it can read neither the cookie nor our responses).
These are pure functions of the token; the sessions themselves (sign-in,
expiry, revocation) are ``sessions``'.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import timedelta
from http.cookies import CookieError, SimpleCookie

COOKIE = "kepu_session"
COOKIE_PATH = "/api"
CSRF_HEADER = "x-csrf-token"
MAX_AGE = timedelta(hours=12)  # a session's longest life, whatever its use: the cookie's Max-Age too


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_for(token: str) -> str:
    return hmac.new(token.encode(), b"kepuscreen-csrf", hashlib.sha256).hexdigest()[:40]


def cookie_header(token: str) -> str:
    """``Secure`` always: Chromium keeps Secure cookies for http://127.0.0.1 and localhost too."""
    seconds = int(MAX_AGE.total_seconds())
    return f"{COOKIE}={token}; Path={COOKIE_PATH}; Max-Age={seconds}; HttpOnly; Secure; SameSite=Strict"


def clearing_cookie_header() -> str:
    return f"{COOKIE}=; Path={COOKIE_PATH}; Max-Age=0; HttpOnly; Secure; SameSite=Strict"


def token_from_cookie(header: str | None) -> str | None:
    if not header or len(header) > 8192:
        return None
    try:
        jar = SimpleCookie(header)
    except CookieError:
        return None
    morsel = jar.get(COOKIE)
    value = morsel.value if morsel else ""
    return value if 20 <= len(value) <= 100 and re.fullmatch(r"[A-Za-z0-9_-]+", value) else None
