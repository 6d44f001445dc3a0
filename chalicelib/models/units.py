"""Units (science associations, museums, communities, hospitals) in a tree.

Each unit stores its materialised ``path`` (ancestor ids joined by ``/``) and
the id of its tree's root.  A subtree is then one Query on the
``subtree`` index: ``root_id = :root AND begins_with(path, :path)`` — no scan,
however large the tree grows.
"""

from __future__ import annotations

from typing import Literal, get_args

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models.base import region, table_name, utcnow

UnitKind = Literal["association", "museum", "community", "hospital", "school", "other"]
UNIT_KINDS: tuple[str, ...] = get_args(UnitKind)  # derived: the schemas type fields with the Literal


class UnitSubtreeIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "subtree"
        projection = AllProjection()

    root_id = UnicodeAttribute(hash_key=True)
    path = UnicodeAttribute(range_key=True)


class Unit(Model):
    class Meta:
        table_name = table_name("units")
        region = region()

    unit_id = UnicodeAttribute(hash_key=True)
    root_id = UnicodeAttribute()
    path = UnicodeAttribute()
    parent_id = UnicodeAttribute(null=True)
    name = UnicodeAttribute()
    kind = UnicodeAttribute(default="other")
    province = UnicodeAttribute(null=True)
    city = UnicodeAttribute(null=True)
    district = UnicodeAttribute(null=True)
    review_required = BooleanAttribute(default=False)
    revision = NumberAttribute(default=1)
    created_at = UTCDateTimeAttribute(default_for_new=utcnow)
    updated_at = UTCDateTimeAttribute(default=utcnow)

    subtree = UnitSubtreeIndex()

    def is_within(self, ancestor_path: str) -> bool:
        """True when this unit is the unit at ``ancestor_path`` or below it."""
        return self.path.startswith(ancestor_path)
