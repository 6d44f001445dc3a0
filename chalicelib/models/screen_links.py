"""Which published content each screen shows: one item per (screen, content).

A content item stores its targets as a string set (``Content.screen_ids``),
which DynamoDB cannot index, and scanning the content table per rebuild does
not scale.  So the manifest builder keeps this per-screen index: when a rebuild
message names a content item, the builder reads the item and, for every screen
in the message, marks the link active (published and targeting the screen) or
inactive.  A manifest rebuild is then one Query on ``screen_id`` plus one
BatchGet of the active contents.

Links carry the content's ``revision`` and writes are conditional on it never
going backwards, so two rebuilds racing on old and new states of one content
converge on the newest.  Inactive links expire by TTL after a week.
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.models.base import region, table_name, utcnow


class ScreenContentLink(Model):
    class Meta:
        table_name = table_name("screen_content")
        region = region()

    screen_id = UnicodeAttribute(hash_key=True)
    content_id = UnicodeAttribute(range_key=True)
    active = BooleanAttribute(default=True)
    revision = NumberAttribute(default=1)
    updated_at = UTCDateTimeAttribute(default=utcnow)
    expires_at = TTLAttribute(null=True)  # set on inactive links only
