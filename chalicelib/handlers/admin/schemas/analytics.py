"""The analytics API's queries and answers: series, rankings, league tables, comparisons, fan attributes,
WeChat's own figures.  The metric names come from ``services.analytics.metrics``, so a metric added there
appears in every series and comparison answer (and in the document) at once."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints, create_model

from chalicelib.handlers.admin.schemas.common import In, Out, Query
from chalicelib.services.analytics import metrics

Format = Literal["json", "csv"]
Metric = metrics.RankableMetric
Kind = Literal["screen", "unit", "subtree", "account", "content"]


class SeriesQuery(Query):
    from_: date | None = Field(None, alias="from")
    to: date | None = None
    bucket: Literal["day", "week", "month"] = "day"
    format: Format = "json"


class RankingQuery(Query):
    metric: Metric = "fans"
    from_: date | None = Field(None, alias="from")
    to: date | None = None
    per_screen: bool = False
    format: Format = "json"


class CompareQuery(Query):
    kind: Literal["screen", "unit", "subtree"] = "subtree"
    ids: Annotated[str, StringConstraints(max_length=700, pattern=r"^[A-Za-z0-9_,-]+$")]
    from_: date | None = Field(None, alias="from")
    to: date | None = None
    format: Format = "json"


class FormatQuery(Query):
    format: Format = "json"


class LeagueIn(In):
    enabled: bool


_number: Any = (int | float | None, None)
_content_only: dict[str, Any] = {  # content series: reads by hour of day and the time from push to first read
    "reads_by_hour": (list[int] | None, None),
    "first_reads": (int | None, Field(None, description="first opens of a push by the fan it was sent to")),
    "median_first_read_seconds": (
        int | None,
        Field(
            None,
            description="upper bound of the histogram bucket holding the median time from push to first read: "
            "half the first reads came within this many seconds (7 days and more: 604800)",
        ),
    ),
    "median_first_read_bucket": (
        list[int | None] | None,
        Field(None, description="[low, high) seconds of the bucket holding the median; high null for 7 days and more"),
    ),
}
Values = create_model(
    "AnalyticsValues",
    __base__=Out,
    **{name: _number for name in (*metrics.METRICS, *metrics.RATES)},
    screens_played_on=(int | None, None),
    **_content_only,
)
Point = create_model(
    "AnalyticsPoint",
    __base__=Out,
    period=(str, ...),
    start=(str, ...),
    end=(str, ...),
    **{name: _number for name in metrics.METRICS},
    **_content_only,
)


class SeriesOut(Out):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)
    kind: str
    id: str
    name: str
    from_: str = Field(alias="from")
    to: str
    bucket: str
    points: list[Point]
    totals: Values


class RankItem(Out):
    rank: int
    unit_id: str
    name: str
    screens: int
    value: float | None


class RankingOut(Out):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)
    unit_id: str
    metric: str
    from_: str = Field(alias="from")
    to: str
    per_screen: bool
    items: list[RankItem]


class LeagueItem(Out):
    rank: int
    name: str
    value: float | None
    own: bool


class LeagueOut(Out):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)
    parent_name: str
    metric: str
    from_: str = Field(alias="from")
    to: str
    per_screen: bool
    items: list[LeagueItem]


class LeagueSettingOut(Out):
    unit_id: str
    enabled: bool


class CompareItem(Out):
    id: str
    name: str
    values: Values


class CompareOut(Out):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)
    kind: str
    from_: str = Field(alias="from")
    to: str
    items: list[CompareItem]


class Tenure(Out):
    week: int
    month: int
    older: int


class Activity(Out):
    active_30d: int
    dormant: int


class ScreensPerFan(Out):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)
    one: int = Field(alias="1")
    two: int = Field(alias="2")
    three_or_more: int = Field(alias="3+")


class SourceMix(Out):
    qr: int
    menu: int
    text: int
    page: int


class FanAttributesOut(Out):
    kind: str
    id: str
    as_of: str | None
    fans: int
    tenure: Tenure
    activity: Activity
    screens_per_fan: ScreensPerFan
    via_other_accounts: int
    source_mix: SourceMix


class PeriodQuery(Query):
    from_: date | None = Field(None, alias="from")
    to: date | None = None


class WeChatFigures(Out):
    new_user: int
    cancel_user: int
    cumulate_user: int | None


class ScreenFigures(Out):
    new_qr_follow: int
    follows: int
    unfollows: int


class WeChatDay(Out):
    day: str
    new_user: int | None
    cancel_user: int | None
    cumulate_user: int | None
    follows: int
    unfollows: int
    new_qr_follow: int


class WeChatViewOut(Out):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)
    appid: str
    name: str
    from_: str = Field(alias="from")
    to: str
    wechat: WeChatFigures
    screens: ScreenFigures
    screen_share: float | None
    summary: str
    days: list[WeChatDay]
