"""Who is on the page: OAuth through the WeChat stand-in, sessions, push-link tokens, CSRF."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser
from unittest.mock import patch
from urllib.parse import parse_qs, urlsplit

import requests

from chalicelib import links
from chalicelib.models import Fan, Screen, Subscription
from chalicelib.models.subscriptions import fan_key
from chalicelib.page_tokens import sign_link, verify_link
from tests.phone.conftest import PhoneBrowser, csrf_of, publish
from tests.support import PLAIN_APPID, SAFE_APPID


class _Form(HTMLParser):
    """The stand-in's consent form: its action and hidden fields."""

    def __init__(self):
        super().__init__()
        self.action, self.fields = "", {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.action = attrs.get("action", "")
        if tag == "input" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""


def test_oauth_round_trip_over_real_http(live_app, wechat, gw):
    """A fan opens the centre, WeChat's consent page plays him, he subscribes, the gateway sees it."""
    gw.follow("o-live")
    session = requests.Session()
    page = session.get(f"{live_app}/m/{PLAIN_APPID}/subscribe", timeout=10)
    # we are on WeChat's (the stand-in's) consent page now
    assert page.url.startswith(wechat.base_url) and "模拟微信授权" in page.text
    form = _Form()
    form.feed(page.text)
    assert form.fields["scope"] == "snsapi_base" and form.fields["state"]
    form.fields["openid"] = "o-live"
    back = session.get(wechat.base_url + form.action, params=form.fields, timeout=10)
    assert back.status_code == 200 and back.url == f"{live_app}/m/{PLAIN_APPID}/subscribe"
    assert "市科技馆大厅" in back.text and "订阅科普大屏" in back.text

    cookie = next(c for c in session.cookies if c.name == "ks_session")
    assert cookie.path == f"/m/{PLAIN_APPID}/" and not cookie.secure  # http://127.0.0.1 only
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.get_nonstandard_attr("SameSite") == "Lax"
    assert not any(c.name == "ks_pre" for c in session.cookies)  # the pre-auth record is spent

    done = session.post(
        f"{live_app}/m/{PLAIN_APPID}/subscribe",
        timeout=10,
        data={
            "csrf": csrf_of(back.text),
            "screen": "NJ002",
            "action": "subscribe",
            "next": f"/m/{PLAIN_APPID}/subscribe",
        },
    )
    assert done.status_code == 200 and "已订阅「市图书馆」" in done.text
    assert Screen.get("NJ002").fan_count == 1
    assert Subscription.get(fan_key(PLAIN_APPID, "o-live"), "NJ002").source == "page"
    # the gateway sees the same subscription
    assert "市图书馆" in gw.say(gw.sender.text("o-live", "我的订阅"))


def test_session_cookie_is_secure_behind_https(browser):
    page = browser.get(f"/m/{PLAIN_APPID}/mine")
    assert page.status_code == 200
    cookie = next(c for c in browser.set_cookie_log if c.startswith("ks_session="))
    for attribute in ("HttpOnly", "Secure", "SameSite=Lax", f"Path=/m/{PLAIN_APPID}/"):
        assert attribute in cookie


def test_callback_refuses_state_not_bound_to_this_browser(browser, test_client):
    first = browser.request("GET", f"/m/{PLAIN_APPID}/mine")
    assert first.status_code == 302
    state = parse_qs(urlsplit(first.headers["Location"]).query)["state"][0]
    code_url = browser.wechat_authorize(first.headers["Location"])
    # another browser (no pre-auth cookie) presents the code: login CSRF
    stranger = PhoneBrowser(test_client)
    refused = stranger.get(code_url)
    assert refused.status_code == 403 and "授权已过期" in refused.body.decode()
    assert stranger.session_cookie() is None
    # a forged state in our own browser is refused too
    forged = code_url.replace(state, "0" * 32)
    assert browser.get(forged).status_code == 403


def test_stale_code_authorizes_again_once_then_explains(browser):
    start = browser.request("GET", f"/m/{PLAIN_APPID}/mine")
    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
    again = browser.request("GET", f"/m/{PLAIN_APPID}/oauth?code=stale&state={state}")  # stand-in: 40029
    assert again.status_code == 302 and "oauth2/authorize" in again.headers["Location"]
    state2 = parse_qs(urlsplit(again.headers["Location"]).query)["state"][0]
    assert state2 != state
    final = browser.request("GET", f"/m/{PLAIN_APPID}/oauth?code=stale&state={state2}")
    assert final.status_code == 403 and "授权失败" in final.body.decode()


def test_used_code_cannot_be_replayed(browser):
    start = browser.request("GET", f"/m/{PLAIN_APPID}/mine")
    callback = browser.wechat_authorize(start.headers["Location"])
    assert browser.get(callback).status_code == 200
    reload = browser.request("GET", callback)  # the fan reloads the callback URL: he is signed in already
    assert reload.status_code == 302 and reload.headers["Location"].endswith("/subscribe")
    code = parse_qs(urlsplit(callback).query)["code"][0]
    # a second browser starts its own authorization and tries the spent code with its own state
    other = PhoneBrowser(browser.client, openid="o-other")
    begun = other.request("GET", f"/m/{PLAIN_APPID}/mine")
    state = parse_qs(urlsplit(begun.headers["Location"]).query)["state"][0]
    replay = other.request("GET", f"/m/{PLAIN_APPID}/oauth?code={code}&state={state}")
    assert replay.status_code == 302 and "oauth2/authorize" in replay.headers["Location"]  # authorize again
    assert other.session_cookie() is None


def test_next_cannot_leave_our_pages(browser):
    from chalicelib.services.subscriptions.phone_identity import safe_next

    for evil in (
        "https://evil.example/",
        "//evil.example/x",
        f"/m/{SAFE_APPID}/mine",
        "/m/../admin",
        f"/m/{PLAIN_APPID}//evil",
        f"/m/{PLAIN_APPID}/oauth",
        "\\\\evil",
    ):
        assert safe_next(PLAIN_APPID, evil) == f"/m/{PLAIN_APPID}/subscribe", evil
    assert safe_next(PLAIN_APPID, f"/m/{PLAIN_APPID}/screens/NJ001") == f"/m/{PLAIN_APPID}/screens/NJ001"


def _subscribed_page(browser):
    Fan(PLAIN_APPID, "o-page", following=True).save()
    page = browser.get(f"/m/{PLAIN_APPID}/subscribe")
    assert page.status_code == 200
    return page.body.decode()


def test_changes_need_session_csrf_and_our_origin(browser, test_client):
    html = _subscribed_page(browser)
    token = csrf_of(html)
    form = {"screen": "NJ001", "action": "subscribe", "next": f"/m/{PLAIN_APPID}/subscribe"}
    url = f"/m/{PLAIN_APPID}/subscribe"
    assert browser.post_form(url, form).status_code == 403  # no token
    assert browser.post_form(url, form | {"csrf": "x" * 32}).status_code == 403  # wrong token
    evil_origin = {"Origin": "https://evil.example"}
    assert browser.post_form(url, form | {"csrf": token}, headers=evil_origin).status_code == 403
    anonymous = PhoneBrowser(test_client)
    refused = anonymous.post_form(url, form | {"csrf": token})
    assert refused.status_code == 403 and "重新进入" in refused.body.decode()
    assert Screen.get("NJ001").fan_count == 0
    ok = browser.post_form(url, form | {"csrf": token}, headers={"Origin": "https://kepu.example.cn"})
    assert ok.status_code == 303
    assert Screen.get("NJ001").fan_count == 1


def test_push_link_opens_as_the_fan_then_drops_the_token(browser, test_client):
    publish("c_push1", "社区义诊通知", screens=["NJ001"])
    reader = PhoneBrowser(test_client)  # no OAuth: the push link alone identifies him
    first = reader.request("GET", links.push_link(PLAIN_APPID, "o-pushed", "c_push1"))
    assert first.status_code == 302
    location = first.headers["Location"]
    assert "t=" not in location and "src=push" in location
    page = reader.get(location)
    assert page.status_code == 200 and "社区义诊通知" in page.body.decode()
    # a link session may read as the fan but may not change anything
    page = reader.get(f"/m/{SAFE_APPID}/subscribe")  # other account: no session there
    assert 'name="csrf"' not in page.body.decode()


def test_link_session_cannot_subscribe(test_client, wechat):
    from chalicelib.services.subscriptions.phone_identity import LINK, new_session

    session, cookie = new_session(PLAIN_APPID, "o-fwd", LINK)
    browser = PhoneBrowser(test_client)
    browser.cookies[(f"/m/{PLAIN_APPID}/", "ks_session")] = cookie.split(";")[0].split("=", 1)[1]
    refused = browser.post_form(
        f"/m/{PLAIN_APPID}/subscribe", {"csrf": session.csrf, "screen": "NJ001", "action": "subscribe"}
    )
    assert refused.status_code == 403 and Screen.get("NJ001").fan_count == 0


def _expired_token(appid: str, openid: str, content_id: str) -> str:
    """A push link signed eight days ago (links live seven)."""
    with patch("itsdangerous.timed.time.time", return_value=time.time() - 8 * 24 * 3600):
        return sign_link(appid, openid, content_id)


def test_bad_or_expired_tokens(browser, test_client):
    publish("c_tok", "停水通知", screens=["NJ001", "SQ001"])
    tampered = sign_link(PLAIN_APPID, "o-a", "c_tok")[:-2] + "xx"
    expired = _expired_token(PLAIN_APPID, "o-a", "c_tok")
    other_content = sign_link(PLAIN_APPID, "o-a", "c_other")
    assert verify_link(expired) is None and verify_link(other_content) is not None
    for token in (tampered, expired, other_content):
        # service account: authorize again, back to the same page without the token
        fresh = PhoneBrowser(test_client, openid="o-a")
        reply = fresh.request("GET", f"/m/{PLAIN_APPID}/content/c_tok?src=push&t={token}")
        assert reply.status_code == 302 and "oauth2/authorize" in reply.headers["Location"]
        assert fresh.get(reply.headers["Location"]).status_code == 200
    # subscription account (no web authorization): a friendly 403 that still lets him read
    old = _expired_token(SAFE_APPID, "o-b", "c_tok")
    lost = PhoneBrowser(test_client).get(f"/m/{SAFE_APPID}/content/c_tok?src=push&t={old}")
    body = lost.body.decode()
    assert lost.status_code == 403 and "链接已失效" in body and "继续阅读" in body and "Traceback" not in body
    assert re.search(r'href="[^"]+/content/c_tok\?src=link"', body)


def test_forwarded_push_link_keeps_the_reader_himself(browser):
    publish("c_fwd", "科普讲座", screens=["NJ001"])
    _subscribed_page(browser)  # o-page has an OAuth session
    reply = browser.request("GET", links.push_link(PLAIN_APPID, "o-someone-else", "c_fwd"))
    assert reply.status_code == 302 and "src=link" in reply.headers["Location"]
    assert browser.get(reply.headers["Location"]).status_code == 200


def test_subscription_account_pages_work_without_authorization(test_client, wechat):
    page = PhoneBrowser(test_client).get(f"/m/{SAFE_APPID}/subscribe")
    body = page.body.decode()
    assert page.status_code == 200 and "订阅 SQ001" in body and 'method="post"' not in body
    mine = PhoneBrowser(test_client).get(f"/m/{SAFE_APPID}/mine")
    assert mine.status_code == 200 and "我的订阅" in mine.body.decode()
