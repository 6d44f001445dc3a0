"""The audit log: every change through the admin API, by whom, when, what.

``entry_id`` sorts by time (``<ISO time>#<random>``).  Two sparse-free
indexes answer the two questions the API asks without a scan: what happened
in a unit (``by_unit``) and what happened to one object (``by_object``,
``object_key`` = ``<type>#<id>``).  Entries are written in the same DynamoDB
transaction as the change they describe, so the log cannot miss one.
"""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models.base import region, table_name, utcnow


class AuditByUnitIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_unit"
        projection = AllProjection()

    unit_id = UnicodeAttribute(hash_key=True)
    entry_id = UnicodeAttribute(range_key=True)


class AuditByObjectIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_object"
        projection = AllProjection()

    object_key = UnicodeAttribute(hash_key=True)
    entry_id = UnicodeAttribute(range_key=True)


class AuditEntry(Model):
    class Meta:
        table_name = table_name("audit")
        region = region()

    entry_id = UnicodeAttribute(hash_key=True)
    unit_id = UnicodeAttribute()
    object_key = UnicodeAttribute()
    action = UnicodeAttribute()
    actor = UnicodeAttribute()
    before = JSONAttribute(null=True)
    after = JSONAttribute(null=True)
    note = UnicodeAttribute(null=True)
    at = UTCDateTimeAttribute(default_for_new=utcnow)

    by_unit = AuditByUnitIndex()
    by_object = AuditByObjectIndex()
