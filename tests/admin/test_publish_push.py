"""Publishing with push on: the per-channel forecast, the 422 without a channel, the kept outcome (issue 11)."""

from __future__ import annotations

import pytest
from chalice.test import Client

from app import app
from chalicelib.models import Fan
from chalicelib.resources import queue_specs
from chalicelib.settings import get_settings
from devstack.sqs_pump import SqsPump
from devstack.wechat_messages import WeChatSender
from tests.admin.world import SECRET, TEMPLATE_ID, TOKEN, if_match
from tests.gateway.conftest import Gateway
from tests.push.conftest import seed_fans
from tests.support import ticking_clock

V = "/api/v1"
TEMPLATE_PATH = "/cgi-bin/message/template/send"


@pytest.fixture
def pump(world):
    return SqsPump(app, specs=queue_specs(get_settings()), visibility_override=1, stage="test")


def notice(world, where="city", **extra):
    body = {
        "unit_id": world.unit[where],
        "kind": "notice",
        "title": "社区义诊通知",
        "body": "本周六上午9点",
        "category": "community_notice",
        "targets": {"units": [world.unit[where]]},
    }
    return {**body, **extra}


def make(api, body) -> dict:
    r = api.post(f"{V}/content", body)
    assert r.status_code == 201, r.data
    return r.data


def test_push_without_any_channel_is_refused_with_422_and_nothing_enqueued(api, world, standin_server, queues):
    unit = api.post(f"{V}/units", {"parent_id": world.unit["prov"], "name": "无模板单位"}).data["unit_id"]
    standin_server.register_account("wxnotemplate00001", SECRET, "service")
    r = api.post(
        f"{V}/accounts",
        {
            "appid": "wxnotemplate00001",
            "unit_id": unit,
            "name": "无模板号",
            "original_id": "gh_notmpl0001",
            "app_secret": SECRET,
            "token": TOKEN,
        },
    )
    assert r.status_code == 201, r.data
    r = api.post(
        f"{V}/screens", {"screen_id": "NT001", "unit_id": unit, "name": "无模板屏", "appid": "wxnotemplate00001"}
    )
    assert r.status_code == 201, r.data
    queues("manifest")
    item = make(api, {**notice(world), "unit_id": unit, "targets": {"units": [unit]}})
    assert item["push"] is True  # the documented default

    r = api.post(f"{V}/content/{item['content_id']}/publish", headers=if_match(api, item["content_id"]))
    assert r.status_code == 422, r.data
    assert r.data["error"]["code"] == "no_push_channel" and r.data["error"]["field"] == "push"
    assert "wxnotemplate00001" in r.data["error"]["message"]
    assert api.get(f"{V}/content/{item['content_id']}").data["status"] == "draft"
    assert queues("push") == [] and queues("manifest") == []

    revision = api.get(f"{V}/content/{item['content_id']}").data["revision"]
    api.patch(f"{V}/content/{item['content_id']}", {"push": False}, headers={"If-Match": f'"{revision}"'})
    r = api.post(f"{V}/content/{item['content_id']}/publish", headers=if_match(api, item["content_id"]))
    assert r.status_code == 200 and r.data["push_status"] is None
    assert queues("push") == []


def test_publish_forecasts_per_account_and_channel_and_get_keeps_the_outcome(api, world, standin_server, pump):
    city, town = world.appid["city"], world.appid["town"]
    seed_fans(standin_server, city, ["CI000"], ["o-a", "o-b", "o-stopped"])
    Fan(city, "o-stopped").update(actions=[Fan.stopped_channels.add({"template"})])
    seed_fans(standin_server, town, ["CI000"], ["o-town"])  # a fan of the sibling unit's account
    item = make(api, notice(world, targets={"screens": ["CI000"]}))

    r = api.post(f"{V}/content/{item['content_id']}/publish", headers=if_match(api, item["content_id"]))
    assert r.status_code == 200, r.data
    forecast = r.data["push_status"]["forecast"]
    assert forecast["recipients"] == 4 and forecast["complete"] is True
    rows = {row["appid"]: row for row in forecast["accounts"]}
    assert rows[city]["reach"] == "push" and rows[city]["recipients"] == 3
    assert rows[city]["channels"] == {"template": 2, "subscribe": 0, "custom": 0, "unread": 0}
    assert rows[city]["skipped"]["channel_stopped"] == 1
    assert rows[town]["reach"] == "unread" and rows[town]["channels"]["unread"] == 1
    assert r.data["push_status"]["state"] in ("queued", "planning")

    pump.drain(timeout=30)
    status = api.get(f"{V}/content/{item['content_id']}").data["push_status"]
    assert status["state"] == "done" and status["planned"] == 4
    assert status["sent"] == {"template": 2, "subscribe": 0, "custom": 0} and status["sent_total"] == 2
    assert status["skipped"]["channel_stopped"] == 1 and status["skipped_total"] == 1
    assert (status["unread"], status["unread_cross_unit"], status["failed"], status["stopped"]) == (1, 1, 0, 0)
    assert status["forecast"] == forecast
    assert [c["body"]["touser"] for c in standin_server.calls(TEMPLATE_PATH)].count("o-town") == 0
    assert item["content_id"] in Fan.get(town, "o-town", consistent_read=True).unread_content


