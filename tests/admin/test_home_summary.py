"""``GET /units/{id}/summary``: the console's home page from counters, within its DynamoDB request budget.

The world (tests/admin/world.py): province → city → district, and a sibling
branch ``town``; one screen and one templated service account per unit.
Screens report through the screen API, the schedule marks who went quiet,
the screens stream is pumped into the home feed as Lambda would; the budget
is counted with botocore's own calls (deterministic, no timing).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import app
from bench.harness import AwsRequestCounter
from chalicelib.handlers.operations import measure_screens
from chalicelib.models import Screen
from chalicelib.services.analytics import scopes
from chalicelib.services.content import workflow as content
from chalicelib.services.gateway import accounts
from chalicelib.services.screens import registry as screens
from devstack.stream_pump import StreamPump
from tests.admin.world import SECRET, TOKEN

V = "/api/v1"
BUDGET = 10


@pytest.fixture
def pump(world):
    scopes.clear()
    pump = StreamPump(app, stage="test")
    pump.drain()
    yield pump
    scopes.clear()


def _beat(api, screen_id: str, key: str) -> None:
    r = api.client.http.post(
        f"/screens/{screen_id}/heartbeat", body=json.dumps({"player_key": key}), headers={"Content-Type": "text/plain"}
    )
    assert r.status_code == 200, r.body


def _new_screen(world, unit: str, code: str) -> str:
    return screens.create(
        world.root, {"screen_id": code, "unit_id": world.unit[unit], "name": f"{code} 大厅", "appid": world.appid[unit]}
    )[1]


def test_the_summary_counts_screens_review_publishes_and_alerts_of_the_subtree_only(api, world, pump):
    keys = {
        code: _new_screen(world, unit, code)
        for unit, code in (("city", "CY-ON"), ("district", "DI-OFF"), ("district", "DI-LONG"), ("town", "TW-ON"))
    }
    for code, key in keys.items():
        _beat(api, code, key)
    # an hour and a half ago for DI-LONG, ten minutes for DI-OFF: the schedule marks them
    for code, ago in (("DI-LONG", timedelta(minutes=90)), ("DI-OFF", timedelta(minutes=10))):
        Screen(code).update(actions=[Screen.last_seen.set(datetime.now(UTC) - ago)])
    measure_screens()
    # a subscription account without templates has a channel (customer-service messages); a bare service one not
    for appid, kind in (("wxsubscr0000001", "subscription"), ("wxservic0000001", "service")):
        accounts.create(
            world.root,
            {
                "appid": appid,
                "unit_id": world.unit["district"],
                "name": f"{kind}号",
                "original_id": "gh_abcdef00",
                "app_secret": SECRET,
                "token": TOKEN,
                "account_type": kind,
            },
        )
    pending = content.create(
        world.root,
        {
            "unit_id": world.unit["district"],
            "kind": "notice",
            "title": "待审通知",
            "body": "停水",
            "targets": {"units": [world.unit["district"]]},
            "push": False,
        },
    )
    content.transition(world.root, pending.content_id, "submit", None)
    published = content.create(
        world.root,
        {
            "unit_id": world.unit["city"],
            "kind": "notice",
            "title": "已发通知",
            "body": "停电",
            "targets": {"units": [world.unit["city"]]},
        },
    )
    content.transition(world.root, published.content_id, "publish", None)
    elsewhere = content.create(
        world.root,
        {
            "unit_id": world.unit["town"],
            "kind": "notice",
            "title": "别处",
            "body": "x",
            "targets": {"units": [world.unit["town"]]},
            "push": False,
        },
    )
    content.transition(world.root, elsewhere.content_id, "submit", None)
    pump.drain()

    r = api.as_(world.keys["viewer"]).get(f"{V}/units/{world.unit['city']}/summary")
    assert r.status_code == 200, r.body
    body = r.data
    # the city's world screen (CI000, never reported) and DI001 count in the total
    assert body["screens"] == {"total": 5, "online": 1, "offline": 2, "offline_over_1h": 1, "never_seen": 2}
    assert [s["screen_id"] for s in body["alerts"]["offline_screens"]["items"]] == ["DI-LONG"]
    assert body["alerts"]["offline_screens"]["items"][0]["name"] == "DI-LONG 大厅"
    assert [a["appid"] for a in body["alerts"]["no_push_channel"]["items"]] == ["wxservic0000001"]
    assert body["pending_review"]["count"] == 1
    assert body["pending_review"]["items"][0]["title"] == "待审通知"
    assert [p["content_id"] for p in body["recent_publishes"]] == [published.content_id]
    assert body["recent_publishes"][0]["push"]["state"] in ("queued", "planning", "sending", "done")

    # the sibling branch's viewer sees nothing of the city: the same 404 as a missing unit
    town_viewer = _viewer_of(world, "town")
    assert api.as_(town_viewer).get(f"{V}/units/{world.unit['city']}/summary").status_code == 404

    # a heartbeat brings DI-LONG back; rejecting the pending item clears the queue
    _beat(api, "DI-LONG", keys["DI-LONG"])
    content.transition(world.root, pending.content_id, "reject", None, reason="改一下")
    pump.drain()
    body = api.get(f"{V}/units/{world.unit['city']}/summary").data
    assert body["screens"]["online"] == 2 and body["screens"]["offline_over_1h"] == 0
    assert body["alerts"]["offline_screens"]["count"] == 0
    assert body["pending_review"]["count"] == 0
    # the account gets a template: its alert goes
    account = accounts.get(world.root, "wxservic0000001")
    accounts.update(world.root, account.appid, {"template_id": "tmpl-1"}, account.revision)
    assert api.get(f"{V}/units/{world.unit['city']}/summary").data["alerts"]["no_push_channel"]["count"] == 0


def test_moving_and_deleting_screens_keeps_the_presence_counters_true(api, world, pump):
    key = _new_screen(world, "district", "MV-1")
    _beat(api, "MV-1", key)
    pump.drain()
    city, town = world.unit["city"], world.unit["town"]
    assert api.get(f"{V}/units/{city}/summary").data["screens"]["online"] == 1
    screens.update(
        world.root, "MV-1", {"unit_id": town, "appid": world.appid["town"]}, screens.get(world.root, "MV-1").revision
    )
    pump.drain()
    assert api.get(f"{V}/units/{city}/summary").data["screens"]["online"] == 0
    assert api.get(f"{V}/units/{town}/summary").data["screens"]["online"] == 1
    screens.delete(world.root, "MV-1", screens.get(world.root, "MV-1").revision)
    pump.drain()
    assert api.get(f"{V}/units/{town}/summary").data["screens"]["online"] == 0


def test_moving_a_unit_carries_its_screens_review_queue_alerts_and_publishes_to_its_new_superiors(api, world, pump):
    """Formerly the moved subtree's facts stayed with the old superiors until an operator's rebuild."""
    key = _new_screen(world, "district", "MU-ON")
    _beat(api, "MU-ON", key)
    accounts.create(
        world.root,
        {
            "appid": "wxmoving0000001",
            "unit_id": world.unit["district"],
            "name": "无模板号",
            "original_id": "gh_abcdef01",
            "app_secret": SECRET,
            "token": TOKEN,
            "account_type": "service",
        },
    )
    pending = content.create(
        world.root,
        {
            "unit_id": world.unit["district"],
            "kind": "notice",
            "title": "待审",
            "body": "x",
            "targets": {"units": [world.unit["district"]]},
            "push": False,
        },
    )
    content.transition(world.root, pending.content_id, "submit", None)
    shown = content.create(
        world.root,
        {
            "unit_id": world.unit["district"],
            "kind": "notice",
            "title": "已发",
            "body": "y",
            "targets": {"units": [world.unit["district"]]},
            "push": False,
        },
    )
    content.transition(world.root, shown.content_id, "publish", None)
    pump.drain()
    city, town, prov = world.unit["city"], world.unit["town"], world.unit["prov"]
    before = {u: api.get(f"{V}/units/{u}/summary").data for u in (city, town, prov)}
    assert before[city]["screens"]["online"] == 1 and before[city]["pending_review"]["count"] == 1

    r = api.patch(f"{V}/units/{world.unit['district']}", {"parent_id": town})
    assert r.status_code == 200, r.data
    pump.drain()
    after = {u: api.get(f"{V}/units/{u}/summary").data for u in (city, town, prov)}
    assert after[city]["screens"]["online"] == 0 and after[town]["screens"]["online"] == 1
    assert after[city]["pending_review"]["count"] == 0
    assert [i["title"] for i in after[town]["pending_review"]["items"]] == ["待审"]
    assert "wxmoving0000001" not in [a["appid"] for a in after[city]["alerts"]["no_push_channel"]["items"]]
    assert "wxmoving0000001" in [a["appid"] for a in after[town]["alerts"]["no_push_channel"]["items"]]
    assert shown.content_id not in [p["content_id"] for p in after[city]["recent_publishes"]]
    assert shown.content_id in [p["content_id"] for p in after[town]["recent_publishes"]]
    # the province holds the subtree before and after: nothing changes there
    assert after[prov]["screens"] == before[prov]["screens"]
    assert after[prov]["pending_review"]["count"] == before[prov]["pending_review"]["count"]


def _viewer_of(world, unit: str) -> str:
    from chalicelib.services.access import users

    member = users.create(world.root, {"unit_id": world.unit[unit], "name": "旁支"})
    users.grant(world.root, member.user_id, world.unit[unit], "viewer")
    return users.issue_key(world.root, member.user_id, "test")[1]


def _grow(world, screens_per_unit: int, items_per_unit: int, tag: str) -> None:
    """More screens (reporting) and content (pending and published) in every unit of the city's subtree."""
    for unit in ("city", "district"):
        for n in range(screens_per_unit):
            screens.create(
                world.root,
                {
                    "screen_id": f"{tag}{unit[:2].upper()}{n:03d}",
                    "unit_id": world.unit[unit],
                    "name": "屏",
                    "appid": world.appid[unit],
                },
            )
        for n in range(items_per_unit):
            item = content.create(
                world.root,
                {
                    "unit_id": world.unit[unit],
                    "kind": "notice",
                    "title": f"第{n}条",
                    "body": "x",
                    "targets": {"units": [world.unit[unit]]},
                    "push": False,
                },
            )
            content.transition(world.root, item.content_id, "submit" if n % 2 else "publish", None)


