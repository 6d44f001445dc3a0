"""Targets by unit, subtree or tag follow screen changes after publish (issue 11 item 3)."""

from __future__ import annotations

import json

import boto3
import pytest

from app import app
from chalicelib.resources import queue_specs
from chalicelib.settings import get_settings
from devstack.sqs_pump import SqsPump

V = "/api/v1"


@pytest.fixture
def pump(world):
    return SqsPump(app, specs=queue_specs(get_settings()), visibility_override=1, stage="test")


def shown(screen_id: str) -> list[str]:
    obj = boto3.client("s3").get_object(Bucket=get_settings().player_bucket, Key=f"screens/{screen_id}/manifest.json")
    return [item["content_id"] for item in json.loads(obj["Body"].read())["items"]]


def published(api, world, where: str, targets: dict, title: str = "社区义诊通知") -> str:
    r = api.post(f"{V}/content", {"unit_id": world.unit[where], "kind": "notice", "title": title,
                                  "body": "本周六上午9点", "targets": targets, "push": False})
    assert r.status_code == 201, r.data
    r = api.post(f"{V}/content/{r.data['content_id']}/publish")
    assert r.status_code == 200, r.data
    return r.data["content_id"]


def add_screen(api, world, code: str, where: str, account: str, tags=()) -> None:
    r = api.post(f"{V}/screens", {"screen_id": code, "unit_id": world.unit[where], "name": f"{code} 屏",
                                  "appid": world.appid[account], "tags": list(tags)})
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
