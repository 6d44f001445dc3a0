"""Console sign-in: password credentials, browser sessions and WeChat scan-to-sign-in tickets.

Credentials are keyed by username so a login costs one GetItem; only a
memory-hard hash of the password is stored.  Sessions are keyed by the SHA-256
of the cookie's token (the token itself is never stored) and expire through
DynamoDB TTL as well as by the service's own inactivity check.  Login tickets
are the one-time scenes behind the temporary QR code on the login page.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models.base import region, table_name, utcnow


class Credential(Model):
    """A username and its password hash, with the failure counter that backs off and locks."""

    class Meta:
        table_name = table_name("credentials")
        region = region()

    username = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    password_hash = UnicodeAttribute()
    failures = NumberAttribute(default=0)
    blocked_until = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(default=utcnow)


class SessionsByUserIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_user"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True)
    public_id = UnicodeAttribute(range_key=True)


class ConsoleSession(Model):
    class Meta:
        table_name = table_name("sessions")
        region = region()

    token_hash = UnicodeAttribute(hash_key=True)
    public_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    method = UnicodeAttribute(default="password")  # password | wechat
    user_agent = UnicodeAttribute(null=True)
    source_ip = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(default_for_new=utcnow)
    last_seen_at = UTCDateTimeAttribute(default_for_new=utcnow)
    expires_at = TTLAttribute()  # absolute end of the session (and DynamoDB's clean-up)

    by_user = SessionsByUserIndex()


class LoginTicket(Model):
    """One waiting scan-to-sign-in: the QR scene, then the user who scanned it (or who binds)."""

    class Meta:
        table_name = table_name("login_tickets")
        region = region()

    scene = UnicodeAttribute(hash_key=True)
    purpose = UnicodeAttribute(default="login")  # login | bind
    poll_hash = UnicodeAttribute()  # sha256 of the secret only the waiting page holds
    appid = UnicodeAttribute()
    status = UnicodeAttribute(default="waiting")  # waiting | scanned | unknown | used
    user_id = UnicodeAttribute(null=True)  # bind: who binds; login: who scanned (once matched)
    openid = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(default_for_new=utcnow)
    expires_at = TTLAttribute()
    # rate items only (``rate_<ip hash>_<minute>``): scan logins started.  Stored as ``count``; named
    # ``started`` here because a ``count`` attribute would hide pynamodb's ``Model.count()``
    started = NumberAttribute(null=True, attr_name="count")


class WechatBinding(Model):
    """Which user a WeChat openid (of the sign-in account) signs in as."""

    class Meta:
        table_name = table_name("wechat_logins")
        region = region()

    openid_key = UnicodeAttribute(hash_key=True)  # "<appid>:<openid>"
    user_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute(default_for_new=utcnow)
