"""Targets by unit, subtree or tag follow screen changes after publish (issue 11 item 3)."""

from __future__ import annotations

import itertools
import json

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import app
from chalicelib.models import Content
from chalicelib.resources import queue_specs
from chalicelib.services.content import rules as content_rules
from chalicelib.settings import get_settings
from devstack.sqs_pump import SqsPump
from tests.admin.world import if_match

V = "/api/v1"


@pytest.fixture
def pump(world):
    return SqsPump(app, specs=queue_specs(get_settings()), visibility_override=1, stage="test")


def shown(screen_id: str) -> list[str]:
    obj = boto3.client("s3").get_object(Bucket=get_settings().player_bucket, Key=f"screens/{screen_id}/manifest.json")
    return [item["content_id"] for item in json.loads(obj["Body"].read())["items"]]


def published(api, world, where: str, targets: dict, title: str = "社区义诊通知") -> str:
    r = api.post(
        f"{V}/content",
        {
            "unit_id": world.unit[where],
            "kind": "notice",
            "title": title,
            "body": "本周六上午9点",
            "targets": targets,
            "push": False,
        },
    )
    assert r.status_code == 201, r.data
    r = api.post(f"{V}/content/{r.data['content_id']}/publish", headers=if_match(api, r.data["content_id"]))
    assert r.status_code == 200, r.data
    return r.data["content_id"]


def add_screen(api, world, code: str, where: str, account: str, tags=()) -> None:
    r = api.post(
        f"{V}/screens",
        {
            "screen_id": code,
            "unit_id": world.unit[where],
            "name": f"{code} 屏",
            "appid": world.appid[account],
            "tags": list(tags),
        },
    )
    assert r.status_code == 201, r.data


def test_a_screen_added_after_publishing_shows_what_its_unit_and_tags_were_sent(api, world, pump):
    by_unit = published(api, world, "city", {"units": [world.unit["city"]]}, "发给市科协全部大屏")
    by_tag = published(api, world, "city", {"tags": ["lobby"]}, "发给大厅")
    other = published(api, world, "town", {"units": [world.unit["town"]]}, "社区自己的")
    add_screen(api, world, "NEW01", "district", "district", tags=["lobby"])
    pump.drain(timeout=30)
    assert sorted(shown("NEW01")) == sorted([by_unit, by_tag])
    assert other not in shown("NEW01")
    assert "NEW01" in api.get(f"{V}/content/{by_unit}").data["screen_ids"]


def test_a_tag_change_adds_and_removes_tag_targeted_content(api, world, pump):
    add_screen(api, world, "HAL01", "city", "city", tags=["hall"])
    by_tag = published(api, world, "city", {"tags": ["hall"]}, "发给大厅")  # CI000 is only lobby yet
    pump.drain(timeout=30)
    assert by_tag not in shown("CI000")
    assert api.patch(f"{V}/screens/CI000", {"tags": ["lobby", "hall"]}).status_code == 200
    pump.drain(timeout=30)
    assert by_tag in shown("CI000")
    assert api.patch(f"{V}/screens/CI000", {"tags": ["lobby"]}).status_code == 200
    pump.drain(timeout=30)
    assert by_tag not in shown("CI000") and by_tag in shown("HAL01")
    assert api.get(f"{V}/content/{by_tag}").data["screen_ids"] == ["HAL01"]


def test_a_moved_screen_and_a_moved_unit_take_their_new_superiors_content(api, world, pump):
    add_screen(api, world, "MV001", "district", "city")
    district_only = published(api, world, "district", {"units": [world.unit["district"]]}, "区里的")
    city_wide = published(api, world, "city", {"units": [world.unit["city"]]}, "市里的")
    town_wide = published(api, world, "town", {"units": [world.unit["town"]]}, "社区的")
    pump.drain(timeout=30)
    assert sorted(shown("MV001")) == sorted([district_only, city_wide])

    assert api.patch(f"{V}/screens/MV001", {"unit_id": world.unit["city"]}).status_code == 200
    pump.drain(timeout=30)
    assert shown("MV001") == [city_wide]

    r = api.patch(f"{V}/units/{world.unit['district']}", {"parent_id": world.unit["town"]})
    assert r.status_code == 200, r.data
    pump.drain(timeout=30)
    assert sorted(shown("DI001")) == sorted([district_only, town_wide])
    assert "DI001" not in api.get(f"{V}/content/{city_wide}").data["screen_ids"]


_runs = itertools.count()
UNITS = ("city", "district", "town")
TAGS = ([], ["lobby"], ["hall"], ["lobby", "hall"])


@settings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(("create", "move", "tag")), st.sampled_from(UNITS), st.sampled_from(TAGS), st.integers(0, 3)
        ),
        min_size=1,
        max_size=5,
    )
)
def test_screen_ids_always_equal_what_the_targets_name_now(api, world, steps):
    """Invariant: after any screen creations, moves and tag changes, each published item's screen_ids is
    exactly what resolving its targets afresh gives (the set publish would compute today)."""
    run = next(_runs)
    items = [
        published(api, world, where, targets, f"性质测试{run}")
        for where, targets in (
            ("city", {"units": [world.unit["district"]]}),
            ("city", {"tags": ["hall", "lobby"]}),
            ("city", {"units": [world.unit["city"]]}),
            ("town", {"tags": ["lobby"]}),
        )
    ]
    made: list[str] = []
    for n, (action, where, tags, pick) in enumerate(steps):
        if action == "create" or not made:
            code = f"P{run}X{n}"
            account = "town" if where == "town" else "city"
            add_screen(api, world, code, where, account, tags=tags)
            made.append(code)
        elif action == "move":  # may be refused (400) where the account would not fit: then nothing changes
            api.patch(f"{V}/screens/{made[pick % len(made)]}", {"unit_id": world.unit[where]})
        else:
            assert api.patch(f"{V}/screens/{made[pick % len(made)]}", {"tags": tags}).status_code == 200
        for content_id in items:
            now_named = sorted(content_rules.resolve_screens(Content.get(content_id, consistent_read=True)))
            assert api.get(f"{V}/content/{content_id}").data["screen_ids"] == now_named, (action, content_id)
