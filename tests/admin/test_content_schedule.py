"""When content plays: urgent items end on their own (issue 11 item 7), weekly windows may run past
midnight (item 10).  Through the admin API, and into the manifest the player reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest

V = "/api/v1"


def _notice(world, **extra):
    body = {
        "unit_id": world.unit["city"],
        "kind": "notice",
        "title": "停水通知",
        "body": "今天14:00-18:00停水。",
        "category": "community_notice",
        "targets": {"units": [world.unit["city"]]},
        "push": False,
    }
    body.update(extra)
    return body


def _published(api, world, **extra):
    made = api.post(f"{V}/content", _notice(world, **extra))
    assert made.status_code == 201, made.data
    done = api.post(f"{V}/content/{made.data['content_id']}/publish", headers={"If-Match": made.headers["ETag"]})
    assert done.status_code == 200, done.data
    return done.data


def _manifest_item(screen_id: str, content_id: str) -> dict:
    from app import app
    from chalicelib.resources import queue_specs
    from chalicelib.settings import get_settings
    from devstack.sqs_pump import SqsPump

    SqsPump(app, specs=queue_specs(get_settings()), visibility_override=0, stage="test").drain()
    body = boto3.client("s3").get_object(Bucket=get_settings().player_bucket, Key=f"screens/{screen_id}/manifest.json")[
        "Body"
    ]
    return next(i for i in json.loads(body.read())["items"] if i["content_id"] == content_id)


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_urgent_item_without_an_end_holds_for_24_hours_and_says_so(api, world):
    item = _published(api, world, priority="urgent")
    published = _at(item["published_at"])
    assert _at(item["valid_until"]) == published + timedelta(hours=24)
    assert item["urgent_until"] == item["valid_until"]
    in_manifest = _manifest_item("CI000", item["content_id"])
    assert _at(in_manifest["urgent_until"]) == published + timedelta(hours=24)

    # editable: the editor gives the real end, and may change it while it is on screen
    end = (datetime.now(UTC) + timedelta(hours=3)).replace(microsecond=0)
    edited = api.patch(f"{V}/content/{item['content_id']}", {"valid_until": end.isoformat()})
    assert edited.status_code == 200, edited.data
    assert _at(edited.data["urgent_until"]) == end
    assert _at(_manifest_item("CI000", item["content_id"])["urgent_until"]) == end
    # removing the end does not make it hold forever
    cleared = api.patch(f"{V}/content/{item['content_id']}", {"valid_until": None})
    assert cleared.status_code == 200, cleared.data
    assert cleared.data["valid_until"] is not None
    assert _at(cleared.data["valid_until"]) > datetime.now(UTC) + timedelta(hours=23)


def test_urgent_item_with_its_own_end_and_normal_items_keep_theirs(api, world):
    end = (datetime.now(UTC) + timedelta(hours=5)).replace(microsecond=0)
    urgent = _published(api, world, priority="urgent", valid_until=end.isoformat())
    assert _at(urgent["valid_until"]) == end and _at(urgent["urgent_until"]) == end
    normal = _published(api, world)
    assert normal["valid_until"] is None and normal["urgent_until"] is None
    assert _manifest_item("CI000", normal["content_id"])["urgent_until"] is None


@pytest.mark.parametrize(
    "window",
    [
        {"days": [5], "start": "22:00", "end": "02:00"},
        {"days": [1, 2, 3, 4, 5, 6, 7], "start": "18:00", "end": "06:30"},
        {"days": [6], "start": "20:00", "end": "00:00"},
    ],
)
def test_weekly_windows_may_run_past_midnight(api, world, window):
    item = _published(api, world, weekly_windows=[window])
    assert item["weekly_windows"] == [window]
    assert _manifest_item("CI000", item["content_id"])["weekly_windows"] == [window]


@pytest.mark.parametrize(
    "window",
    [
        {"days": [5], "start": "08:00", "end": "08:00"},
        {"days": [5], "start": "24:00", "end": "06:00"},
        {"days": [5, 5], "start": "08:00", "end": "09:00"},
    ],
)
def test_empty_or_malformed_windows_are_refused(api, world, window):
    r = api.post(f"{V}/content", _notice(world, weekly_windows=[window]))
    assert r.status_code == 400, r.data
