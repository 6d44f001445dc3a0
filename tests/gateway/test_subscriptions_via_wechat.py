"""Following, scanning, unfollowing and text commands change subscriptions and fan counts exactly."""

from __future__ import annotations

import pytest

from chalicelib.models import DailyStat, Fan, Screen, Subscription
from chalicelib.models.stats import china_day
from chalicelib.models.subscriptions import ACTIVE, CANCELLED, SUSPENDED, fan_key
from tests.support import PLAIN_APPID, SAFE_APPID


def fans(screen_id: str) -> int:
    return Screen.get(screen_id).fan_count


@pytest.mark.parametrize("mode", ["plain", "compatible", "safe"])
def test_follow_from_screen_qr_subscribes_once(gateway, demo, mode):
    sender = demo.plain if mode == "plain" else demo.safe
    sender.mode = mode
    screen = "NJ001" if mode == "plain" else "SQ001"
    request = sender.follow("o-alice", scene=screen)
    reply = gateway.say(sender, request)
    assert "订阅成功" in reply or "成功订阅" in reply
    assert fans(screen) == 1
    sub = Subscription.get(fan_key(sender.appid, "o-alice"), screen)
    assert sub.status == ACTIVE and sub.source == "qr" and sub.subscribed_at is not None
    # WeChat retries the same delivery three times: same answer, nothing processed again
    for _ in range(3):
        assert gateway.say(sender, request) == reply
    assert fans(screen) == 1


def test_scan_by_existing_fan_and_repeat_scans(gateway, demo):
    demo.plain.mode = "plain"
    gateway.say(demo.plain, demo.plain.follow("o-bob"))
    assert fans("NJ002") == 0
    first = gateway.say(demo.plain, demo.plain.scan("o-bob", "NJ002"))
    assert "NJ002" in first and "订阅成功" in first
    again = gateway.say(demo.plain, demo.plain.scan("o-bob", "NJ002"))  # a new scan, not a retry
    assert "无需重复订阅" in again
    assert fans("NJ002") == 1
    assert DailyStat.get("screen#NJ002", china_day()).counter("subs_qr") == 1


def test_unfollow_suspends_and_follow_restores(gateway, demo):
    p = demo.plain
    gateway.say(p, p.follow("o-carol", scene="NJ001"))
    gateway.say(p, p.text("o-carol", "订阅 nj002"))
    assert (fans("NJ001"), fans("NJ002")) == (1, 1)
    assert gateway.say(p, p.unfollow("o-carol")) == ""
    assert (fans("NJ001"), fans("NJ002")) == (0, 0)
    assert Subscription.get(fan_key(PLAIN_APPID, "o-carol"), "NJ001").status == SUSPENDED
    fan = Fan.get(PLAIN_APPID, "o-carol")
    assert fan.following is False and fan.suspended_screens == {"NJ001", "NJ002"}
    reply = gateway.say(p, p.follow("o-carol"))
    assert "2 块大屏已为您恢复" in reply
    assert (fans("NJ001"), fans("NJ002")) == (1, 1)
    fan = Fan.get(PLAIN_APPID, "o-carol")
    assert fan.following and not fan.suspended_screens and fan.active_screens == {"NJ001", "NJ002"}


def test_text_commands_in_chinese_and_english(gateway, demo):
    p = demo.plain
    assert "订阅成功" in gateway.say(p, p.text("o-dan", "subscribe NJ001"))
    mine = gateway.say(p, p.text("o-dan", "我的订阅"))
    assert "市科技馆大厅" in mine and "NJ001" in mine
    assert "已退订" in gateway.say(p, p.text("o-dan", "退订 NJ001"))
    assert Subscription.get(fan_key(PLAIN_APPID, "o-dan"), "NJ001").status == CANCELLED
    assert fans("NJ001") == 0
    assert "没有订阅" in gateway.say(p, p.text("o-dan", "unsubscribe NJ001"))
    assert "还没有订阅" in gateway.say(p, p.text("o-dan", "my screens"))
    assert "订阅 编号" in gateway.say(p, p.text("o-dan", "help"))
    assert "没有找到编号" in gateway.say(p, p.text("o-dan", "订阅 XX999"))
    odd = gateway.say(p, p.text("o-dan", "今天天气怎么样"))
    assert "没有识别" in odd and "订阅 编号" in odd


def test_fan_may_subscribe_to_another_units_screen(gateway, demo):
    """Units watch each other: a fan of the city account subscribes to the community's screen."""
    p = demo.plain
    assert "订阅成功" in gateway.say(p, p.text("o-erin", "订阅 SQ001"))
    sub = Subscription.get(fan_key(PLAIN_APPID, "o-erin"), "SQ001")
    assert sub.appid == PLAIN_APPID and fans("SQ001") == 1


def test_menu_clicks_and_view(gateway, demo):
    s = demo.safe
    gateway.say(s, s.follow("o-fay", scene="SQ001"))
    assert "幸福社区服务中心" in gateway.say(s, s.click("o-fay", "MY_SCREENS"))
    assert "暂时没有新内容" in gateway.say(s, s.click("o-fay", "LATEST"))
    assert "订阅 编号" in gateway.say(s, s.click("o-fay", "HOW_TO_SUBSCRIBE"))
    assert gateway.say(s, s.view("o-fay", "https://kepu.example.cn/m/x")) == ""
    fan = Fan.get(SAFE_APPID, "o-fay")
    assert fan.last_interaction_at is not None


def test_template_receipt_is_stored_and_block_stops_template_channel(gateway, demo):
    from chalicelib.models import DeliveryReceipt

    p = demo.plain
    gateway.say(p, p.follow("o-gus"))
    assert gateway.say(p, p.template_finished("o-gus", 9001, "success")) == ""
    assert gateway.say(p, p.template_finished("o-gus", 9002, "failed:user block")) == ""
    assert DeliveryReceipt.get(PLAIN_APPID, "9001").status == "success"
    assert "template" in Fan.get(PLAIN_APPID, "o-gus").stopped_channels


def test_interleaved_events_keep_counts_exact(gateway, demo):
    p = demo.plain
    requests = []
    for i in range(6):
        requests.append(p.follow(f"o-{i}", scene="NJ001"))
        requests.append(p.text(f"o-{i}", "订阅 NJ002"))
    for i in range(0, 6, 2):
        requests.append(p.unfollow(f"o-{i}"))
    # deliver everything, then every request again (WeChat's retries), interleaved
    for request in requests + requests[::-1]:
        assert gateway.post(PLAIN_APPID, request).status_code == 200
    assert fans("NJ001") == 3 and fans("NJ002") == 3
    active = list(Subscription.active_by_screen.query("NJ001"))
    assert len(active) == 3
