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
    for path in (
        "/analytics/subtree/city/series",
        "/analytics/unit/city/series",
        "/analytics/screen/NJ001/series",
        "/analytics/units/city/ranking",
        "/analytics/compare?kind=screen&ids=SQ001,NJ001",
        "/analytics/subtree/prov/series",
    ):
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
    assert [(i["name"], i["value"], i["own"]) for i in league.data["items"]] == [
        ("市科协", 2.0, False),
        ("社区服务中心", 2.0, True),
    ]
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
    for path in (
        "/api/v1/analytics/{kind}/{subject_id}/series",
        "/api/v1/analytics/units/{unit_id}/ranking",
        "/api/v1/analytics/units/{unit_id}/league",
        "/api/v1/analytics/compare",
    ):
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


def test_wechat_view_sets_the_screens_share_beside_wechats_figures(fans, pump, admin, wechat):
    from datetime import date, timedelta

    from chalicelib.services.analytics import wechat_view

    fans.follow(PLAIN_APPID, "o-w1", "NJ001")  # followed by scanning a screen
    fans.follow(PLAIN_APPID, "o-w2")  # followed some other way (a search, an article)
    today = date.fromisoformat(china_day())
    yesterday = today - timedelta(days=1)
    # WeChat counts the account's followers however they came; it reports finished days only
    wechat.set_user_summary(PLAIN_APPID, yesterday.isoformat(), 1240, 80, 15230)
    assert wechat_view.pull_all(today) == {"accounts": 2, "failed": 0}
    assert wechat_view.pull_all(today) == {"accounts": 0, "failed": 0}  # nothing new until tomorrow
    view = admin["city"].get(f"{V}/analytics/accounts/{PLAIN_APPID}/wechat?from={yesterday}&to={today}")
    assert view.status_code == 200, view.body
    data = view.data
    assert data["wechat"] == {"new_user": 1240, "cancel_user": 80, "cumulate_user": 15230}
    assert data["screens"]["new_qr_follow"] == 1 and data["screens"]["follows"] == 2
    assert "新增关注 1,240 人，其中经大屏扫码 1 人" in data["summary"]
    calls = [c for c in wechat.calls() if c["path"].startswith("/datacube/")]
    assert {c["path"] for c in calls} == {"/datacube/getusersummary", "/datacube/getusercumulate"}
    assert all(c["body"]["end_date"] == yesterday.isoformat() for c in calls)
    assert admin["town"].get(f"{V}/analytics/accounts/{PLAIN_APPID}/wechat").status_code == 404


def test_online_minutes_come_from_heartbeats(client, pump, admin):
    import json
    from datetime import timedelta

    from chalicelib.models.base import utcnow
    from chalicelib.models.screens import Screen
    from devstack.screens_local import enroll_screen

    key = enroll_screen("NJ001")

    def beat(seconds_since_last: int | None) -> None:
        if seconds_since_last is not None:  # as if the previous heartbeat had come that long ago
            Screen("NJ001").update(actions=[Screen.last_seen.set(utcnow() - timedelta(seconds=seconds_since_last))])
        response = client.http.post(
            "/screens/NJ001/heartbeat",
            body=json.dumps({}),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
        )
        assert response.status_code == 200, response.body

    beat(None)  # the first one: nothing to measure yet
    beat(50)
    beat(50)
    beat(600)  # after ten silent minutes the screen was offline: that gap does not count
    pump.drain()
    day = china_day()
    totals = admin["city"].get(f"{V}/analytics/screen/NJ001/series?from={day}&to={day}").data["totals"]
    assert totals["online_minutes"] == 1  # 100 seconds
    assert (
        admin["prov"].get(f"{V}/analytics/subtree/prov/series?from={day}&to={day}").data["totals"]["online_minutes"]
        == 1
    )


def test_content_counts_the_screens_it_played_on_and_reads_by_hour(client, pump, admin):
    import json
    import uuid

    from chalicelib.models.base import utcnow
    from chalicelib.resources import queue_specs
    from chalicelib.services.content.reads import record_read
    from chalicelib.settings import get_settings
    from devstack.screens_local import enroll_screen, publish
    from devstack.sqs_pump import SqsPump

    publish("c-played", ["NJ001", "NJ002"], title="两屏都放")
    from app import app

    SqsPump(app, specs=queue_specs(get_settings()), stage="test").drain()  # the manifest builder links it to screens
    for screen in ("NJ001", "NJ002"):
        key = enroll_screen(screen)
        for _ in range(2):  # a screen playing it again is not a new screen
            body = {
                "plays": [
                    {
                        "play_id": uuid.uuid4().hex,
                        "content_id": "c-played",
                        "started_at": utcnow().isoformat(),
                        "seconds": 15,
                    }
                ]
            }
            reply = client.http.post(
                f"/screens/{screen}/plays",
                body=json.dumps(body),
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
            )
            assert reply.json_body["counted"] == 1, reply.body
    record_read(appid=PLAIN_APPID, reader="r1", content_id="c-played", screen_id="NJ001", source="push")
    pump.drain()
    day = china_day()
    totals = admin["city"].get(f"{V}/analytics/content/c-played/series?from={day}&to={day}").data["totals"]
    assert (totals["plays"], totals["play_seconds"], totals["screens_played_on"]) == (4, 60, 2)
    assert totals["reads_push"] == 1 and sum(totals["reads_by_hour"]) == 1
    assert admin["town"].get(f"{V}/analytics/content/c-played/series").status_code == 404
