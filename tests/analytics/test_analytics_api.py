"""The analytics API: scopes (a sibling branch gets 404), rankings, league tables, comparison, CSV exports."""

from __future__ import annotations

import csv
import io

from chalicelib.models.stats import china_day
from tests.analytics.conftest import V
from tests.support import PLAIN_APPID, SAFE_APPID


def _history(fans, pump) -> None:
    fans.follow(PLAIN_APPID, "o-1", "NJ001")  # new follower by QR
    fans.scan(PLAIN_APPID, "o-1", "NJ002")  # existing follower by QR: one person, two screens
    fans.follow(PLAIN_APPID, "o-2", "NJ001")
    fans.text(PLAIN_APPID, "o-2", "订阅 SQ001")  # the city's fan on the town's screen
    fans.follow(SAFE_APPID, "o-3", "SQ001")
    fans.unfollow(PLAIN_APPID, "o-2")  # lost on NJ001 and SQ001, cause unfollow
    fans.follow(PLAIN_APPID, "o-2")  # both restored
    fans.text(PLAIN_APPID, "o-1", "退订 NJ002")  # lost, cause unsubscribe
    pump.drain()


def test_series_counts_every_source_and_cause(fans, pump, admin):
    _history(fans, pump)
    day = china_day()
    city = admin["city"].get(f"{V}/analytics/subtree/city/series?from={day}&to={day}")
    assert city.status_code == 200, city.body
    t = city.data["totals"]
    assert (t["fans"], t["distinct_fans"], t["screens"]) == (2, 2, 2)
    assert (t["new_qr_follow"], t["new_qr_scan"], t["new_restored"], t["new"]) == (2, 1, 1, 4)
    assert (t["lost_unfollow"], t["lost_unsubscribe"], t["lost"], t["net"]) == (1, 1, 2, 2)
    prov = admin["prov"].get(f"{V}/analytics/subtree/prov/series?from={day}&to={day}&bucket=month").data
    assert len(prov["points"]) == 1 and prov["points"][0]["period"] == day[:7]
    assert (prov["totals"]["fans"], prov["totals"]["distinct_fans"]) == (4, 3)  # o-2 counts once
    town_own = admin["prov"].get(f"{V}/analytics/unit/town/series?from={day}&to={day}").data["totals"]
    assert (town_own["fans"], town_own["new_text"], town_own["new_restored"]) == (2, 1, 1)
    screen = admin["city"].get(f"{V}/analytics/screen/NJ001/series?from={day}&to={day}").data["totals"]
    assert (screen["fans"], screen["net"]) == (2, 2)
    assert "openid" not in city.body.decode() and "o-1" not in prov.__repr__()


def test_scopes_a_sibling_branch_sees_nothing(fans, pump, admin):
    _history(fans, pump)
    town = admin["town"]
    for path in ("/analytics/subtree/city/series", "/analytics/unit/city/series", "/analytics/screen/NJ001/series",
                 "/analytics/units/city/ranking", "/analytics/compare?kind=screen&ids=SQ001,NJ001",
                 "/analytics/subtree/prov/series"):
        assert town.get(V + path).status_code == 404, path
    assert town.get(f"{V}/analytics/screen/SQ001/series").status_code == 200
    assert town.get(f"{V}/analytics/units/prov/ranking").status_code == 404
    assert admin["city"].get(f"{V}/analytics/kingdom/city/series").status_code == 404
    assert admin["city"].get(f"{V}/analytics/subtree/city/series?bucket=year").status_code == 400
    assert admin["city"].get(f"{V}/analytics/subtree/city/series?from=2026-01-01&to=2025-01-01").status_code == 400
    no_key = admin["city"].client.http.get(f"{V}/analytics/subtree/city/series")
    assert no_key.status_code == 401


