"""Screens: where they stand, which account they follow, whether they are alive, and their daily figures."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints

from chalicelib.handlers.admin.schemas.common import In, Out, Page, PageQuery, Query, update_of
from chalicelib.handlers.admin.schemas.fields import AppId, Id, PlainText, Region, ScreenCode, Tag


class ScreenCreate(In):
    screen_id: ScreenCode
    unit_id: Id
    name: Annotated[str, PlainText(64)]
    address: Annotated[str, PlainText(200)] | None = None
    province: Region | None = None
    city: Region | None = None
    district: Region | None = None
    tags: Annotated[list[Tag], Field(max_length=20)] = Field(default=[])
    appid: AppId


ScreenUpdate = update_of(ScreenCreate, "ScreenUpdate", omit=("screen_id",), nullable=("tags",))


class QrOut(Out):
    ticket: str | None
    url: str | None
    error: str | None
    ready: bool


class NowPlayingOut(Out):
    content_id: str
    title: str | None


class ScreenOut(Out):
    screen_id: str
    unit_id: str
    name: str
    address: str | None
    province: str | None
    city: str | None
    district: str | None
    tags: list[str]
    appid: str
    qr: QrOut
    player_key_set: bool
    fan_count: int
    status: Literal["online", "offline", "never"]  # online: a heartbeat within two intervals
    online: bool
    last_seen: datetime | None
    revision: int
    created_at: datetime | None
    updated_at: datetime | None
    now_playing: NowPlayingOut | None = Field(
        default=None, description="lists only: the item an online screen's last heartbeat reported playing"
    )
    plays_today: int | None = Field(default=None, description="lists only: plays counted today (China day)")


class ScreenCreated(Out):
    screen: ScreenOut
    player_key: str | None = Field(description="shown once; null when replayed for an idempotent retry")


class PlayerKeyOut(Out):
    screen: ScreenOut
    player_key: str


class ScreenList(Page[ScreenOut]):
    pass


class ScreenListQuery(PageQuery):
    unit_id: Id | None = None
    tag: Annotated[str, StringConstraints(max_length=32)] | None = None
    status: Literal["online", "offline", "never"] | None = None


class StatsQuery(Query):
    from_: date | None = Field(None, alias="from")
    to: date | None = None


class StatsDay(Out):
    day: str
    subscriptions: dict[str, int]
    restored: int = 0
    new_fans: int
    unsubscriptions: int
    lost_by_cause: dict[str, int] = Field(default={})
    lost: int = 0
    net: int = 0
    plays: int
    play_seconds: int
    reads: int
    pushes_sent: int
    pushes_delivered: int


class StatsOut(Out):
    screen_id: str
    fan_count: int
    from_: str = Field(alias="from")
    to: str
    days: list[StatsDay]
    totals: dict[str, Any]

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)
