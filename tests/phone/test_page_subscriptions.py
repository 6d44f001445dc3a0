"""Subscribing from the page changes the very subscriptions the gateway uses; counts stay exact."""

from __future__ import annotations

from chalicelib.models import DailyStat, Fan, Screen, Subscription
from chalicelib.models.stats import china_day
from chalicelib.models.subscriptions import ACTIVE, CANCELLED, SUSPENDED, fan_key
from chalicelib.services.subscriptions.subscribing import MAX_SCREENS_PER_FAN
from tests.phone.conftest import PhoneBrowser, csrf_of
from tests.support import PLAIN_APPID

CENTRE = f"/m/{PLAIN_APPID}/subscribe"


def fans(screen_id: str) -> int:
    return Screen.get(screen_id).fan_count


def signed_in(browser: PhoneBrowser) -> str:
    page = browser.get(CENTRE)
    assert page.status_code == 200
    return csrf_of(page.body.decode())


def tap(browser: PhoneBrowser, token: str, screen_id: str, action: str, next_path: str = CENTRE):
    reply = browser.post_form(CENTRE, {"csrf": token, "screen": screen_id, "action": action, "next": next_path})
    assert reply.status_code == 303, reply.body
    return browser.get(reply.headers["Location"])


def test_page_and_gateway_share_one_subscription(browser, gw):
    gw.follow("o-page")
    token = signed_in(browser)
    page = tap(browser, token, "NJ001", "subscribe")
    assert "已订阅「市科技馆大厅」" in page.body.decode()
    assert fans("NJ001") == 1
    sub = Subscription.get(fan_key(PLAIN_APPID, "o-page"), "NJ001")
    assert sub.status == ACTIVE and sub.source == "page"
    assert Fan.get(PLAIN_APPID, "o-page").active_screens == {"NJ001"}
    assert DailyStat.get("screen#NJ001", china_day()).counter("subs_page") == 1

    # the gateway knows: a text command says he is already subscribed, and lists it
    assert "无需重复订阅" in gw.say(gw.sender.text("o-page", "订阅 NJ001"))
    assert fans("NJ001") == 1
    # he unsubscribes by text; the page shows it and offers to subscribe again
    assert "已退订" in gw.say(gw.sender.text("o-page", "退订 NJ001"))
    assert fans("NJ001") == 0
    body = browser.get(f"/m/{PLAIN_APPID}/mine").body.decode()
    assert "您还没有订阅大屏" in body
    # subscribes by QR scan, unsubscribes on the page
    gw.say(gw.sender.scan("o-page", "NJ002"))
    assert fans("NJ002") == 1
    page = tap(browser, token, "NJ002", "unsubscribe", f"/m/{PLAIN_APPID}/mine")
    assert "已退订「市图书馆」" in page.body.decode()
    assert fans("NJ002") == 0
    assert Subscription.get(fan_key(PLAIN_APPID, "o-page"), "NJ002").status == CANCELLED
    assert not Fan.get(PLAIN_APPID, "o-page").active_screens


def test_repeated_taps_and_unfollow_keep_counts_exact(browser, gw):
    gw.follow("o-page")
    token = signed_in(browser)
    for _ in range(3):  # double taps, a reload re-posting the form
        tap(browser, token, "NJ001", "subscribe")
        tap(browser, token, "SQ001", "subscribe")  # another unit's screen: units watch each other
    assert (fans("NJ001"), fans("SQ001")) == (1, 1)
    page = tap(browser, token, "NJ001", "subscribe")
    assert "您已经订阅了「市科技馆大厅」" in page.body.decode()
    # unfollowing suspends both; following again restores both (the gateway's rules)
    gw.say(gw.sender.unfollow("o-page"))
    assert (fans("NJ001"), fans("SQ001")) == (0, 0)
    assert Subscription.get(fan_key(PLAIN_APPID, "o-page"), "SQ001").status == SUSPENDED
    # while unfollowed, the page refuses to subscribe: pushes could not reach him
    refused = browser.post_form(CENTRE, {"csrf": token, "screen": "NJ002", "action": "subscribe"})
    assert refused.status_code == 403 and "请先关注公众号" in refused.body.decode()
    gw.follow("o-page")
    assert (fans("NJ001"), fans("SQ001"), fans("NJ002")) == (1, 1, 0)
    for _ in range(2):
        tap(browser, token, "NJ001", "unsubscribe")
    assert fans("NJ001") == 0 and Fan.get(PLAIN_APPID, "o-page").active_screens == {"SQ001"}


