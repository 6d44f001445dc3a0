"""The console's home page: one unit subtree's summary (screens, fans, reviews, publishes, alerts)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from chalicelib.handlers.admin.schemas.common import Out


class SummaryScreens(Out):
    total: int
    online: int
    offline: int = Field(description="offline now, including offline_over_1h")
    offline_over_1h: int
    never_seen: int = Field(description="screens that never reported a heartbeat")


class SummaryFans(Out):
    total: int = Field(description="distinct people with an active subscription to the subtree's screens")
    subscriptions: int = Field(description="active subscriptions (one person on three screens counts three)")
    today: int = Field(description="today's change of the distinct fans (China day)")
    today_subscriptions: int


class SummaryPending(Out):
    content_id: str
    unit_id: str | None
    title: str
    submitted_at: datetime | None


class SummaryPendingList(Out):
    count: int
    items: list[SummaryPending]


class SummaryPush(Out):
    state: Literal["queued", "planning", "sending", "done"]
    planned: int
    sent: int
    unread: int
    delivered: int
    failed: int
    stopped: int
    skipped: int


class SummaryPublish(Out):
    content_id: str
    unit_id: str | None
    title: str
    status: str
    published_at: datetime | None
    push: SummaryPush | None = Field(description="null when published without push")


class SummaryOfflineScreen(Out):
    screen_id: str
    unit_id: str | None
    name: str
    last_seen: datetime | None


class SummaryOfflineList(Out):
    count: int
    items: list[SummaryOfflineScreen]


class SummaryPushFailure(Out):
    content_id: str
    title: str
    failed: int


class SummaryPushFailures(Out):
    month: int = Field(description="failed pushes this month in the subtree (analytics roll-up)")
    items: list[SummaryPushFailure] = Field(description="recent publishes with failed pushes")


class SummaryAccount(Out):
    appid: str
    unit_id: str | None
    name: str
    account_type: str | None


class SummaryAccountList(Out):
    count: int
    items: list[SummaryAccount]


class SummaryAlerts(Out):
    offline_screens: SummaryOfflineList = Field(description="screens offline for more than an hour")
    push_failures: SummaryPushFailures
    no_push_channel: SummaryAccountList = Field(
        description="service accounts with neither template id (subscription accounts send customer-service "
        "messages and need none)"
    )


class UnitSummaryOut(Out):
    unit_id: str
    as_of: datetime
    screens: SummaryScreens
    fans: SummaryFans
    growth: dict[str, int] = Field(description="this month's new subscriptions by source (analytics metric names)")
    month_new: int
    month_lost: int
    pending_review: SummaryPendingList
    recent_publishes: list[SummaryPublish]
    alerts: SummaryAlerts
