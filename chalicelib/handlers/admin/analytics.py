"""``/api/v1/analytics``: series, rankings, league tables, comparisons, fan attributes, WeChat's view, CSV.

Thin: validate the query, call ``chalicelib.services.analytics``, shape the
answer (or the CSV file).  Scopes and roles are the admin API's: anything
outside the caller's subtree answers 404.  docs/analytics.md says what each
figure means.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

from chalice import Blueprint
from pydantic import ConfigDict, Field, StringConstraints, create_model

from chalicelib.handlers.admin.api import Call, Download, operation
from chalicelib.handlers.admin.schemas import In, Out, Query
from chalicelib.services.analytics import attributes, export, metrics, rankings, series, wechat_view
from chalicelib.services.errors import NotFound

bp = Blueprint(__name__)
TAG = "analytics"
Format = Literal["json", "csv"]
Metric = Literal["fans", "distinct_fans", "net", "growth_rate", "reads_per_fan", "read_rate", "push_delivery_rate",
                 "online_rate", "plays_per_screen"]
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
    "median_first_read_seconds": (int | None, Field(
        None, description="upper bound of the histogram bucket holding the median time from push to first read: "
                          "half the first reads came within this many seconds (7 days and more: 604800)")),
    "median_first_read_bucket": (list[int | None] | None, Field(
        None, description="[low, high) seconds of the bucket holding the median; high null for 7 days and more")),
}
Values = create_model("AnalyticsValues", __base__=Out, **{name: _number for name in (*metrics.METRICS, *metrics.RATES)},
                      screens_played_on=(int | None, None), **_content_only)
Point = create_model("AnalyticsPoint", __base__=Out, period=(str, ...), start=(str, ...), end=(str, ...),
                     **{name: _number for name in metrics.METRICS}, **_content_only)


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


def _answer(query: Any, result: dict[str, Any], to_csv: Callable[[dict[str, Any]], str], name: str) -> Any:
    """The result as JSON, or with ``format=csv`` as a download named ``<name>.csv``."""
    if query.format == "csv":
        return Download(to_csv(result), f"{name}.csv")
    return result


@operation(bp, "GET", "/analytics/{kind}/{subject_id}/series",
           summary="A screen's, unit's, subtree's, account's or content item's metrics by day, week or month",
           tag=TAG, query=SeriesQuery, response=SeriesOut)
def analytics_series(call: Call, kind: str, subject_id: str):
    if kind not in series.KINDS:
        raise NotFound()
    q = call.query
    result = series.series(call.principal, kind, subject_id, q.from_, q.to, q.bucket)
    return _answer(q, result, export.series_csv, f"{kind}-{result['id']}-{result['from']}-{result['to']}")


@operation(bp, "GET", "/analytics/units/{unit_id}/ranking",
           summary="Rank the unit's direct subordinates (each with its subtree) by a metric", tag=TAG,
           query=RankingQuery, response=RankingOut)
def analytics_ranking(call: Call, unit_id: str):
    q = call.query
    result = rankings.ranking(call.principal, unit_id, q.metric, q.from_, q.to, q.per_screen)
    return _answer(q, result, export.ranking_csv, f"ranking-{q.metric}-{result['from']}-{result['to']}")


@operation(bp, "GET", "/analytics/units/{unit_id}/league",
           summary="The unit's siblings' names and values, where their parent enabled a league table", tag=TAG,
           query=RankingQuery, response=LeagueOut)
def analytics_league(call: Call, unit_id: str):
    q = call.query
    result = rankings.league(call.principal, unit_id, q.metric, q.from_, q.to, q.per_screen)
    return _answer(q, result, export.league_csv, f"league-{q.metric}-{result['from']}-{result['to']}")


@operation(bp, "PUT", "/analytics/units/{unit_id}/league-setting",
           summary="Switch the league table among this unit's direct subordinates on or off", tag=TAG,
           body=LeagueIn, response=LeagueSettingOut)
def analytics_set_league(call: Call, unit_id: str):
    return rankings.set_league(call.principal, unit_id, call.body.enabled)


@operation(bp, "GET", "/analytics/units/{unit_id}/league-setting",
           summary="Whether this unit's direct subordinates see a league table", tag=TAG, response=LeagueSettingOut)
def analytics_get_league(call: Call, unit_id: str):
    return rankings.get_league(call.principal, unit_id)


@operation(bp, "GET", "/analytics/compare", summary="Up to 10 screens, units or subtrees side by side on every metric",
           tag=TAG, query=CompareQuery, response=CompareOut)
def analytics_compare(call: Call):
    q = call.query
    result = rankings.compare(call.principal, q.kind, q.ids.split(","), q.from_, q.to)
    return _answer(q, result, export.compare_csv, f"compare-{q.kind}-{result['from']}-{result['to']}")


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


@operation(bp, "GET", "/analytics/{kind}/{subject_id}/fans",
           summary="Fan attributes (tenure, activity, screens per fan, other accounts, sources) as counts only",
           tag=TAG, query=FormatQuery, response=FanAttributesOut)
def analytics_fan_attributes(call: Call, kind: str, subject_id: str):
    result = attributes.fan_attributes(call.principal, kind, subject_id)
    return _answer(call.query, result, export.attributes_csv, f"fans-{kind}-{result['id']}")


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


@operation(bp, "GET", "/analytics/accounts/{appid}/wechat",
           summary="WeChat's follower figures for the account beside those its screens' QR codes brought", tag=TAG,
           query=PeriodQuery, response=WeChatViewOut)
def analytics_wechat_view(call: Call, appid: str):
    q = call.query
    return wechat_view.view(call.principal, appid, q.from_, q.to)
