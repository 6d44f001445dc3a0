"""Issue 15, residents' data (PIPL): after an erasure no table holds the openid, and only the lost subscriptions count.

A resident of the demo's service account follows through a screen's QR code,
subscribes to a second screen by text and cancels a third subscription, reads
an article on the phone, gets a template receipt and appears in a push
ledger; a bystander follows the same screen.  Everything goes through the
public interfaces (signed callbacks, the phone pages, the admin API, the
stream pump delivering the tables' streams to the roll-up consumer), except
the push ledger, which is seeded as the sender writes it (a whole publish
would only slow the test down).  Then his data is erased, through the admin
API, the phone page 我的数据 or the WeChat commands, and:

* a scan of every table of ``ALL_MODELS`` (every attribute name and value,
  sets and maps included) finds no trace of his openid;
* each screen's fan count fell by exactly his active subscriptions there, the
  sum of its daily net still equals it, and the analytics roll-ups (fans,
  distinct fans) fell by exactly him;
* a retried erasure changes nothing.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

import pytest

from chalicelib import aws
from chalicelib.models import ALL_MODELS, Fan, PushBatch, PushJob, Subscription
from chalicelib.models.stats import china_day
from chalicelib.services.access import users
from devstack.wechat_messages import reply_content
from tests.analytics.conftest import Admin, V
from tests.phone.conftest import PhoneBrowser, csrf_of, publish
from tests.support import PLAIN_APPID, SAFE_APPID

SCREENS = ("NJ001", "NJ002", "SQ001")


def traces(openid: str) -> dict[str, int]:
    """Items of every table whose names or values contain ``openid`` anywhere (boto3 scan, raw items)."""
    found: dict[str, int] = {}
    client = aws.client("dynamodb")
    for model in ALL_MODELS:
        table = model.Meta.table_name
        for page in client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
            hits = sum(1 for item in page["Items"] if openid in repr(item))
            if hits:
                found[table] = found.get(table, 0) + hits
    return found


class Counters:
    """Every aggregate a lost subscription may change, read through the admin API."""

    def __init__(self, api: Admin):
        self.api = api
        today = date.fromisoformat(china_day())
        self.range = f"from={(today - timedelta(days=1)).isoformat()}&to={today.isoformat()}"

    def snapshot(self) -> dict[str, int]:
        out = {}
        for screen in SCREENS:
            fans = self.api.get(f"{V}/screens/{screen}").data["fan_count"]
            stats = self.api.get(f"{V}/screens/{screen}/stats?{self.range}").data
            assert sum(day["net"] for day in stats["days"]) == fans, f"sum of daily net != fan count on {screen}"
            series = self.api.get(f"{V}/analytics/screen/{screen}/series?{self.range}").data
            assert sum(p["net"] for p in series["points"]) == series["totals"]["fans"] == fans
            out[f"fans:{screen}"] = fans
        for kind, ident in (("unit", "city"), ("unit", "town"), ("subtree", "prov")):
            totals = self.api.get(f"{V}/analytics/{kind}/{ident}/series?{self.range}").data["totals"]
            out[f"fans:{kind}:{ident}"] = totals["fans"]
            out[f"distinct:{kind}:{ident}"] = totals["distinct_fans"]
        return out


def _populate(fans, client, victim: str, bystander: str) -> None:
    fans.follow(PLAIN_APPID, victim, "NJ001")
    fans.text(PLAIN_APPID, victim, "订阅 NJ002")
    fans.text(PLAIN_APPID, victim, "订阅 SQ001")
    fans.text(PLAIN_APPID, victim, "退订 SQ001")  # a cancelled row: erased, but its loss was counted already
    fans._say(fans.sender(PLAIN_APPID), fans.sender(PLAIN_APPID).template_finished(victim, 7_000_001))
    fans.follow(PLAIN_APPID, bystander, "NJ001")
    publish("c-erase", "科普文章", screens=["NJ001"])
    reader = PhoneBrowser(client, openid=victim)
    assert reader.get(f"/m/{PLAIN_APPID}/mine").status_code == 200  # signed in through WeChat OAuth
    assert reader.get(f"/m/{PLAIN_APPID}/content/c-erase").status_code == 200
    job = f"c-erase:{uuid.uuid4().hex[:6]}"
    PushJob(job, content_id="c-erase", cursor=f"{PLAIN_APPID}#{victim}").save()
    PushBatch(job, "0001", appid=PLAIN_APPID, done={victim, bystander}).save()


def _expected_after(before: dict[str, int]) -> dict[str, int]:
    """The victim had NJ001 and NJ002 (city, in prov): one fan less per screen, two in city, one person less."""
    after = dict(before)
    for key in ("fans:NJ001", "fans:NJ002"):
        after[key] -= 1
    after["fans:unit:city"] -= 2
    after["fans:subtree:prov"] -= 2
    after["distinct:unit:city"] -= 1
    after["distinct:subtree:prov"] -= 1
    return after


@pytest.fixture
def town_admin(client):
    user = users.create(None, {"unit_id": "town", "name": "town admin"}, actor="test")
    users.grant(None, user.user_id, "town", "admin", actor="test")
    return Admin(client, users.issue_key(None, user.user_id, "test", actor="test")[1])


def _post(api: Admin, path: str, body: dict):
    response = api.client.http.post(
        path, headers={"Authorization": f"Bearer {api.key}", "Content-Type": "application/json"}, body=json.dumps(body)
    )
    response.data = json.loads(response.body) if response.body else None
    return response


def test_admin_erasure_leaves_no_trace_and_counts_only_the_lost_subscriptions(fans, client, pump, admin, town_admin):
    victim, bystander = f"o-erase-{uuid.uuid4().hex[:8]}", f"o-stay-{uuid.uuid4().hex[:8]}"
    _populate(fans, client, victim, bystander)
    pump.drain()
    counters = Counters(admin["prov"])
    before = counters.snapshot()
    present = traces(victim)
    for table in (
        "fans",
        "subscriptions",
        "receipts",
        "read_marks",
        "push_batches",
        "push_jobs",
        "callbacks",
        "analytics_fan_scopes",
    ):
        assert any(t.endswith(table) for t in present), f"the set-up should have stored him in {table}: {present}"

    path = f"{V}/accounts/{PLAIN_APPID}/residents"
    assert _post(town_admin, f"{path}/erasure", {"openid": victim}).status_code == 404  # another branch's admin
    assert traces(victim) == present

    export = _post(admin["prov"], f"{path}/export", {"openid": victim})
    assert export.status_code == 200, export.body
    assert sorted((s["screen_id"], s["status"]) for s in export.data["data"]["subscriptions"]) == [
        ("NJ001", "active"),
        ("NJ002", "active"),
        ("SQ001", "cancelled"),
    ]
    assert export.data["data"]["reads"][0]["content_id"] == "c-erase"

    done = _post(admin["prov"], f"{path}/erasure", {"openid": victim, "reason": f"letter from {victim}"})
    assert done.status_code == 200, done.body
    assert done.data["lost_subscriptions"] == 2
    pump.drain()
    assert traces(victim) == {}
    assert counters.snapshot() == _expected_after(before)
    assert traces(bystander), "the bystander's records stay"

    again = _post(admin["prov"], f"{path}/erasure", {"openid": victim})  # a retried request
    assert again.status_code == 200 and again.data["lost_subscriptions"] == 0 and again.data["removed"] == {}
    pump.drain()
    assert counters.snapshot() == _expected_after(before)
    assert traces(victim) == {}
    audit = admin["prov"].get(f"{V}/audit/account/{PLAIN_APPID}").data["items"]
    assert [e["action"] for e in audit[:3]] == ["resident.erase", "resident.erase", "resident.export"]


def test_phone_page_shows_exports_and_erases_after_confirmation(fans, client, pump, admin):
    victim = f"o-page-{uuid.uuid4().hex[:8]}"
    fans.follow(PLAIN_APPID, victim, "NJ002")
    pump.drain()
    counters = Counters(admin["prov"])
    before = counters.snapshot()
    phone = PhoneBrowser(client, openid=victim)
    mine = phone.get(f"/m/{PLAIN_APPID}/mine")
    assert mine.status_code == 200 and f"/m/{PLAIN_APPID}/mydata" in mine.body.decode()  # linked from 我的大屏
    page = phone.get(f"/m/{PLAIN_APPID}/mydata")
    text = page.body.decode()
    assert page.status_code == 200 and "我们保存的信息" in text and "大屏订阅</dt><dd>1 块" in text
    export = phone.get(f"/m/{PLAIN_APPID}/mydata/export")
    assert export.status_code == 200 and "attachment" in export.headers["Content-Disposition"]
    assert json.loads(export.body)["subscriptions"][0]["screen_id"] == "NJ002"

    confirm = phone.get(f"/m/{PLAIN_APPID}/mydata?confirm=1")
    assert "确认删除" in confirm.body.decode()
    token = csrf_of(confirm.body.decode())
    url = f"/m/{PLAIN_APPID}/mydata"
    assert phone.post_form(url, {"csrf": token}).status_code == 400  # no confirmation: nothing erased
    assert phone.post_form(url, {"csrf": "forged", "confirm": "erase"}).status_code == 403
    stranger = PhoneBrowser(client)  # no session at all
    assert stranger.post_form(url, {"csrf": token, "confirm": "erase"}).status_code == 403
    assert traces(victim)
    done = phone.post_form(url, {"csrf": token, "confirm": "erase"})
    assert done.status_code == 303
    after = phone.get(done.headers["Location"])
    assert "您的数据已删除" in after.body.decode() and "我们没有保存关于您的任何信息" in after.body.decode()
    assert phone.post_form(url, {"csrf": token, "confirm": "erase"}).status_code == 303  # a retried POST
    pump.drain()
    assert traces(victim) == {}
    expected = dict(before)
    for key in ("fans:NJ002", "fans:unit:city", "fans:subtree:prov", "distinct:unit:city", "distinct:subtree:prov"):
        expected[key] -= 1
    assert counters.snapshot() == expected


def test_wechat_command_asks_then_erases_exactly_once(fans, client, pump, admin, demo):
    victim = f"o-cmd-{uuid.uuid4().hex[:8]}"
    sender = demo.safe  # the subscription account in safe mode: no OAuth, so the command is the way to delete
    fans.follow(SAFE_APPID, victim, "SQ001")
    pump.drain()
    counters = Counters(admin["prov"])
    before = counters.snapshot()
    ask = reply_content(sender.open_reply(fans._say(sender, sender.text(victim, "删除我的数据"))))
    assert "确认删除我的数据" in ask and "/mydata" in ask
    assert traces(victim), "asking erases nothing"
    confirm = sender.text(victim, "确认删除我的数据")
    answer = reply_content(sender.open_reply(fans._say(sender, confirm)))
    assert "已删除" in answer and "1 块" in answer
    assert fans._say(sender, confirm) == "success"  # WeChat's retry: answered, nothing erased or counted twice
    pump.drain()
    assert traces(victim) == {}
    expected = dict(before)
    for key in ("fans:SQ001", "fans:unit:town", "fans:subtree:prov", "distinct:unit:town", "distinct:subtree:prov"):
        expected[key] -= 1
    assert counters.snapshot() == expected


def test_inactive_records_expire_and_come_back_without_expiry(fans, demo):
    """Retention: a cancelled or suspended subscription and an unfollowed fan carry a TTL; following or
    subscribing again removes it, so nothing he still uses can expire."""
    person = f"o-ttl-{uuid.uuid4().hex[:8]}"
    fans.follow(PLAIN_APPID, person, "NJ001")
    fans.text(PLAIN_APPID, person, "订阅 NJ002")
    fans.text(PLAIN_APPID, person, "退订 NJ002")
    key = f"{PLAIN_APPID}#{person}"
    assert Subscription.get(key, "NJ002").expires_at is not None
    assert Subscription.get(key, "NJ001").expires_at is None and Fan.get(PLAIN_APPID, person).expires_at is None
    fans.unfollow(PLAIN_APPID, person)
    assert Subscription.get(key, "NJ001").expires_at is not None
    assert Fan.get(PLAIN_APPID, person).expires_at is not None
    fans.follow(PLAIN_APPID, person)
    fans.text(PLAIN_APPID, person, "订阅 NJ002")
    assert Subscription.get(key, "NJ001").status == "active"
    assert Subscription.get(key, "NJ001").expires_at is None and Subscription.get(key, "NJ002").expires_at is None
    assert Fan.get(PLAIN_APPID, person).expires_at is None
