"""Units (the tree every other object hangs from) and their ranking by a metric."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from chalicelib.handlers.admin.schemas.common import In, Out, Page, PageQuery, Query, update_of
from chalicelib.handlers.admin.schemas.fields import AppId, Id, PlainText, Region
from chalicelib.models.units import UnitKind


class UnitCreate(In):
    parent_id: Id
    name: Annotated[str, PlainText(64)]
    kind: UnitKind = "other"
    province: Region | None = None
    city: Region | None = None
    district: Region | None = None
    review_required: bool = False


UnitUpdate = update_of(
    UnitCreate,
    "UnitUpdate",
    rebind_appid=(
        AppId | None,
        Field(
            default=None,
            description=(
                "with parent_id: the account to re-bind the unit's screens to whose current account would no "
                "longer belong to their unit or a superior after the move (without it such a move is refused "
                "with 409 screens_lose_account naming the screens)"
            ),
        ),
    ),
)


class UnitOut(Out):
    unit_id: str
    parent_id: str | None
    root_id: str
    path: str
    name: str
    kind: str
    province: str | None
    city: str | None
    district: str | None
    review_required: bool
    revision: int
    created_at: datetime | None
    updated_at: datetime | None


class UnitList(Page[UnitOut]):
    pass


class UnitListQuery(PageQuery):
    under: Id | None = None
    parent_id: Id | None = None


class RankingQuery(Query):
    metric: Literal["fans", "growth", "plays", "reads"] = "fans"
    from_: date | None = Field(None, alias="from")
    to: date | None = None


class RankingItem(Out):
    rank: int
    unit_id: str
    name: str
    screens: int
    value: int


class UnitRankingOut(Out):
    unit_id: str
    metric: str
    from_: str = Field(alias="from")
    to: str
    items: list[RankingItem]

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)
