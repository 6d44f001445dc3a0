"""Signed, expiring tokens for links that open phone pages without an OAuth round trip.

A push carries a link to the content page; tapping it in WeChat should open
the page at once, as the fan it was sent to, for a limited time.  The link
holds an itsdangerous token (HMAC-signed, timestamped) of (appid, openid,
content id), signed with the stage's key from SSM.  Tokens are bound to one
content item and expire; anything else needs the OAuth session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from chalicelib.secrets import app_signing_key

PUSH_LINK_MAX_AGE = 7 * 24 * 3600
PAGES = "*pages"  # the "content id" of a token for the subscription centre, my screens and mirrors: never a content
_SALT = "kepuscreen.push-link"


@dataclass(frozen=True)
class LinkClaims:
    appid: str
    openid: str
    content_id: str
    issued_at: datetime | None = None  # when the link was signed: for a push, just before it was sent


def _serializer(key: str | None = None) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(key or app_signing_key(), salt=_SALT)


def sign_link(appid: str, openid: str, content_id: str, *, key: str | None = None) -> str:
    """``key``: the signing key the caller already holds (the push sender loads it once per process)."""
    return _serializer(key).dumps([appid, openid, content_id])


def verify_link(token: str, *, max_age: int = PUSH_LINK_MAX_AGE) -> LinkClaims | None:
    """The claims of a valid token; None when forged, malformed or expired."""
    if not token or len(token) > 512:
        return None
    try:
        (appid, openid, content_id), issued_at = _serializer().loads(token, max_age=max_age, return_timestamp=True)
    except (BadSignature, SignatureExpired, ValueError, TypeError):
        return None
    return LinkClaims(str(appid), str(openid), str(content_id), issued_at)
