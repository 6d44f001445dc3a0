"""A publish's push, as forecast before it and as counted after it (per account and channel)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from chalicelib.handlers.admin.schemas.common import Out


class ChannelCounts(Out):
    template: int = 0
    subscribe: int = 0
    custom: int = 0


class ForecastChannels(ChannelCounts):
    unread: int = 0


class SkipCounts(Out):
    not_following: int = 0
    no_channel: int = 0
    channel_stopped: int = 0
    cross_unit_policy: int = 0


class ForecastAccount(Out):
    appid: str
    name: str
    account_type: str
    reach: Literal["push", "unread", "none"] = Field(
        description="how this content may reach the account's fans (the account's cross_unit policy applies "
        "to content of other units)"
    )
    own_content: bool
    has_channel: bool
    recipients: int = Field(description="distinct fans of this account following the targeted screens")
    channels: ForecastChannels
    skipped: SkipCounts
    estimated: int = Field(description="fans beyond the forecast's per-fan limit, counted under the usual channel")


class PushForecastOut(Out):
    recipients: int
    complete: bool
    computed_at: datetime | None = None
    accounts: list[ForecastAccount]


class PushStatusOut(Out):
    job_id: str
    state: Literal["queued", "planning", "sending", "done"]
    forecast: PushForecastOut | None = Field(description="what publish said would happen, per account and channel")
    planned: int
    sent: ChannelCounts
    sent_total: int
    unread: int = Field(description="left in fans' unread lists (最新 reply and phone pages) instead of a push")
    unread_cross_unit: int
    delivered: int = Field(description="template messages WeChat reported delivered")
    read: int = Field(description="reads through push links")
    failed: int
    stopped: int = Field(description="WeChat stopped the channel for the fan (refused, blocked, unfollowed)")
    skipped: SkipCounts
    skipped_total: int
