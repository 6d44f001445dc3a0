"""Which decision each message gets, read from wechatpy's typed message: no emulator needed.

The registry (``gateway.routes``) keys on wechatpy's classes; these tests
post nothing, they open signed messages as the callback does and look at the
route.  The emulator tests (test_subscriptions_via_wechat and the others)
check what each decision then writes and answers.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.services.gateway import commands, decisions
from chalicelib.services.gateway.routes import LoginRoute, ReceiptRoute, Route, route_for
from chalicelib.wechat.callback import CallbackKeys, open_message
from chalicelib.wechat.messages import qr_scene
from devstack.wechat_messages import WeChatSender

SENDER = WeChatSender(appid="wxroutes000000001", original_id="gh_routes", token="routes-token")
KEYS = CallbackKeys(token=SENDER.token)


def _open(xml: str):
    request = SENDER.sign(xml)
    return open_message(KEYS, SENDER.appid, SENDER.original_id, request.query, request.body)


def _event(**fields) -> str:
    return SENDER._xml("o-route", {"MsgType": "event", **fields})


CASES = {
    "follow": (lambda: _event(Event="subscribe"), Route, decisions.on_follow, None),
    "follow by a screen's QR code": (
        lambda: _event(Event="subscribe", EventKey="qrscene_nj001"),
        Route,
        decisions.on_follow,
        "NJ001",
    ),
    "follow by a sign-in QR code": (
        lambda: _event(Event="subscribe", EventKey="qrscene_login_ab12"),
        LoginRoute,
        decisions.on_follow,
        None,
    ),
    "scan of a screen's QR code": (lambda: _event(Event="SCAN", EventKey="NJ002"), Route, decisions.on_scan, "NJ002"),
    "scan of a sign-in QR code": (
        lambda: _event(Event="SCAN", EventKey="login_ab12"),
        LoginRoute,
        decisions.nothing,
        None,
    ),
    "unfollow": (lambda: _event(Event="unsubscribe", EventKey=""), Route, decisions.on_unfollow, None),
    "menu click": (lambda: _event(Event="CLICK", EventKey="LATEST"), Route, decisions.on_click, None),
    "menu link opened": (
        lambda: _event(Event="VIEW", EventKey="https://example.com/"),
        Route,
        decisions.on_other_event,
        None,
    ),
    "an event we do not know": (lambda: _event(Event="something_new"), Route, decisions.on_other_event, None),
    "wechatpy's own event name, not WeChat's": (
        lambda: _event(Event="subscribe_scan", EventKey="NJ001"),
        Route,
        decisions.on_other_event,
        None,
    ),
    "template receipt": (
        lambda: _event(Event="TEMPLATESENDJOBFINISH", MsgID=7, Status="success"),
        ReceiptRoute,
        decisions.on_template_receipt,
        None,
    ),
    "text command naming a screen": (
        lambda: SENDER._xml("o-route", {"MsgType": "text", "Content": "订阅 nj003", "MsgId": 1}),
        Route,
        decisions.on_text,
        "NJ003",
    ),
    "text without a screen": (
        lambda: SENDER._xml("o-route", {"MsgType": "text", "Content": "帮助", "MsgId": 2}),
        Route,
        decisions.on_text,
        None,
    ),
    "MsgType spelled otherwise": (
        lambda: SENDER._xml("o-route", {"MsgType": "TEXT", "Content": "订阅 nj003", "MsgId": 3}),
        Route,
        decisions.on_other_message,
        None,
    ),
    "image": (
        lambda: SENDER._xml(
            "o-route", {"MsgType": "image", "PicUrl": "https://example.com/a.png", "MediaId": "m", "MsgId": 4}
        ),
        Route,
        decisions.on_other_message,
        None,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_each_message_goes_to_its_decision(name):
    build, route_type, decide_fn, screen_code = CASES[name]
    route = route_for(_open(build()))
    assert type(route) is route_type
    assert route.decide_fn is decide_fn
    assert route.screen_code == screen_code


def test_sign_in_route_reads_the_scene_without_wechats_prefix():
    route = route_for(_open(_event(Event="subscribe", EventKey="qrscene_login_" + "a" * 80)))
    assert isinstance(route, LoginRoute) and route.scene == "login_" + "a" * 58  # WeChat's 64-character cap


def test_receipt_without_msgid_has_no_route():
    assert route_for(_open(_event(Event="TEMPLATESENDJOBFINISH", Status="success"))) is None


_KEY_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn")), max_size=40).filter(
    lambda s: s == s.strip() and "]]>" not in s
)  # the sender wraps fields in CDATA


@settings(max_examples=60, deadline=None, derandomize=True)
@given(key=st.one_of(_KEY_TEXT, _KEY_TEXT.map(lambda s: "qrscene_" + s)), event=st.sampled_from(["subscribe", "SCAN"]))
def test_qr_scene_is_the_event_key_with_one_prefix_removed(key, event):
    """Whatever the key, the scene a follow or scan names is its EventKey less one ``qrscene_``, as before."""
    inbound = _open(_event(Event=event, EventKey=key))
    assert qr_scene(inbound.message) == key.removeprefix("qrscene_")


@pytest.mark.parametrize(
    ("text", "name", "arg"),
    [
        ("订阅 NJ001", commands.SUBSCRIBE, "NJ001"),
        ("sub:nj001", commands.SUBSCRIBE, "nj001"),
        ("退订：NJ001", commands.UNSUBSCRIBE, "NJ001"),
        ("  我的大屏 ", commands.MINE, None),
        ("My Screens", commands.MINE, None),
        ("LATEST", commands.LATEST, None),
        ("？", commands.HELP, None),
        ("删除我的数据", commands.ERASE_ASK, None),
        ("确认删除我的数据", commands.ERASE, None),
        ("你好", commands.UNKNOWN, "你好"),
    ],
)
def test_text_commands(text, name, arg):
    assert commands.parse(text) == commands.Command(name, arg)
