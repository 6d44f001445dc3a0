"""Subscription accounts (订阅号) have no web authorization, but the page often knows the fan: a push
link or a signed link from the account's own reply names him (issue 11 item 17).  Wherever it does,
the pages show his state: 已订阅 on his screens, 订阅 (by reply) on the others."""

from __future__ import annotations

import re

from chalicelib import links
from chalicelib.models import Fan
from tests.phone.conftest import PhoneBrowser, publish
from tests.support import SAFE_APPID


def _text(response) -> str:
    assert response.status_code == 200, response.body
    return response.body.decode()


def _card(body: str, screen_id: str) -> str:
    for card in re.findall(r'<article class="card">.*?</article>', body, re.S):
        if f">{screen_id}<" in card:
            return card
    raise AssertionError(f"no card for {screen_id}")


def test_a_push_link_fan_sees_his_state_on_every_page(test_client, demo):
    publish("c_sq", "社区通知", screens=["SQ001"], unit_id="town")
    Fan(SAFE_APPID, "o-sub", following=True, active_screens={"SQ001"}).save()
    reader = PhoneBrowser(test_client)
    reader.get(links.push_link(SAFE_APPID, "o-sub", "c_sq"))
    centre = _text(reader.get(links.subscription_centre(SAFE_APPID)))
    assert "已订阅" in _card(centre, "SQ001")
    mirror = _text(reader.get(links.screen_mirror(SAFE_APPID, "SQ001")))
    assert "您已订阅这块大屏" in mirror and "已订阅" in mirror
    mine = _text(reader.get(links.my_screens(SAFE_APPID)))
    assert "幸福社区服务中心" in mine and "已订阅" in _card(mine, "SQ001")


def test_links_in_a_subscription_accounts_replies_name_the_fan(test_client, demo):
    from chalice.test import Client

    from app import app
    from tests.phone.conftest import FanActions

    with Client(app) as client:
        fan = FanActions(client, demo.safe)
        welcome = fan.follow("o-reply", scene="SQ001")
        assert welcome
        reply = fan.say(demo.safe.text("o-reply", "我的大屏"))
    mine_url = next(u for u in re.findall(r"https?://\S+", reply) if "/mine" in u)
    assert "t=" in mine_url
    reader = PhoneBrowser(test_client)
    first = reader.get(mine_url, follow=False)
    assert first.status_code == 302 and "t=" not in first.headers["Location"]  # the token leaves the address bar
    mine = _text(reader.get(mine_url))
    assert "已订阅" in _card(mine, "SQ001")
    centre = _text(reader.get(links.subscription_centre(SAFE_APPID)))
    assert "已订阅" in _card(centre, "SQ001")
    # a link session reads as the fan, it never changes subscriptions (a forwarded reply carries it)
    assert "<form" not in _card(centre, "SQ001")
    # a forged or foreign token: the page, anonymously
    stranger = PhoneBrowser(test_client)
    forged = _text(stranger.get(links.my_screens(SAFE_APPID) + "?t=forged"))
    assert "幸福社区服务中心" not in forged