def test_rankings_league_and_comparison(fans, pump, admin):
    _history(fans, pump)
    prov = admin["prov"]
    ranking = prov.get(f"{V}/analytics/units/prov/ranking?metric=fans").data
    assert [(i["unit_id"], i["value"], i["screens"]) for i in ranking["items"]] == [("city", 2.0, 2), ("town", 2.0, 1)]
    per_screen = prov.get(f"{V}/analytics/units/prov/ranking?metric=fans&per_screen=true").data["items"]
    assert [(i["unit_id"], i["value"]) for i in per_screen] == [("town", 2.0), ("city", 1.0)]
    assert prov.get(f"{V}/analytics/units/prov/ranking?metric=money").status_code == 400
    # the league table: off until the parent switches it on; then names and values only
    assert admin["town"].get(f"{V}/analytics/units/town/league").status_code == 404
    assert admin["city"].put(f"{V}/analytics/units/prov/league-setting", {"enabled": True}).status_code == 404
    assert prov.put(f"{V}/analytics/units/prov/league-setting", {"enabled": True}).data["enabled"] is True
    league = admin["town"].get(f"{V}/analytics/units/town/league?metric=distinct_fans")
    assert league.status_code == 200, league.body
    assert [(i["name"], i["value"], i["own"]) for i in league.data["items"]] == [("市科协", 2.0, False),
                                                                                 ("社区服务中心", 2.0, True)]
    assert set(league.data["items"][0]) == {"rank", "name", "value", "own"} and "city" not in league.body.decode()
    compare = prov.get(f"{V}/analytics/compare?kind=screen&ids=NJ001,NJ002,SQ001").data
    assert [(i["id"], i["values"]["fans"]) for i in compare["items"]] == [("NJ001", 2), ("NJ002", 0), ("SQ001", 2)]
    too_many = ",".join(f"S{i:03d}" for i in range(11))
    assert prov.get(f"{V}/analytics/compare?kind=screen&ids={too_many}").status_code == 400


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.body if isinstance(response.body, bytes) else response.body.encode()
    assert raw.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_csv_exports_have_a_bom_and_chinese_headers(fans, pump, admin):
    _history(fans, pump)
    day = china_day()
    rows = _csv(admin["prov"].get(f"{V}/analytics/subtree/prov/series?from={day}&to={day}&format=csv"))
    assert rows[0][:4] == ["日期", "粉丝数", "去重粉丝数", "大屏数"] and rows[1][0] == day
    assert rows[1][1:3] == ["4", "3"]
    ranking = _csv(admin["prov"].get(f"{V}/analytics/units/prov/ranking?metric=net&format=csv"))
    assert ranking[0] == ["名次", "单位", "大屏数", "数值"]
    assert {r[1] for r in ranking[1:]} == {"市科协", "社区服务中心"}
    compare = _csv(admin["prov"].get(f"{V}/analytics/compare?kind=subtree&ids=city,town&format=csv"))
    assert compare[0][:3] == ["编号", "名称", "粉丝数"] and len(compare) == 3


def test_the_openapi_document_describes_the_analytics_routes(client):
    doc = client.http.get(f"{V}/openapi.json")
    paths = __import__("json").loads(doc.body)["paths"]
    for path in ("/api/v1/analytics/{kind}/{subject_id}/series", "/api/v1/analytics/units/{unit_id}/ranking",
                 "/api/v1/analytics/units/{unit_id}/league", "/api/v1/analytics/compare"):
        assert path in paths and paths[path]["get"]["tags"] == ["analytics"]


def test_fan_attributes_are_counts_only(fans, pump, admin):
    from tools import check_rollups

    _history(fans, pump)
    assert admin["prov"].get(f"{V}/analytics/subtree/prov/fans").data["as_of"] is None  # before the daily job
    assert check_rollups.main(["--close", china_day(), "--from", china_day()]) == 0
    prov = admin["prov"].get(f"{V}/analytics/subtree/prov/fans")
    assert prov.status_code == 200, prov.body
    data = prov.data
    assert data["fans"] == 3 and data["tenure"] == {"week": 3, "month": 0, "older": 0}
    assert data["activity"] == {"active_30d": 3, "dormant": 0}
    assert data["screens_per_fan"] == {"1": 2, "2": 1, "3+": 0}  # o-2 on NJ001 and SQ001
    assert data["via_other_accounts"] == 1  # o-2 reached the town's screen through the city's account
    assert data["source_mix"] == {"qr": 3, "menu": 0, "text": 1, "page": 0}
    assert "o-1" not in prov.body.decode() and "wxplain" not in prov.body.decode()
    screen = admin["town"].get(f"{V}/analytics/screen/SQ001/fans").data
    assert (screen["fans"], screen["via_other_accounts"], screen["screens_per_fan"]["2"]) == (2, 1, 1)
    assert admin["town"].get(f"{V}/analytics/subtree/city/fans").status_code == 404
    rows = _csv(admin["prov"].get(f"{V}/analytics/subtree/prov/fans?format=csv"))
    assert rows[0] == ["指标", "人数"] and ["粉丝数", "3"] in rows
