"""``/api/v1/analytics``: series, rankings, league tables, comparisons, fan attributes, WeChat's view, CSV.

Thin: validate the query, call ``chalicelib.services.analytics``, shape the
answer (or the CSV file).  Scopes and roles are the admin API's: anything
outside the caller's subtree answers 404.  docs/analytics.md says what each
figure means.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Blueprint

from chalicelib.handlers.admin.api import Call, operation
from chalicelib.handlers.admin.schemas import analytics as a
from chalicelib.handlers.admin.wire import Download
from chalicelib.services.analytics import attributes, export, rankings, series, wechat_view
from chalicelib.services.shared.errors import NotFound

bp = Blueprint(__name__)
TAG = "analytics"


def _answer(query: Any, result: dict[str, Any], to_csv: Callable[[dict[str, Any]], str], name: str) -> Any:
    """The result as JSON, or with ``format=csv`` as a download named ``<name>.csv``."""
    if query.format == "csv":
        return Download(to_csv(result), f"{name}.csv")
    return result


@operation(
    bp,
    "GET",
    "/analytics/{kind}/{subject_id}/series",
    summary="A screen's, unit's, subtree's, account's or content item's metrics by day, week or month",
    tag=TAG,
    query=a.SeriesQuery,
    response=a.SeriesOut,
)
def analytics_series(call: Call, kind: str, subject_id: str):
    if kind not in series.KINDS:
        raise NotFound()
    q = call.query
    result = series.series(call.principal, kind, subject_id, q.from_, q.to, q.bucket)
    return _answer(q, result, export.series_csv, f"{kind}-{result['id']}-{result['from']}-{result['to']}")


@operation(
    bp,
    "GET",
    "/analytics/units/{unit_id}/ranking",
    summary="Rank the unit's direct subordinates (each with its subtree) by a metric",
    tag=TAG,
    query=a.RankingQuery,
    response=a.RankingOut,
)
def analytics_ranking(call: Call, unit_id: str):
    q = call.query
    result = rankings.ranking(call.principal, unit_id, q.metric, q.from_, q.to, q.per_screen)
    return _answer(q, result, export.ranking_csv, f"ranking-{q.metric}-{result['from']}-{result['to']}")


@operation(
    bp,
    "GET",
    "/analytics/units/{unit_id}/league",
    summary="The unit's siblings' names and values, where their parent enabled a league table",
    tag=TAG,
    query=a.RankingQuery,
    response=a.LeagueOut,
)
def analytics_league(call: Call, unit_id: str):
    q = call.query
    result = rankings.league(call.principal, unit_id, q.metric, q.from_, q.to, q.per_screen)
    return _answer(q, result, export.league_csv, f"league-{q.metric}-{result['from']}-{result['to']}")


@operation(
    bp,
    "PUT",
    "/analytics/units/{unit_id}/league-setting",
    summary="Switch the league table among this unit's direct subordinates on or off",
    tag=TAG,
    body=a.LeagueIn,
    response=a.LeagueSettingOut,
)
def analytics_set_league(call: Call, unit_id: str):
    return rankings.set_league(call.principal, unit_id, call.body.enabled)


@operation(
    bp,
    "GET",
    "/analytics/units/{unit_id}/league-setting",
    summary="Whether this unit's direct subordinates see a league table",
    tag=TAG,
    response=a.LeagueSettingOut,
)
def analytics_get_league(call: Call, unit_id: str):
    return rankings.get_league(call.principal, unit_id)


@operation(
    bp,
    "GET",
    "/analytics/compare",
    summary="Up to 10 screens, units or subtrees side by side on every metric",
    tag=TAG,
    query=a.CompareQuery,
    response=a.CompareOut,
)
def analytics_compare(call: Call):
    q = call.query
    result = rankings.compare(call.principal, q.kind, q.ids.split(","), q.from_, q.to)
    return _answer(q, result, export.compare_csv, f"compare-{q.kind}-{result['from']}-{result['to']}")


@operation(
    bp,
    "GET",
    "/analytics/{kind}/{subject_id}/fans",
    summary="Fan attributes (tenure, activity, screens per fan, other accounts, sources) as counts only",
    tag=TAG,
    query=a.FormatQuery,
    response=a.FanAttributesOut,
)
def analytics_fan_attributes(call: Call, kind: str, subject_id: str):
    result = attributes.fan_attributes(call.principal, kind, subject_id)
    return _answer(call.query, result, export.attributes_csv, f"fans-{kind}-{result['id']}")


@operation(
    bp,
    "GET",
    "/analytics/accounts/{appid}/wechat",
    summary="WeChat's follower figures for the account beside those its screens' QR codes brought",
    tag=TAG,
    query=a.PeriodQuery,
    response=a.WeChatViewOut,
)
def analytics_wechat_view(call: Call, appid: str):
    q = call.query
    return wechat_view.view(call.principal, appid, q.from_, q.to)
