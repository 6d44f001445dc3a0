"""Records that make the WeChat callback exactly-once.

Two kinds share one table, both expiring by TTL after two days:
- ``msg#<appid>#<MsgId or event key>``: the message was processed; holds the
  passive reply so that WeChat's retries get the same answer.
- ``nonce#<appid>#<nonce>``: a nonce seen inside the timestamp window, with a
  fingerprint of the request, so a true replay (same nonce, other content) is
  refused while an exact retry is not.
Both are written in the same transaction as the event's effects.
"""

from __future__ import annotations

from pynamodb.attributes import TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.models.base import region, table_name, utcnow


class CallbackRecord(Model):
    class Meta:
        table_name = table_name("callbacks")
        region = region()

    key = UnicodeAttribute(hash_key=True)
    reply = UnicodeAttribute(null=True)
    fingerprint = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(default_for_new=utcnow)
    expires_at = TTLAttribute()
