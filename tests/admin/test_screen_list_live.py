"""The screens table's columns: online state, last seen, now playing, fans, plays today; filters; bounded cost."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from app import app
from bench.harness import AwsRequestCounter
from chalicelib.resources import queue_specs
from chalicelib.services.content import workflow as content
from chalicelib.services.screens import registry as screens
from chalicelib.settings import get_settings
from devstack.sqs_pump import SqsPump

V = "/api/v1"


def _report(api, screen_id: str, key: str, route: str, body: dict) -> None:
    r = api.client.http.post(
        f"/screens/{screen_id}/{route}",
        body=json.dumps({"player_key": key, **body}),
        headers={"Content-Type": "text/plain"},
    )
    assert r.status_code == 200, r.body


def test_the_list_shows_now_playing_and_plays_today_and_filters_by_status(api, world):
    keys = {
        code: screens.create(
            world.root,
            {"screen_id": code, "unit_id": world.unit["district"], "name": code, "appid": world.appid["district"]},
        )[1]
        for code in ("LV-A", "LV-B")
    }
    item = content.create(
        world.root,
        {
            "unit_id": world.unit["district"],
            "kind": "notice",
            "title": "正在播放的通知",
            "body": "x",
            "targets": {"units": [world.unit["district"]]},
            "push": False,
        },
    )
    content.transition(world.root, item.content_id, "publish", None)
    SqsPump(app, specs=queue_specs(get_settings()), visibility_override=1, stage="test").drain(timeout=60)
    _report(api, "LV-A", keys["LV-A"], "heartbeat", {"playing": item.content_id})
    started = datetime.now(UTC).isoformat()
    _report(
        api,
        "LV-A",
        keys["LV-A"],
        "plays",
        {
            "plays": [
                {"play_id": uuid.uuid4().hex, "content_id": item.content_id, "started_at": started, "seconds": 15}
                for _ in range(3)
            ]
        },
    )
    listed = {s["screen_id"]: s for s in api.get(f"{V}/screens?unit_id={world.unit['district']}").data["items"]}
    assert listed["LV-A"]["online"] and listed["LV-A"]["last_seen"]
    assert listed["LV-A"]["now_playing"] == {"content_id": item.content_id, "title": "正在播放的通知"}
    assert listed["LV-A"]["plays_today"] == 3
    assert listed["LV-B"]["now_playing"] is None and listed["LV-B"]["plays_today"] == 0
    assert listed["LV-B"]["status"] == "never"

    def ids(query: str) -> set[str]:
        return {s["screen_id"] for s in api.get(f"{V}/screens?unit_id={world.unit['district']}&{query}").data["items"]}

    assert ids("status=online") == {"LV-A"}
    assert ids("status=never") == {"LV-B", world.screen["district"]}
    assert ids("status=offline") == set()
    assert api.get(f"{V}/screens?status=asleep").status_code == 400


def test_the_live_columns_cost_a_bounded_batch_not_a_request_per_screen(api, world):
    counter = AwsRequestCounter()

    def cost() -> int:
        api.get(f"{V}/screens?unit_id={world.unit['district']}&limit=200")  # warm
        counter.install()
        try:
            with counter.measure() as used:
                assert api.get(f"{V}/screens?unit_id={world.unit['district']}&limit=200").status_code == 200
        finally:
            counter.uninstall()
        return AwsRequestCounter.total(used, "dynamodb")

    def add(n: int, tag: str) -> None:
        for i in range(n):
            code = f"{tag}{i:03d}"
            key = screens.create(
                world.root,
                {"screen_id": code, "unit_id": world.unit["district"], "name": code, "appid": world.appid["district"]},
            )[1]
            _report(api, code, key, "heartbeat", {"playing": "c_nothing"})

    add(2, "SA")
    small = cost()
    add(20, "SB")
    assert cost() == small, "more screens on the page must not mean more requests"