def test_the_summary_stays_within_its_request_budget_whatever_the_subtree_holds(api, world, pump):
    counter = AwsRequestCounter()
    path = f"{V}/units/{world.unit['city']}/summary"
    counts = []
    for size in (2, 12):
        _grow(world, size, size, tag=f"G{size}")
        pump.drain()
        api.get(path)  # warm: what a Lambda keeps between requests
        counter.install()
        try:
            with counter.measure() as used:
                r = api.get(path)
        finally:
            counter.uninstall()
        assert r.status_code == 200
        counts.append(AwsRequestCounter.total(used, "dynamodb"))
    assert counts[0] == counts[1], counts  # six times the screens and items: not one request more
    assert counts[1] <= BUDGET, counts


_examples = iter(range(10_000))


def _records_say(world, unit: str) -> dict[str, int]:
    """Presence counted afresh from the screen records of the unit's subtree (what the counters must equal)."""
    from chalicelib.models import Unit

    path = Unit.get(world.unit[unit]).path
    paths = {u.unit_id: u.path for u in Unit.scan()}
    counts = {"online": 0, "offline": 0, "offline_over_1h": 0}
    for screen in Screen.scan():
        if paths.get(screen.unit_id, "").startswith(path) and screen.presence:
            counts["offline_over_1h" if screen.presence == "long_offline" else screen.presence] += 1
    counts["offline"] += counts["offline_over_1h"]
    return counts


