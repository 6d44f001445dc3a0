"""Screens: the big displays, each playing a manifest and showing a QR code.

``screen_id`` is the screen's code: short, upper-case, human-typeable, used in
text commands (``订阅 NJ001``) and as the scene of its permanent QR code.  One
key for both saves a lookup on every subscription.  ``fan_count`` is only ever
changed inside the same DynamoDB transaction as the subscription it counts.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

# the screen code is defined in contracts.ids; re-exported for the modules that import it from here
from chalicelib.contracts.ids import SCREEN_CODE_RE, normalise_screen_code  # noqa: F401
from chalicelib.models.base import region, table_name, utcnow


class ScreensByUnitIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_unit"
        projection = AllProjection()

    unit_id = UnicodeAttribute(hash_key=True)
    screen_id = UnicodeAttribute(range_key=True)


class ScreensByAccountIndex(GlobalSecondaryIndex):
    """Screens subscribing through one official account (admin checks, account deletion)."""

    class Meta:
        index_name = "by_account"
        projection = AllProjection()

    appid = UnicodeAttribute(hash_key=True)
    screen_id = UnicodeAttribute(range_key=True)


class Screen(Model):
    class Meta:
        table_name = table_name("screens")
        region = region()
        stream_view_type = "NEW_AND_OLD_IMAGES"  # the analytics roll-ups consume its stream

    screen_id = UnicodeAttribute(hash_key=True)
    unit_id = UnicodeAttribute()
    name = UnicodeAttribute()
    address = UnicodeAttribute(null=True)
    province = UnicodeAttribute(null=True)
    city = UnicodeAttribute(null=True)
    district = UnicodeAttribute(null=True)
    tags = UnicodeSetAttribute(null=True)
    appid = UnicodeAttribute()  # the official account its QR code subscribes through
    player_key_hash = UnicodeAttribute(null=True)
    qr_ticket = UnicodeAttribute(null=True)
    qr_url = UnicodeAttribute(null=True)
    qr_error = UnicodeAttribute(null=True)  # last WeChat error creating the QR code; retried by POST .../qrcode
    fan_count = NumberAttribute(default=0)
    last_seen = UTCDateTimeAttribute(null=True)
    heartbeat: MapAttribute[str, Any] = MapAttribute(null=True)
    # online / offline (up to an hour) / long_offline: set by heartbeats and the screen_health schedule;
    # the home page's counters follow its changes (services/analytics/home_feed.py)
    presence = UnicodeAttribute(null=True)
    heartbeat_interval = NumberAttribute(default=30)
    poll_seconds = NumberAttribute(default=10)  # how often the player polls its manifest
    manifest_version = UnicodeAttribute(null=True)
    revision = NumberAttribute(default=1)
    created_at = UTCDateTimeAttribute(default_for_new=utcnow)
    updated_at = UTCDateTimeAttribute(default=utcnow)

    by_unit = ScreensByUnitIndex()
    by_account = ScreensByAccountIndex()
