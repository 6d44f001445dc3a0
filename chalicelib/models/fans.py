"""A WeChat user as seen by one official account.

Holds what the gateway learns from events (following, when he last
interacted: WeChat's customer-service windows are measured from those) and the
screens suspended when he unfollowed, so following again restores exactly
those subscriptions without a query.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.models import Model

from chalicelib.models.base import region, table_name, utcnow


class Fan(Model):
    class Meta:
        table_name = table_name("fans")
        region = region()

    appid = UnicodeAttribute(hash_key=True)
    openid = UnicodeAttribute(range_key=True)
    following = BooleanAttribute(default=True)
    followed_at = UTCDateTimeAttribute(null=True)
    unfollowed_at = UTCDateTimeAttribute(null=True)
    first_source = UnicodeAttribute(null=True)
    active_screens = UnicodeSetAttribute(null=True)  # kept in the same transactions as the subscriptions
    suspended_screens = UnicodeSetAttribute(null=True)
    last_interaction_at = UTCDateTimeAttribute(null=True)  # follow, scan, menu click: the 1-minute window
    last_message_at = UTCDateTimeAttribute(null=True)  # a message he sent: the 48-hour window
    stopped_channels = UnicodeSetAttribute(null=True)  # push channels WeChat told us to stop for him
    unread_content = UnicodeSetAttribute(null=True)  # subscription accounts: pushed items waiting for his next visit
    # customer-service sends inside the current windows (push pipeline): the window start they count against
    cs_event_at = UTCDateTimeAttribute(null=True)
    cs_event_sent = NumberAttribute(null=True)
    cs_msg_at = UTCDateTimeAttribute(null=True)
    cs_msg_sent = NumberAttribute(null=True)
    created_at = UTCDateTimeAttribute(default_for_new=utcnow)
    # set when he unfollows (with his suspended subscriptions, ``subscriptions.INACTIVE_KEPT``), removed when he
    # follows again: someone who left long ago is not kept (docs/data.md)
    expires_at = TTLAttribute(null=True)
