"""Who is looking at a phone page: OAuth sessions, push-link identity, CSRF and visitor ids.

Three cookies, all scoped to one account's pages (``Path=/m/<appid>/``),
HttpOnly and SameSite=Lax, Secure except on a local ``http://127.0.0.1``:

- ``ks_session``: itsdangerous-signed (appid, openid, kind, csrf).  ``kind`` is
  ``oauth`` when WeChat's web authorization proved the openid (may change
  subscriptions) or ``link`` when a push link's signed token named him (may
  read as him: unread marks, "my screens", read counts — but never change
  anything, because a forwarded push link carries the sender's token).
- ``ks_pre``: the short-lived pre-authorization record: a random nonce sent to
  WeChat as ``state`` and the page to return to.  The callback accepts a code
  only when ``state`` equals the nonce of the cookie in the same browser, so a
  code cannot be injected from elsewhere (login CSRF).
- ``ks_v``: a random visitor id, so an anonymous reader's reads still count
  once a day.

The CSRF token of a session is random per session and travels in every form.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlsplit

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from chalicelib.contracts import ids
from chalicelib.dal import accounts
from chalicelib.models.accounts import SERVICE, Account
from chalicelib.secrets import app_signing_key
from chalicelib.settings import get_settings

SESSION_COOKIE, PRE_AUTH_COOKIE, VISITOR_COOKIE = "ks_session", "ks_pre", "ks_v"
OAUTH, LINK = "oauth", "link"
SESSION_MAX_AGE = {OAUTH: 30 * 24 * 3600, LINK: 24 * 3600}
PRE_AUTH_MAX_AGE = 600
VISITOR_MAX_AGE = 365 * 24 * 3600
MAX_OAUTH_ATTEMPTS = 2  # a rejected code restarts authorization once; then a friendly error, never a loop
MAX_COOKIE_HEADER = 8192
_VISITOR_RE = re.compile(r"^[0-9a-f]{32}$")
_STATE_RE = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class Session:
    appid: str
    openid: str
    kind: str
    csrf: str

    @property
    def may_change(self) -> bool:
        """Only an OAuth-proven identity may subscribe or unsubscribe."""
        return self.kind == OAUTH


@dataclass(frozen=True)
class PreAuth:
    nonce: str
    next_path: str
    attempt: int


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(app_signing_key(), salt=f"kepuscreen.phone.{purpose}")


def oauth_capable(account: Account) -> bool:
    """WeChat grants web authorization to certified service accounts only."""
    return account.account_type == SERVICE and bool(account.certified)


def page_path(appid: str) -> str:
    """The app-relative prefix of one account's pages."""
    return f"/m/{appid}/"


def cookie_path(appid: str) -> str:
    """The cookie path as the browser sees it: behind API Gateway the public URL may carry a stage prefix."""
    return urlsplit(get_settings().public_base_url).path.rstrip("/") + page_path(appid)


def oauth_redirect_uri(appid: str) -> str:
    return f"{get_settings().public_base_url}/m/{appid}/oauth"