def test_many_fans_mixing_page_and_gateway(test_client, wechat, gw):
    people = [PhoneBrowser(test_client, openid=f"o-mix{i}") for i in range(6)]
    tokens = []
    for person in people:
        gw.follow(person.openid, scene="NJ001")  # all follow from the screen's QR code
        tokens.append(signed_in(person))
    for i, person in enumerate(people):
        tap(person, tokens[i], "NJ002", "subscribe")
        if i % 2:
            tap(person, tokens[i], "NJ001", "unsubscribe")
        if i % 3 == 0:
            gw.say(gw.sender.text(person.openid, "退订 NJ002"))
    assert fans("NJ001") == 3 == len(list(Subscription.active_by_screen.query("NJ001")))
    assert fans("NJ002") == 4 == len(list(Subscription.active_by_screen.query("NJ002")))


def test_fan_unknown_to_us_is_checked_with_wechat(browser, wechat):
    """He followed before the account was connected: WeChat's user info says he follows."""
    token = signed_in(browser)
    refused = browser.post_form(CENTRE, {"csrf": token, "screen": "NJ001", "action": "subscribe"})
    assert refused.status_code == 403 and "请先关注" in refused.body.decode()
    assert fans("NJ001") == 0
    wechat.follow(PLAIN_APPID, "o-page")
    tap(browser, token, "NJ001", "subscribe")
    fan = Fan.get(PLAIN_APPID, "o-page")
    assert fan.following and fan.active_screens == {"NJ001"} and fans("NJ001") == 1


def test_unknown_screen_and_limit(browser, gw):
    gw.follow("o-page")
    token = signed_in(browser)
    missing = browser.post_form(CENTRE, {"csrf": token, "screen": "ZZ999", "action": "subscribe"})
    assert missing.status_code == 404 and "找不到这块大屏" in missing.body.decode()
    garbage = browser.post_form(CENTRE, {"csrf": token, "screen": "<script>", "action": "subscribe"})
    assert garbage.status_code == 400
    Fan(PLAIN_APPID, "o-page", following=True, active_screens={f"X{i:03d}" for i in range(MAX_SCREENS_PER_FAN)}).save()
    page = tap(browser, token, "NJ001", "subscribe")
    assert f"最多订阅 {MAX_SCREENS_PER_FAN} 块" in page.body.decode() and fans("NJ001") == 0


def test_oversized_form_is_refused(browser, gw):
    gw.follow("o-page")
    token = signed_in(browser)
    reply = browser.post_form(CENTRE, {"csrf": token, "screen": "NJ001", "action": "subscribe", "pad": "x" * 5000})
    assert reply.status_code == 413 and fans("NJ001") == 0


def test_a_bad_next_is_refused_before_anything_is_written(browser, gw):
    """CR/LF (or any other place) in ``next`` is a 400 with the subscription untouched, never a 500 after it."""
    gw.follow("o-page")
    token = signed_in(browser)
    for bad in (
        f"{CENTRE}\r\nSet-Cookie: x=1",
        f"{CENTRE}\n",
        f"{CENTRE}%0d%0a\tx",
        "https://evil.example/",
        "//evil.example/m",
        f"/m/{PLAIN_APPID}/\x00subscribe",
    ):
        reply = browser.post_form(CENTRE, {"csrf": token, "screen": "NJ001", "action": "subscribe", "next": bad})
        assert reply.status_code == 400, (bad, reply.status_code)
        assert fans("NJ001") == 0, bad
    # a same-site path and no next at all still work
    assert "已订阅" in tap(browser, token, "NJ001", "subscribe", f"/m/{PLAIN_APPID}/mine").body.decode()
    reply = browser.post_form(CENTRE, {"csrf": token, "screen": "NJ001", "action": "unsubscribe"})
    assert reply.status_code == 303 and fans("NJ001") == 0