def test_an_account_edit_applies_to_the_next_job(api, world, standin_server, pump):
    """Formerly both push functions cached accounts for 60 s: the second job still used the old template."""
    city = world.appid["city"]
    seed_fans(standin_server, city, ["CI000"], ["o-edit"])
    first = make(api, notice(world, targets={"screens": ["CI000"]}))
    cid = first["content_id"]
    assert api.post(f"{V}/content/{cid}/publish", headers=if_match(api, cid)).status_code == 200
    pump.drain(timeout=30)
    r = api.patch(f"{V}/accounts/{city}", {"template_id": "tmpl-edited"})
    assert r.status_code == 200, r.data
    second = make(api, notice(world, targets={"screens": ["CI000"]}, title="第二条"))
    cid = second["content_id"]
    assert api.post(f"{V}/content/{cid}/publish", headers=if_match(api, cid)).status_code == 200
    pump.drain(timeout=30)
    used = [
        c["body"]["template_id"] for c in standin_server.calls(TEMPLATE_PATH) if c["body"].get("touser") == "o-edit"
    ]
    assert used == [TEMPLATE_ID, "tmpl-edited"]


def test_cross_unit_content_is_listed_not_pushed_by_default_and_the_policy_is_settable(
    api, world, standin_server, pump
):
    """A fan of the town account follows a city screen: city notices must not spend the town account's pushes."""
    town = world.appid["town"]
    assert api.get(f"{V}/accounts/{town}").data["cross_unit"] == "unread"
    seed_fans(standin_server, town, ["CI000"], ["o-visitor"])

    def publish(title: str) -> str:
        item = make(api, notice(world, targets={"screens": ["CI000"]}, title=title))
        cid = item["content_id"]
        assert api.post(f"{V}/content/{cid}/publish", headers=if_match(api, cid)).status_code == 200
        pump.drain(timeout=30)
        return item["content_id"]

    def pushes() -> int:
        return [c["body"].get("touser") for c in standin_server.calls(TEMPLATE_PATH)].count("o-visitor")

    listed = publish("市里的义诊通知")
    assert pushes() == 0
    sender = WeChatSender(town, "gh_town0000", TOKEN, clock=ticking_clock())
    with Client(app) as client:
        reply = Gateway(client).say(sender, sender.click("o-visitor", "LATEST"))
    assert "【新】" in reply and "市里的义诊通知" in reply

    assert api.patch(f"{V}/accounts/{town}", {"cross_unit": "push"}).data["cross_unit"] == "push"
    publish("市里的第二条通知")
    assert pushes() == 1

    assert api.patch(f"{V}/accounts/{town}", {"cross_unit": "none"}).status_code == 200
    silent = publish("市里的第三条通知")
    assert pushes() == 1
    status = api.get(f"{V}/content/{silent}").data["push_status"]
    assert status["skipped"]["cross_unit_policy"] == 1 and status["unread"] == 0
    assert silent not in (Fan.get(town, "o-visitor", consistent_read=True).unread_content or set())
    assert listed != silent
    r = api.patch(f"{V}/accounts/{town}", {"cross_unit": "sometimes"})
    assert r.status_code == 400


def test_openapi_documents_the_push_default_the_status_and_the_policy(api):
    schemas = api.as_(None).get(f"{V}/openapi.json").data["components"]["schemas"]
    push = schemas["ContentCreate"]["properties"]["push"]
    assert push["default"] is True and "defaults to true" in push["description"]
    assert "push_status" in schemas["ContentOut"]["properties"]
    assert {"forecast", "sent", "delivered", "read", "failed", "stopped", "skipped", "unread"} <= set(
        schemas["PushStatusOut"]["properties"]
    )
    assert set(schemas["SkipCounts"]["properties"]) == {
        "not_following",
        "no_channel",
        "channel_stopped",
        "cross_unit_policy",
    }
    for name in ("AccountCreate", "AccountUpdate", "AccountOut"):
        assert "cross_unit" in schemas[name]["properties"], name
    assert "rebind_appid" in schemas["UnitUpdate"]["properties"]


def test_a_large_audience_is_forecast_partly_and_says_so(api, world, standin_server, monkeypatch):
    from chalicelib.services.push import outcomes as push_outcomes

    monkeypatch.setattr(push_outcomes, "FORECAST_FANS", 1)  # scaled down: 2,000 classified, 50,000 counted
    monkeypatch.setattr(push_outcomes, "FORECAST_COUNT", 3)
    seed_fans(standin_server, world.appid["city"], ["CI000"], ["o-1", "o-2", "o-3", "o-4"])
    item = make(api, notice(world, targets={"screens": ["CI000"]}))
    cid = item["content_id"]
    forecast = api.post(f"{V}/content/{cid}/publish", headers=if_match(api, cid)).data["push_status"]["forecast"]
    (row,) = [r for r in forecast["accounts"] if r["appid"] == world.appid["city"]]
    assert forecast["complete"] is False and forecast["recipients"] == 3
    assert row["estimated"] == 2 and row["channels"]["template"] == 3
