"""Manifests: built from the tables by the queue consumer, idempotent, public, and cheap to poll."""

from __future__ import annotations

import json
from datetime import timedelta

import boto3

from chalicelib.aws import send_json
from chalicelib.models.base import utcnow
from chalicelib.models.screens import Screen
from chalicelib.settings import get_settings
from devstack.screens_local import publish, put_media, withdraw


def _object(screen_id: str) -> dict:
    return boto3.client("s3").get_object(Bucket=get_settings().player_bucket, Key=f"screens/{screen_id}/manifest.json")


def _manifest(screen_id: str) -> dict:
    return json.loads(_object(screen_id)["Body"].read())


def test_publish_builds_manifest_of_each_target_screen(demo, pump, player_key):
    Screen("NJ001").update(actions=[Screen.qr_url.set("http://weixin.qq.com/q/abc"), Screen.fan_count.set(7)])
    image = put_media(b"\x89PNG fake", "image/png", "png")
    publish(
        "c_notice",
        ["NJ001", "NJ002"],
        title="社区义诊通知",
        body="本周六<b>上午</b>9点<script>x()</script>",
        duration=20,
        weekly_windows=[{"days": [1, 2, 3], "start": "08:00", "end": "18:00"}],
    )
    publish("c_img", ["NJ001"], kind="image", title="科普图片", media=[image], duration=8)
    publish(
        "c_art",
        ["NJ001"],
        kind="article",
        title="文章",
        body='<p onclick="x()">正文<a href="javascript:x">链</a></p><img src=x onerror=alert(1)>',
    )
    pump.drain()

    obj = _object("NJ001")
    assert obj["CacheControl"] == "max-age=5"
    assert obj["ContentType"].startswith("application/json")
    m = json.loads(obj["Body"].read())
    assert m["schema"] == 1 and len(m["version"]) == 64
    assert m["api_base"] == get_settings().public_base_url
    assert m["poll_seconds"] == 10 and m["heartbeat_seconds"] == 30
    assert m["screen"] == {"id": "NJ001", "name": "市科技馆大厅", "unit_name": "市科协", "address": "鼓楼区北京东路1号"}
    assert m["fan_count"] == 7
    assert m["qr"]["url"] == "http://weixin.qq.com/q/abc" and m["qr"]["svg"].startswith("<svg")
    assert m["qr"]["caption"] == "微信扫码 订阅本屏"
    by_id = {i["content_id"]: i for i in m["items"]}
    assert set(by_id) == {"c_notice", "c_img", "c_art"}
    notice = by_id["c_notice"]
    assert notice["body"] == "本周六上午9点" and notice["duration"] == 20
    assert notice["weekly_windows"] == [{"days": [1, 2, 3], "start": "08:00", "end": "18:00"}]
    assert notice["unit_name"] == "市科协"
    assert by_id["c_img"]["media"] == [
        {"url": f"{get_settings().cdn_base_url}/media/{image['sha256']}.png", "type": "image/png"}
    ]
    article = by_id["c_art"]["body"]
    assert "<p>正文" in article and "onclick" not in article and "javascript" not in article and "<img" not in article
    assert [i["content_id"] for i in _manifest("NJ002")["items"]] == ["c_notice"]
    raw = json.dumps(m)
    assert player_key not in raw and "player_key" not in raw and "openid" not in raw
    assert Screen.get("NJ001").manifest_version == m["version"]


def test_rebuild_is_idempotent_and_skips_unchanged_versions(demo, pump):
    publish("c1", ["NJ001"], title="一")
    pump.drain()
    first = _object("NJ001")
    send_json(
        get_settings().manifest_queue_name, {"type": "rebuild", "screen_ids": ["NJ001"], "reason": "screen_updated"}
    )
    pump.drain()
    again = _object("NJ001")
    assert again["ETag"] == first["ETag"] and again["LastModified"] == first["LastModified"]  # no PUT happened


def test_one_rebuild_per_screen_per_batch(demo, pump, monkeypatch):
    from chalicelib.services.screens import manifests

    built: list[str] = []
    real = manifests.rebuild_screen
    monkeypatch.setattr(manifests, "rebuild_screen", lambda sid: built.append(sid) or real(sid))
    for n in range(5):
        publish(f"c{n}", ["NJ001", "NJ002"], title=f"第{n}条")
    pump.drain()
    assert sorted(built) == ["NJ001", "NJ002"]
    assert len(_manifest("NJ001")["items"]) == 5


def test_withdrawal_and_expiry_remove_items_urgent_first(demo, pump):
    publish("c_old", ["NJ001"], title="旧")
    publish("c_urgent", ["NJ001"], title="紧急", priority="urgent")
    publish("c_gone", ["NJ001"], title="已过期", valid_until=utcnow() - timedelta(minutes=1))
    publish("c_later", ["NJ001"], title="未开始", valid_from=utcnow() + timedelta(days=1))
    pump.drain()
    assert [i["content_id"] for i in _manifest("NJ001")["items"]] == ["c_urgent", "c_later", "c_old"]
    withdraw("c_urgent")
    pump.drain()
    assert [i["content_id"] for i in _manifest("NJ001")["items"]] == ["c_later", "c_old"]


def test_retargeting_moves_content_between_screens(demo, pump):
    content = publish("c1", ["NJ001"], title="一")
    pump.drain()
    content.update(actions=[content.__class__.screen_ids.set({"NJ002"}), content.__class__.revision.add(1)])
    send_json(
        get_settings().manifest_queue_name,
        {"type": "rebuild", "screen_ids": ["NJ001", "NJ002"], "reason": "content_updated", "content_id": "c1"},
    )
    pump.drain()
    assert _manifest("NJ001")["items"] == []
    assert [i["content_id"] for i in _manifest("NJ002")["items"]] == ["c1"]


def test_bad_messages_fail_to_the_dead_letter_queue(demo, pump):
    from chalicelib.resources import queue_specs

    spec = next(s for s in queue_specs(get_settings()) if s.key == "manifest")
    send_json(spec.name, {"type": "rebuild", "screen_ids": ["bad id!"], "reason": "x"})
    pump.drain(timeout=10)
    sqs = boto3.client("sqs")
    dlq = sqs.get_queue_url(QueueName=spec.dlq_name)["QueueUrl"]
    got = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])
    assert len(got) == 1 and "bad id!" in got[0]["Body"]