OPS = ("beat", "quiet_10m", "quiet_2h", "move", "delete")


@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 2)), min_size=1, max_size=7))
def test_presence_counters_equal_the_records_after_any_history(api, world, pump, steps):
    """Heartbeats, silences the schedule notices, moves between branches and deletions in any order."""
    tag = f"H{next(_examples):03d}"
    units = ["city", "district", "town"]
    keys = {f"{tag}-{i}": _new_screen(world, units[i], f"{tag}-{i}") for i in range(3)}
    where = {code: units[i] for i, code in enumerate(keys)}
    for op, index in steps:
        code = f"{tag}-{index}"
        if code not in where:
            continue
        if op == "beat":
            _beat(api, code, keys[code])
        elif op.startswith("quiet"):
            ago = timedelta(minutes=10) if op == "quiet_10m" else timedelta(hours=2)
            Screen(code).update(actions=[Screen.last_seen.set(datetime.now(UTC) - ago)])
            measure_screens()
        elif op == "move":
            target = "town" if where[code] != "town" else "district"
            screens.update(
                world.root,
                code,
                {"unit_id": world.unit[target], "appid": world.appid[target]},
                screens.get(world.root, code).revision,
            )
            where[code] = target
        elif op == "delete":
            screens.delete(world.root, code, screens.get(world.root, code).revision)
            del where[code]
    pump.drain()
    for unit in ("city", "town"):
        shown = api.get(f"{V}/units/{world.unit[unit]}/summary").data
        figures = {k: shown["screens"][k] for k in ("online", "offline", "offline_over_1h")}
        assert figures == _records_say(world, unit), (unit, steps)
        assert shown["alerts"]["offline_screens"]["count"] == figures["offline_over_1h"]


def test_the_rebuild_tool_writes_the_same_feed_from_the_records(api, world, pump):
    from chalicelib.models.home import HomeEntry
    from chalicelib.services.analytics import home_feed_rebuild

    key = _new_screen(world, "district", "RB-1")
    _beat(api, "RB-1", key)
    Screen("RB-1").update(actions=[Screen.last_seen.set(datetime.now(UTC) - timedelta(hours=3))])
    measure_screens()
    accounts.create(
        world.root,
        {
            "appid": "wxrebuild000001",
            "unit_id": world.unit["district"],
            "name": "无模板号",
            "original_id": "gh_abcdef01",
            "app_secret": SECRET,
            "token": TOKEN,
        },
    )
    item = content.create(
        world.root,
        {
            "unit_id": world.unit["city"],
            "kind": "notice",
            "title": "待审",
            "body": "x",
            "targets": {"units": [world.unit["city"]]},
            "push": False,
        },
    )
    content.transition(world.root, item.content_id, "submit", None)
    pump.drain()
    path = f"{V}/units/{world.unit['city']}/summary"

    def shown() -> dict:
        body = api.get(path).data
        return {k: body[k] for k in ("screens", "pending_review", "recent_publishes", "alerts")}

    before = shown()
    with HomeEntry.batch_write() as batch:
        for entry in HomeEntry.scan():
            batch.delete(entry)
    assert shown() != before  # nothing left to show
    home_feed_rebuild.rebuild()
    after = shown()
    for entries in (before, after):  # "submitted" is when it was submitted; the rebuild knows its last update
        for row in entries["pending_review"]["items"]:
            row.pop("submitted_at")
    assert after == before
