"""Subscription accounts: customer-service messages inside WeChat's windows only, the rest waits as unread."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.models import Account, Content, Fan
from chalicelib.models.content import PUBLISHED
from chalicelib.models.push import PushJob
from chalicelib.services.push import digest as push_digest
from tests.push.conftest import CUSTOM_PATH, seed_fans
from tests.support import SAFE_APPID


def safe_fan(openid: str) -> Fan:
    return Fan.get(SAFE_APPID, openid, consistent_read=True)


def publish_content(push, title: str) -> str:
    job_id = push.publish(["SQ001"], title=title, unit_id="town")
    content_id = job_id.split(":")[0]
    Content(
        content_id, unit_id="town", kind="notice", title=title, status=PUBLISHED, published_at=datetime.now(UTC)
    ).save()
    push.drain()
    return content_id


def customs(push, openid: str) -> list[dict]:
    return [m for m in push.received(openid) if m["channel"] == "custom"]


def test_one_minute_window_after_a_follow_then_unread_shown_first_in_latest(push, gateway, demo):
    s = demo.safe
    gateway.say(s, s.follow("o-new", scene="SQ001"))
    push.standin.follow(SAFE_APPID, "o-new")  # WeChat opens its window on the same follow
    ids = [publish_content(push, f"第{i}条科普") for i in range(1, 5)]
    assert [m["payload"]["news"]["articles"][0]["title"] for m in customs(push, "o-new")] == [
        "第1条科普",
        "第2条科普",
        "第3条科普",
    ]
    fan = safe_fan("o-new")
    assert fan.unread_content == {ids[3]} and fan.cs_event_sent == 3
    assert PushJob.get(f"{ids[3]}:1").queued_unread == 1
    assert len(push.standin.calls(CUSTOM_PATH)) == 3  # the fourth never reached WeChat

    reply = gateway.say(s, s.click("o-new", "LATEST"))
    first_line = reply.splitlines()[1]
    assert "【新】第4条科普" in first_line
    assert not safe_fan("o-new").unread_content  # delivered, so cleared in the same transaction
    assert "【新】" not in gateway.say(s, s.click("o-new", "LATEST"))


def test_48_hour_window_after_a_message_allows_five(push, gateway, demo):
    s = demo.safe
    gateway.say(s, s.text("o-talk", "订阅 SQ001"))
    push.standin.follow(SAFE_APPID, "o-talk")
    push.standin.record_interaction(SAFE_APPID, "o-talk", "message")
    push.standin.advance_clock(120)  # WeChat's 1-minute follow window is over; the 48-hour one is not
    ids = [publish_content(push, f"消息{i}") for i in range(6)]
    push.standin.advance_clock(-120)
    assert len(customs(push, "o-talk")) == 5
    fan = safe_fan("o-talk")
    assert fan.unread_content == {ids[5]} and fan.cs_msg_sent == 5


def test_outside_every_window_nothing_is_sent_and_the_item_waits(push):
    long_ago = datetime.now(UTC) - timedelta(minutes=3)
    seed_fans(push.standin, SAFE_APPID, ["SQ001"], ["o-quiet"], last_interaction_at=long_ago)
    content_id = publish_content(push, "安静的粉丝")
    assert push.standin.calls(CUSTOM_PATH) == []
    assert safe_fan("o-quiet").unread_content == {content_id}


def test_wechat_closing_the_window_parks_the_item_and_closes_ours(push):
    seed_fans(push.standin, SAFE_APPID, ["SQ001"], ["o-closed", "o-open"], last_message_at=datetime.now(UTC))
    push.standin.inject_failure(45015, path=CUSTOM_PATH, openid="o-closed")
    first = publish_content(push, "窗口关闭")
    assert safe_fan("o-closed").unread_content == {first} and safe_fan("o-closed").cs_msg_sent == 5
    second = publish_content(push, "窗口仍关闭")
    assert len([c for c in push.standin.calls(CUSTOM_PATH) if c["body"]["touser"] == "o-closed"]) == 1
    assert safe_fan("o-closed").unread_content == {first, second}
    assert len(customs(push, "o-open")) == 2


def test_daily_digest_by_tag_is_sent_once(push):
    Account.get(SAFE_APPID).update(actions=[Account.digest_tag_id.set(7)])
    long_ago = datetime.now(UTC) - timedelta(hours=50)
    seed_fans(push.standin, SAFE_APPID, ["SQ001"], ["o-d1", "o-d2"], last_interaction_at=long_ago)
    for openid in ("o-d1", "o-d2"):
        push.standin.tag_user(SAFE_APPID, openid, 7)
    publish_content(push, "今日要闻")
    assert push_digest.send_all_digests() == {SAFE_APPID: "sent"}
    (digest,) = [m for m in push.received("o-d1") if m["channel"] == "mass"]
    assert "今日要闻" in digest["payload"]["text"]["content"]
    assert digest["payload"]["clientmsgid"].startswith("kepu-digest-")
    assert push_digest.send_all_digests() == {SAFE_APPID: "already"}
    # Even if our record were lost, WeChat refuses the same clientmsgid: still one digest
    from chalicelib.models.push import PushQuota
    from chalicelib.services.push.policy import quota_day

    PushQuota(SAFE_APPID, quota_day(datetime.now(UTC))).update(actions=[PushQuota.digest_sent.remove()])
    assert push_digest.send_all_digests() == {SAFE_APPID: "already"}
    assert len([m for m in push.received("o-d2") if m["channel"] == "mass"]) == 1