def _secure() -> bool:
    parts = urlsplit(get_settings().public_base_url)
    return not (parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost"))


def cookie_header(appid: str, name: str, value: str, max_age: int) -> str:
    """One ``Set-Cookie`` value, scoped to this account's pages; ``max_age=0`` deletes."""
    jar: SimpleCookie = SimpleCookie()
    jar[name] = value
    morsel = jar[name]
    morsel["path"] = cookie_path(appid)
    morsel["max-age"] = str(max_age)
    morsel["httponly"] = True
    morsel["samesite"] = "Lax"
    if _secure():
        morsel["secure"] = True
    return morsel.OutputString()


def read_cookies(header: str | None) -> dict[str, str]:
    """The request's cookies; a malformed or oversized header counts as none."""
    if not header or len(header) > MAX_COOKIE_HEADER:
        return {}
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


# ------------------------------------------------------------------ sessions


def new_session(appid: str, openid: str, kind: str) -> tuple[Session, str]:
    """A fresh session and its ``Set-Cookie`` value."""
    session = Session(appid, openid, kind, secrets.token_urlsafe(24))
    value = _serializer("session").dumps([appid, openid, kind, session.csrf])
    return session, cookie_header(appid, SESSION_COOKIE, value, SESSION_MAX_AGE[kind])


def read_session(appid: str, cookies: dict[str, str]) -> Session | None:
    """The session for this account, or None when absent, forged, expired or for another account."""
    raw = cookies.get(SESSION_COOKIE, "")
    if not raw or len(raw) > 1024:
        return None
    try:
        payload, signed_at = _serializer("session").loads(raw, max_age=SESSION_MAX_AGE[OAUTH], return_timestamp=True)
        got_appid, openid, kind, csrf = payload
    except (BadSignature, SignatureExpired, ValueError, TypeError):
        return None
    if kind not in SESSION_MAX_AGE or got_appid != appid or not ids.is_openid(str(openid)):
        return None
    if (datetime.now(UTC) - signed_at).total_seconds() > SESSION_MAX_AGE[kind]:
        return None
    return Session(appid, str(openid), kind, str(csrf))


def csrf_ok(session: Session | None, submitted: str | None) -> bool:
    """Constant-time check of the form's CSRF token against the session's."""
    if session is None or not submitted or len(submitted) > 128:
        return False
    return hmac.compare_digest(session.csrf.encode(), submitted.encode())


# ------------------------------------------------------------------ OAuth


def safe_next(appid: str, candidate: str | None) -> str:
    """A return path inside this account's pages; anything else becomes the subscription centre."""
    fallback = f"/m/{appid}/subscribe"
    if not candidate or len(candidate) > 512:
        return fallback
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc or "\\" in candidate or not parts.path.startswith(page_path(appid)):
        return fallback
    if "//" in parts.path or "/../" in parts.path or parts.path.endswith("/oauth"):
        return fallback
    return candidate


def begin_oauth(appid: str, next_path: str, attempt: int = 1) -> tuple[str, str]:
    """The authorize URL to redirect to and the pre-auth ``Set-Cookie`` binding its ``state``."""
    from chalicelib.wechat.oauth import authorize_url

    nonce = secrets.token_hex(16)
    value = _serializer("pre-auth").dumps([nonce, safe_next(appid, next_path), attempt])
    cookie = cookie_header(appid, PRE_AUTH_COOKIE, value, PRE_AUTH_MAX_AGE)
    return authorize_url(appid, oauth_redirect_uri(appid), nonce), cookie


def read_pre_auth(appid: str, cookies: dict[str, str], state: str | None) -> PreAuth | None:
    """The pre-auth record when the callback's ``state`` matches this browser's nonce."""
    raw = cookies.get(PRE_AUTH_COOKIE, "")
    if not raw or len(raw) > 2048 or not state or not _STATE_RE.match(state):
        return None
    try:
        nonce, next_path, attempt = _serializer("pre-auth").loads(raw, max_age=PRE_AUTH_MAX_AGE)
    except (BadSignature, SignatureExpired, ValueError, TypeError):
        return None
    if not hmac.compare_digest(str(nonce).encode(), state.encode()):
        return None
    return PreAuth(str(nonce), safe_next(appid, str(next_path)), int(attempt))


def clear_pre_auth(appid: str) -> str:
    return cookie_header(appid, PRE_AUTH_COOKIE, "", 0)


# ------------------------------------------------------------------ visitors


def visitor_id(cookies: dict[str, str]) -> str | None:
    value = cookies.get(VISITOR_COOKIE, "")
    return value if _VISITOR_RE.match(value) else None


def new_visitor(appid: str) -> tuple[str, str]:
    value = secrets.token_hex(16)
    return value, cookie_header(appid, VISITOR_COOKIE, value, VISITOR_MAX_AGE)


# ------------------------------------------------------------------ accounts


def account(appid: str) -> Account | None:
    """The account whose pages these are (cached a minute); None for a malformed or unknown appid."""
    if not ids.is_appid(appid):
        return None
    return accounts.find(appid)
