"""The demo's history goes through the real code paths: the roll-ups equal their parts and the charts have days."""

from __future__ import annotations

from datetime import date, timedelta

from chalice.test import Client

from app import app
from chalicelib.models.stats import china_day
from devstack import demo
from devstack.demo_history import seed_history
from devstack.stream_pump import StreamPump
from tools import check_rollups


def test_demo_history_is_consistent_and_seeded_once(aws, standin_server, capsys):
    standin_server.reset()
    info = demo.seed(standin_server)
    pump = StreamPump(app, stage="test")
    counts = seed_history(standin_server, info, days=12)
    assert counts["subscriptions"] > 20
    assert seed_history(standin_server, info, days=12) == counts  # once per emulator
    pump.drain(timeout=300)
    today = date.fromisoformat(china_day())
    window = ["--from", (today - timedelta(days=13)).isoformat(), "--to", today.isoformat()]
    assert check_rollups.main(window) == 0, capsys.readouterr().out
    key = info["users"][0]["api_key"]
    province = info["units"]["province"]
    with Client(app) as client:
        response = client.http.get(
            f"/api/v1/analytics/subtree/{province}/series?from={window[1]}&to={window[3]}",
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code == 200, response.body
        import json

        data = json.loads(response.body)
        active_days = [p for p in data["points"] if p["new"]]
        assert len(active_days) >= 8 and data["points"][-2]["fans"] > data["points"][0]["fans"] >= 0
        assert data["totals"]["plays"] > 0 and data["totals"]["distinct_fans"] > 0
        wechat = json.loads(
            client.http.get(
                f"/api/v1/analytics/accounts/{info['accounts'][0]['appid']}/wechat?from={window[1]}&to={window[3]}",
                headers={"Authorization": f"Bearer {key}"},
            ).body
        )
        assert wechat["wechat"]["new_user"] > wechat["screens"]["new_qr_follow"] > 0
