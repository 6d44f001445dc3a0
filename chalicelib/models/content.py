"""Content a unit publishes once, to screens and to phones.

``targets`` names screens, tags (of the owning unit's subtree) and/or whole
unit subtrees; the admin service resolves them to concrete screen ids at
publish time and stores that list in ``screen_ids`` so the manifest builder
and the push planner never re-derive it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal, get_args

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models.base import region, table_name, utcnow

# A Literal holds the values, for the admin schemas' fields (mypy takes only literal values in a Literal[...]);
# the tuple is derived from it, so they are written once.
ContentKind = Literal["notice", "article", "image", "video", "link"]
KINDS: tuple[str, ...] = get_args(ContentKind)
Category = Literal[
    "frontier",  # 前沿科技
    "hotspot",  # 科普热点
    "everyday",  # 生活百科
    "community_notice",  # 社区公告
    "service_guide",  # 办事指南
    "community_news",  # 社区动态
]
CATEGORIES: tuple[str, ...] = get_args(Category)
DRAFT, PENDING, APPROVED, PUBLISHED, WITHDRAWN, REJECTED, EXPIRED = (
    "draft",
    "pending_review",
    "approved",
    "published",
    "withdrawn",
    "rejected",
    "expired",
)
Priority = Literal["normal", "urgent"]
PRIORITIES: tuple[str, ...] = get_args(Priority)
NORMAL, URGENT = PRIORITIES
URGENT_HOLD = timedelta(hours=24)  # an urgent item interrupts every screen: without an end it gets this long
TARGET_KINDS = ("screens", "tags", "units")


class ContentByUnitIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_unit"
        projection = AllProjection()

    unit_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class Content(Model):
    class Meta:
        table_name = table_name("content")
        region = region()

    content_id = UnicodeAttribute(hash_key=True)
    unit_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    title = UnicodeAttribute()
    body = UnicodeAttribute(null=True)  # sanitised HTML for articles, plain text for notices
    summary = UnicodeAttribute(null=True)
    category = UnicodeAttribute(null=True)
    # lists of raw maps: written as dicts, read back as MapAttribute (both index by key), hence ``Any``
    media: ListAttribute[Any] = ListAttribute(of=MapAttribute, null=True)  # [{key, type, size, sha256}]
    link_url = UnicodeAttribute(null=True)
    duration = NumberAttribute(default=15)  # seconds on screen
    valid_from = UTCDateTimeAttribute(null=True)
    valid_until = UTCDateTimeAttribute(null=True)
    # [{days:[1..7], start:"08:00", end:"18:00"}]
    weekly_windows: ListAttribute[Any] = ListAttribute(of=MapAttribute, null=True)
    priority = UnicodeAttribute(default=NORMAL)
    targets: MapAttribute[str, Any] = MapAttribute(null=True)  # {screens:[...], tags:[...], units:[...]}
    screen_ids = UnicodeSetAttribute(null=True)  # resolved at publish time
    push = BooleanAttribute(default=True)
    status = UnicodeAttribute(default=DRAFT)
    reject_reason = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute(null=True)
    published_at = UTCDateTimeAttribute(null=True)
    # admin workflow (issue 3): who moved it, and the queue messages still owed after a commit
    submitted_by = UnicodeAttribute(null=True)
    reviewed_by = UnicodeAttribute(null=True)
    reviewed_at = UTCDateTimeAttribute(null=True)
    withdrawn_at = UTCDateTimeAttribute(null=True)
    updated_by = UnicodeAttribute(null=True)
    # [{queue, body}] sent after the commit, then cleared
    outbox: ListAttribute[Any] = ListAttribute(of=MapAttribute, null=True)
    # the last publish's push job and its per-account forecast (services/push_outcomes.py)
    push_job_id = UnicodeAttribute(null=True)
    push_forecast: MapAttribute[str, Any] = MapAttribute(null=True)
    revision = NumberAttribute(default=1)
    created_at = UTCDateTimeAttribute(default_for_new=utcnow)
    updated_at = UTCDateTimeAttribute(default=utcnow)

    by_unit = ContentByUnitIndex()

    def target_lists(self) -> dict[str, list[str]]:
        """``targets`` as plain lists under every kind (stored as a raw map, read back as a MapAttribute)."""
        raw = self.targets.as_dict() if hasattr(self.targets, "as_dict") else dict(self.targets or {})
        return {kind: list(raw.get(kind) or []) for kind in TARGET_KINDS}
