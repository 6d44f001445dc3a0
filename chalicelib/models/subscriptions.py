"""Who follows which screen, through which official account.

A fan is identified per official account (``appid#openid``: openids are
per-account).  The ``active_by_screen`` index is sparse: ``active_screen_id``
is set only while the subscription is active, so the push planner pages
exactly the current subscribers of a screen and nothing else.
"""

from __future__ import annotations

from datetime import timedelta

from pynamodb.attributes import TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from chalicelib.models.base import region, table_name, utcnow

ACTIVE = "active"
SUSPENDED = "suspended"  # the fan unfollowed the account; restored when he follows again
CANCELLED = "cancelled"  # the fan unsubscribed from the screen

SOURCES = ("qr", "menu", "text", "page")
# an inactive row (cancelled, or suspended by an unfollow) is kept this long, then expires by TTL
# (docs/data.md): its loss was counted when it stopped, and a re-follow after that starts afresh
INACTIVE_KEPT = timedelta(days=180)


def fan_key(appid: str, openid: str) -> str:
    return f"{appid}#{openid}"


class ActiveSubscribersIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "active_by_screen"
        projection = IncludeProjection(["appid", "openid"])

    active_screen_id = UnicodeAttribute(hash_key=True)
    fan = UnicodeAttribute(range_key=True)


class Subscription(Model):
    class Meta:
        table_name = table_name("subscriptions")
        region = region()
        stream_view_type = "NEW_AND_OLD_IMAGES"  # the analytics roll-ups consume its stream

    fan = UnicodeAttribute(hash_key=True)
    screen_id = UnicodeAttribute(range_key=True)
    appid = UnicodeAttribute()
    openid = UnicodeAttribute()
    status = UnicodeAttribute(default=ACTIVE)
    source = UnicodeAttribute(default="qr")
    subscribed_at = UTCDateTimeAttribute(default_for_new=utcnow)
    updated_at = UTCDateTimeAttribute(default=utcnow)
    active_screen_id = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)  # set only while inactive

    active_by_screen = ActiveSubscribersIndex()
