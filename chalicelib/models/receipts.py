"""Delivery receipts WeChat sends back for template messages.

``TEMPLATESENDJOBFINISH`` carries the MsgID the send returned and a status
(``success``, ``failed:user block``, ``failed: system failed``).  Kept for 30
days so the push pipeline can attribute them and count deliveries.
"""

from __future__ import annotations

from pynamodb.attributes import TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.models.base import region, table_name, utcnow


class DeliveryReceipt(Model):
    class Meta:
        table_name = table_name("receipts")
        region = region()

    appid = UnicodeAttribute(hash_key=True)
    msg_id = UnicodeAttribute(range_key=True)
    openid = UnicodeAttribute()
    status = UnicodeAttribute()
    received_at = UTCDateTimeAttribute(default_for_new=utcnow)
    expires_at = TTLAttribute()
