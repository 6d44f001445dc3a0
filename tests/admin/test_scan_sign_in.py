"""Scan to sign in with WeChat: a one-time temporary QR code matched to the waiting page (issue 14)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from chalice.test import Client

from app import app
from chalicelib.models import LoginTicket
from chalicelib.services.access import users
from chalicelib.services.shared.writes import now
from devstack.wechat_messages import reply_content
from tests.support import PLAIN_APPID


@pytest.fixture
def client(wechat):
    with Client(app) as c:
        yield c


@pytest.fixture
def staff(demo):
    """An editor on city (whose account is the sign-in account: the root has none), with an API key."""
    person = users.create(None, {"unit_id": "city", "name": "扫码编辑"}, actor="test")
    users.grant(None, person.user_id, "city", "editor", actor="test")
    return person.user_id, users.issue_key(None, person.user_id, "t", actor="test")[1]


def post(client, path, body=None, headers=None):
    r = client.http.post(
        path, headers={"Content-Type": "application/json", **(headers or {})}, body=json.dumps(body or {})
    )
    r.data = json.loads(r.body) if r.body else None
    return r


def scan(client, demo, wechat, qr_url: str, openid: str, follow: bool = False) -> str:
    scene = wechat.qrcode_scene(qr_url)
    request = demo.plain.follow(openid, scene=scene) if follow else demo.plain.scan(openid, scene)
    r = client.http.post(
        f"/wechat/{PLAIN_APPID}?{request.query_string}", headers={"Content-Type": "text/xml"}, body=request.body
    )
    assert r.status_code == 200
    return reply_content(demo.plain.open_reply(r.body.decode()))


def bind(client, demo, wechat, key: str, openid: str) -> None:
    started = post(client, "/api/v1/auth/wechat/bind", headers={"Authorization": f"Bearer {key}"})
    assert started.status_code == 201, started.data
    assert "绑定" in scan(client, demo, wechat, started.data["qr_url"], openid)
    polled = post(
        client, f"/api/v1/auth/wechat/{started.data['scene']}/poll", {"poll_token": started.data["poll_token"]}
    )
    assert polled.data["status"] == "bound"


def test_a_bound_user_signs_in_by_scanning_once(client, demo, wechat, staff):
    user_id, key = staff
    bind(client, demo, wechat, key, "o-staff")
    started = post(client, "/api/v1/auth/wechat")
    assert started.status_code == 201 and started.data["scene"].startswith("login_")
    poll = f"/api/v1/auth/wechat/{started.data['scene']}/poll"
    token = {"poll_token": started.data["poll_token"]}
    assert post(client, poll, token).data == {"status": "waiting", "user": None, "session": None, "csrf_token": None}
    assert "已确认登录" in scan(client, demo, wechat, started.data["qr_url"], "o-staff")
    signed = post(client, poll, token)
    assert signed.data["status"] == "signed_in" and signed.data["user"]["user_id"] == user_id
    assert signed.data["user"]["wechat_bound"] is True
    cookie = signed.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    me = client.http.get("/api/v1/me", headers={"Cookie": cookie.split(";", 1)[0]})
    assert json.loads(me.body)["user_id"] == user_id
    assert post(client, poll, token).status_code == 410  # one use
    assert "失效" in scan(client, demo, wechat, started.data["qr_url"], "o-staff")  # and the scene is spent


def test_the_poll_token_is_required_and_an_unbound_wechat_is_told(client, demo, wechat, staff):
    started = post(client, "/api/v1/auth/wechat")
    poll = f"/api/v1/auth/wechat/{started.data['scene']}/poll"
    assert post(client, poll, {"poll_token": "x" * 32}).status_code == 410
    reply = scan(client, demo, wechat, started.data["qr_url"], "o-stranger", follow=True)
    assert "还没有绑定" in reply
    assert post(client, poll, {"poll_token": started.data["poll_token"]}).data["status"] == "unknown"


def test_an_expired_ticket_signs_nobody_in(client, demo, wechat, staff):
    _user_id, key = staff
    bind(client, demo, wechat, key, "o-late")
    started = post(client, "/api/v1/auth/wechat")
    LoginTicket.get(started.data["scene"]).update(actions=[LoginTicket.expires_at.set(now() - timedelta(seconds=1))])
    assert "失效" in scan(client, demo, wechat, started.data["qr_url"], "o-late")
    r = post(client, f"/api/v1/auth/wechat/{started.data['scene']}/poll", {"poll_token": started.data["poll_token"]})
    assert r.status_code == 410


def test_a_retried_scan_callback_is_answered_once(client, demo, wechat, staff):
    _user_id, key = staff
    bind(client, demo, wechat, key, "o-retry")
    started = post(client, "/api/v1/auth/wechat")
    scene = wechat.qrcode_scene(started.data["qr_url"])
    request = demo.plain.scan("o-retry", scene)
    url = f"/wechat/{PLAIN_APPID}?{request.query_string}"
    first = client.http.post(url, headers={"Content-Type": "text/xml"}, body=request.body)
    again = client.http.post(url, headers={"Content-Type": "text/xml"}, body=request.body)
    assert first.body == again.body and "已确认登录" in reply_content(demo.plain.open_reply(first.body.decode()))


def test_one_address_can_start_only_so_many_scan_sign_ins_a_minute(client, demo, staff):
    """Each anonymous start makes WeChat create a QR code: capped per client address (429, Retry-After)."""
    from chalicelib.services.access.sign_in import STARTS_PER_MINUTE

    here, there = {"CloudFront-Viewer-Address": "198.51.100.7:51234"}, {"CloudFront-Viewer-Address": "203.0.113.9:443"}
    statuses = [post(client, "/api/v1/auth/wechat", headers=here).status_code for _ in range(STARTS_PER_MINUTE)]
    assert statuses == [201] * STARTS_PER_MINUTE
    refused = post(client, "/api/v1/auth/wechat", headers=here)
    assert refused.status_code == 429
    assert refused.data["error"]["code"] == "too_many_sign_in_starts"
    assert 0 < int({k.lower(): v for k, v in refused.headers.items()}["retry-after"]) <= 60
    assert post(client, "/api/v1/auth/wechat", headers=there).status_code == 201  # another address is not held up
    # the counter is no ticket: its key cannot be polled into a sign-in, and no address is stored in clear
    rate_items = [t for t in LoginTicket.scan() if t.scene.startswith("rate_")]
    assert len(rate_items) == 3 and all("198.51" not in t.scene for t in rate_items)  # two addresses, and all
    r = post(client, f"/api/v1/auth/wechat/{rate_items[0].scene}/poll", {"poll_token": "x" * 32})
    assert r.status_code in (400, 410)


def test_forged_viewer_addresses_still_meet_a_cap_on_all_starts(client, demo, staff, monkeypatch):
    """The viewer address is a header; formerly a new forged address per request was never capped."""
    from chalicelib.services.access import sign_in

    monkeypatch.setattr(sign_in, "ALL_STARTS_PER_MINUTE", 5)
    minute = sign_in.now().replace(second=1)
    monkeypatch.setattr(sign_in, "now", lambda: minute)  # all six in one minute, whatever the clock says
    statuses = [
        post(client, "/api/v1/auth/wechat", headers={"CloudFront-Viewer-Address": f"192.0.2.{n}:1"}).status_code
        for n in range(6)
    ]
    assert statuses == [201] * 5 + [429]
