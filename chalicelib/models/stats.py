"""Daily counters per subject (a screen, a content item, a unit, an account).

One item per subject per day, updated with atomic ``ADD``: cheap to write from
any event and cheap to read as a time series (Query on ``subject`` with a
``day`` range).  Subjects are ``screen#<id>``, ``content#<id>``,
``unit#<id>``, ``account#<appid>``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.models.base import region, table_name

if TYPE_CHECKING:
    from chalicelib.models.unit_of_work import UnitOfWork

COUNTERS = (
    "subs_qr",
    "subs_menu",
    "subs_text",
    "subs_page",
    "unsubs",
    "suspended",
    "restored",
    "follows",
    "unfollows",
    "messages",
    "pushes_sent",
    "pushes_failed",
    "pushes_suppressed",
    "receipts_success",
    "receipts_failed",
    "pushes_template",
    "pushes_notice",
    "pushes_custom",
    "pushes_unread",
    "pushes_stopped",
    "pushes_digest",
    "reads_push",
    "reads_mirror",
    "reads_menu",
    "reads_link",
    "plays",
    "play_seconds",
    "subs_qr_follow",  # the part of subs_qr whose scan also followed the account (the rest: existing followers)
    "online_seconds",  # heartbeat-measured time the screen was online
    # push recipients by the channel the sender chose for them, counted with their outcome (content, account)
    "planned_template",
    "planned_notice",
    "planned_custom",
    "planned_unread",
    "planned_none",
)


def subject(kind: str, ident: str) -> str:
    return f"{kind}#{ident}"


class DailyStat(Model):
    class Meta:
        table_name = table_name("daily_stats")
        region = region()
        stream_view_type = "NEW_AND_OLD_IMAGES"  # the analytics roll-ups consume its stream

    subject = UnicodeAttribute(hash_key=True)
    day = UnicodeAttribute(range_key=True)  # YYYY-MM-DD in China Standard Time

    subs_qr = NumberAttribute(null=True)
    subs_menu = NumberAttribute(null=True)
    subs_text = NumberAttribute(null=True)
    subs_page = NumberAttribute(null=True)
    unsubs = NumberAttribute(null=True)
    suspended = NumberAttribute(null=True)
    restored = NumberAttribute(null=True)
    follows = NumberAttribute(null=True)
    unfollows = NumberAttribute(null=True)
    messages = NumberAttribute(null=True)
    pushes_sent = NumberAttribute(null=True)
    pushes_failed = NumberAttribute(null=True)
    pushes_suppressed = NumberAttribute(null=True)
    receipts_success = NumberAttribute(null=True)
    receipts_failed = NumberAttribute(null=True)
    pushes_template = NumberAttribute(null=True)
    pushes_notice = NumberAttribute(null=True)
    pushes_custom = NumberAttribute(null=True)
    pushes_unread = NumberAttribute(null=True)
    pushes_stopped = NumberAttribute(null=True)
    pushes_digest = NumberAttribute(null=True)
    reads_push = NumberAttribute(null=True)
    reads_mirror = NumberAttribute(null=True)
    reads_menu = NumberAttribute(null=True)
    reads_link = NumberAttribute(null=True)
    plays = NumberAttribute(null=True)
    play_seconds = NumberAttribute(null=True)
    subs_qr_follow = NumberAttribute(null=True)
    online_seconds = NumberAttribute(null=True)
    planned_template = NumberAttribute(null=True)
    planned_notice = NumberAttribute(null=True)
    planned_custom = NumberAttribute(null=True)
    planned_unread = NumberAttribute(null=True)
    planned_none = NumberAttribute(null=True)
    fans_eod = NumberAttribute(null=True)  # screens: the fan count at the end of the day (the daily closing job)

    def counter(self, name: str) -> int:
        return int(getattr(self, name) or 0)


CHINA_TZ = timezone(timedelta(hours=8))


def china_day(moment: datetime | None = None) -> str:
    """The calendar day in China Standard Time: the day units and fans live in."""
    return (moment or datetime.now(UTC)).astimezone(CHINA_TZ).strftime("%Y-%m-%d")


def bump(uow: UnitOfWork, kind: str, ident: str, counters: dict[str, int], moment: datetime | None = None) -> None:
    """Add counter increments for one subject's day to a unit of work."""
    unknown = set(counters) - set(COUNTERS)
    if unknown:
        raise ValueError(f"unknown counters: {sorted(unknown)}")
    item = DailyStat(subject(kind, ident), china_day(moment))
    uow.update(item, [getattr(DailyStat, name).add(value) for name, value in counters.items()])
