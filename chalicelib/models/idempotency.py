"""Idempotency records for create calls (``Idempotency-Key`` header).

Keyed by caller, route, path parameters and the client's key; holds a fingerprint of the
request body (the same key with another body is refused) and the response
that was sent, replayed to retries for a day (TTL).
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.models.base import region, table_name, utcnow

IN_PROGRESS, COMPLETED = "in_progress", "completed"


class IdempotencyRecord(Model):
    class Meta:
        table_name = table_name("idempotency")
        region = region()

    key = UnicodeAttribute(hash_key=True)
    fingerprint = UnicodeAttribute()
    status = UnicodeAttribute(default=IN_PROGRESS)
    status_code = NumberAttribute(null=True)
    response = UnicodeAttribute(null=True)  # JSON body as sent
    created_at = UTCDateTimeAttribute(default_for_new=utcnow)
    expires_at = TTLAttribute()
    # epoch milliseconds at which an in-progress attempt is known dead (its function's deadline);
    # Powertools' idempotency utility calls the same thing in_progress_expiration
    in_progress_expiry = NumberAttribute(null=True)
    attempt = UnicodeAttribute(null=True)  # which attempt holds the record: a dead one cannot release a retry's
