"""Tests for the local WeChat stand-in, through real HTTP on 127.0.0.1.

They talk to it both with raw ``requests`` (to pin exact response shapes) and
with wechatpy pointed at the stand-in (to prove the product's library works
against it unchanged apart from the base URL).
"""

from __future__ import annotations

import inspect
import threading
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from wechatpy import WeChatClient, WeChatOAuth
from wechatpy.exceptions import WeChatClientException, WeChatOAuthException

from devstack.wechat_standin import CONTROLS, StandInClient, StandInError, WeChatStandIn

APPID = "wxservice0001"
SECRET = "service-secret"
SUB_APPID = "wxsubscription1"
SUB_SECRET = "subscription-secret"
TEMPLATE = "/cgi-bin/message/template/send"
CUSTOM = "/cgi-bin/message/custom/send"
MASS = "/cgi-bin/message/mass/sendall"
SUBSCRIBE = "/cgi-bin/message/subscribe/bizsend"


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def server() -> Iterator[WeChatStandIn]:
    standin = WeChatStandIn(port=0).start()
    yield standin
    standin.stop()


@pytest.fixture
def standin(server: WeChatStandIn) -> WeChatStandIn:
    server.reset()
    server.register_account(APPID, SECRET)
    server.register_account(SUB_APPID, SUB_SECRET, account_type="subscription")
    return server


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def wechatpy_client(base_url: str, appid: str, secret: str) -> WeChatClient:
    """wechatpy hard-codes the token URL, so point both it and API_BASE_URL here."""

    class StandInWeChatClient(WeChatClient):
        API_BASE_URL = base_url + "/cgi-bin/"

        def fetch_access_token(self) -> dict[str, Any]:
            return self._fetch_access_token(
                url=base_url + "/cgi-bin/token",
                params={
                    "grant_type": "client_credential",
                    "appid": self.appid,
                    "secret": self.secret,
                },
            )

    return StandInWeChatClient(appid, secret)


@pytest.fixture
def client(standin: WeChatStandIn) -> WeChatClient:
    return wechatpy_client(standin.base_url, APPID, SECRET)


def get_token(http: requests.Session, base: str, appid: str = APPID, secret: str = SECRET) -> str:
    resp = http.get(
        base + "/cgi-bin/token",
        params={"grant_type": "client_credential", "appid": appid, "secret": secret},
    )
    return resp.json()["access_token"]


def stable_token(http: requests.Session, base: str, force: bool = False) -> dict[str, Any]:
    body = {
        "grant_type": "client_credential",
        "appid": APPID,
        "secret": SECRET,
        "force_refresh": force,
    }
    return http.post(base + "/cgi-bin/stable_token", json=body).json()


def call(http: requests.Session, base: str, path: str, token: str, body: Any = None) -> dict[str, Any]:
    url = f"{base}{path}?access_token={token}"
    if body is None:
        return http.get(url).json()
    return http.post(url, json=body).json()


def template_body(openid: str, **data: str) -> dict[str, Any]:
    return {
        "touser": openid,
        "template_id": "tpl-notice",
        "url": "https://example.org/n/1",
        "data": {k: {"value": v} for k, v in (data or {"thing1": "新通知"}).items()},
    }


def text_body(openid: str, content: str = "你好") -> dict[str, Any]:
    return {"touser": openid, "msgtype": "text", "text": {"content": content}}


# ---------------------------------------------------------------- tokens


def test_token_issued_with_wechat_shape(standin: WeChatStandIn, http) -> None:
    resp = http.get(
        standin.base_url + "/cgi-bin/token",
        params={"grant_type": "client_credential", "appid": APPID, "secret": SECRET},
    )
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == {"access_token", "expires_in"}
    assert body["expires_in"] == 7200
    assert len(body["access_token"]) > 60


@pytest.mark.parametrize(
    ("params", "errcode"),
    [
        ({"grant_type": "client_credential", "appid": "wxnope", "secret": "x"}, 40013),
        ({"grant_type": "client_credential", "appid": APPID, "secret": "bad"}, 40125),
        ({"appid": APPID, "secret": SECRET}, 40002),
    ],
)
def test_token_errors(standin: WeChatStandIn, http, params, errcode) -> None:
    resp = http.get(standin.base_url + "/cgi-bin/token", params=params)
    assert resp.status_code == 200
    assert resp.json()["errcode"] == errcode
    assert resp.json()["errmsg"]


def test_access_token_missing_invalid_expired(standin: WeChatStandIn, http) -> None:
    base = standin.base_url
    assert http.get(base + "/cgi-bin/menu/get").json()["errcode"] == 41001
    assert call(http, base, "/cgi-bin/user/get", "garbage")["errcode"] == 40001
    token = get_token(http, base)
    assert call(http, base, "/cgi-bin/user/get", token)["total"] == 0
    standin.expire_tokens(APPID)
    assert call(http, base, "/cgi-bin/user/get", token)["errcode"] == 42001


def test_new_legacy_token_supersedes_previous(standin: WeChatStandIn, http) -> None:
    base = standin.base_url
    first = get_token(http, base)
    second = get_token(http, base)
    assert first != second
    assert call(http, base, "/cgi-bin/user/get", first)["errcode"] == 40001
    assert "errcode" not in call(http, base, "/cgi-bin/user/get", second)


def test_token_expires_after_7200_seconds(standin: WeChatStandIn, http) -> None:
    token = get_token(http, standin.base_url)
    standin.advance_clock(7201)
    got = call(http, standin.base_url, "/cgi-bin/user/get", token)
    assert got["errcode"] == 42001


def test_expire_tokens_is_per_account(standin: WeChatStandIn, http) -> None:
    base = standin.base_url
    mine = get_token(http, base)
    other = get_token(http, base, SUB_APPID, SUB_SECRET)
    standin.expire_tokens(SUB_APPID)
    assert "errcode" not in call(http, base, "/cgi-bin/user/get", mine)
    assert call(http, base, "/cgi-bin/user/get", other)["errcode"] == 42001


def test_wechatpy_refetches_after_expire_tokens(standin: WeChatStandIn, client) -> None:
    standin.follow(APPID, "o-fan")
    assert client.user.get("o-fan")["subscribe"] == 1
    standin.expire_tokens()
    assert client.user.get("o-fan")["subscribe"] == 1
    token_calls = standin.calls("/cgi-bin/token")
    assert len(token_calls) == 2
    info_calls = standin.calls("/cgi-bin/user/info")
    assert [c["errcode"] for c in info_calls] == [0, 42001, 0]


# ---------------------------------------------------------------- stable token


def test_stable_token_returns_same_token_while_valid(standin: WeChatStandIn, http) -> None:
    first = stable_token(http, standin.base_url)
    standin.advance_clock(100)
    second = stable_token(http, standin.base_url)
    assert second["access_token"] == first["access_token"]
    assert first["expires_in"] <= 7200
    assert second["expires_in"] <= first["expires_in"] - 99


def test_stable_token_new_after_expiry(standin: WeChatStandIn, http) -> None:
    first = stable_token(http, standin.base_url)
    standin.advance_clock(7200)
    second = stable_token(http, standin.base_url)
    assert second["access_token"] != first["access_token"]
    assert second["expires_in"] == 7200


def test_stable_force_refresh_keeps_old_valid_30s(standin: WeChatStandIn, http) -> None:
    base = standin.base_url
    old = stable_token(http, base)["access_token"]
    new = stable_token(http, base, force=True)["access_token"]
    assert new != old
    assert "errcode" not in call(http, base, "/cgi-bin/user/get", old)
    assert stable_token(http, base)["access_token"] == new
    standin.advance_clock(31)
    assert call(http, base, "/cgi-bin/user/get", old)["errcode"] == 42001
    assert "errcode" not in call(http, base, "/cgi-bin/user/get", new)


def test_stable_token_independent_of_legacy_token(standin: WeChatStandIn, http) -> None:
    stable = stable_token(http, standin.base_url)["access_token"]
    get_token(http, standin.base_url)
    assert "errcode" not in call(http, standin.base_url, "/cgi-bin/user/get", stable)


def test_stable_token_fresh_after_expire_tokens(standin: WeChatStandIn, http) -> None:
    old = stable_token(http, standin.base_url)["access_token"]
    standin.expire_tokens()
    assert call(http, standin.base_url, "/cgi-bin/user/get", old)["errcode"] == 42001
    fresh = stable_token(http, standin.base_url)
    assert fresh["access_token"] != old
    assert fresh["expires_in"] == 7200


def test_stable_force_refresh_daily_limit(standin: WeChatStandIn, http) -> None:
    for _ in range(20):
        assert "access_token" in stable_token(http, standin.base_url, force=True)
    assert stable_token(http, standin.base_url, force=True)["errcode"] == 45009
    assert "access_token" in stable_token(http, standin.base_url)


def test_stable_token_bad_secret_and_body(standin: WeChatStandIn, http) -> None:
    url = standin.base_url + "/cgi-bin/stable_token"
    body = {"grant_type": "client_credential", "appid": APPID, "secret": "nope"}
    assert http.post(url, json=body).json()["errcode"] == 40125
    assert http.post(url, data=b"{not json").json()["errcode"] == 47001


# ---------------------------------------------------------------- template messages


def test_template_send_success_lands_in_inbox(standin: WeChatStandIn, client) -> None:
    standin.follow(APPID, "o-reader")
    result = client.message.send_template(
        "o-reader",
        "tpl-notice",
        {"thing1": {"value": "社区科普讲座"}},
        url="https://x.org",
    )
    assert result["errcode"] == 0 and result["errmsg"] == "ok"
    assert isinstance(result["msgid"], int)
    [item] = standin.inbox("o-reader")
    assert item["appid"] == APPID
    assert item["channel"] == "template"
    assert item["msgid"] == result["msgid"]
    assert item["payload"]["data"]["thing1"]["value"] == "社区科普讲座"


@pytest.mark.parametrize("value", ["这是一段超过二十个字符限制的模板消息字段内容啊", "两行\n内容"])
def test_template_rejects_long_or_multiline_values(standin, client, value) -> None:
    standin.follow(APPID, "o-reader")
    with pytest.raises(WeChatClientException) as exc:
        client.message.send_template("o-reader", "tpl", {"thing1": {"value": value}})
    assert exc.value.errcode == 47003
    assert standin.inbox("o-reader") == []


def test_template_limits_follow_keyword_type(standin: WeChatStandIn, client) -> None:
    standin.follow(APPID, "o-reader")
    code = "A" * 30  # fine for character_string (32), too long for thing (20)
    client.message.send_template("o-reader", "tpl", {"character_string2": {"value": code}})
    with pytest.raises(WeChatClientException) as exc:
        client.message.send_template("o-reader", "tpl", {"thing2": {"value": code}})
    assert exc.value.errcode == 47003


def test_template_unauthorized_for_subscription_account(standin: WeChatStandIn) -> None:
    standin.follow(SUB_APPID, "o-sub")
    sub_client = wechatpy_client(standin.base_url, SUB_APPID, SUB_SECRET)
    with pytest.raises(WeChatClientException) as exc:
        sub_client.message.send_template("o-sub", "tpl", {"thing1": {"value": "x"}})
    assert exc.value.errcode == 48001


def test_template_non_follower_and_unknown_openid(standin: WeChatStandIn, client) -> None:
    standin.follow(APPID, "o-gone")
    standin.unfollow(APPID, "o-gone")
    with pytest.raises(WeChatClientException) as exc:
        client.message.send_template("o-gone", "tpl", {"thing1": {"value": "x"}})
    assert exc.value.errcode == 43004
    with pytest.raises(WeChatClientException) as exc:
        client.message.send_template("o-never", "tpl", {"thing1": {"value": "x"}})
    assert exc.value.errcode == 40003


def test_openids_are_per_account(standin: WeChatStandIn, client) -> None:
    standin.follow(SUB_APPID, "o-other-account")
    with pytest.raises(WeChatClientException) as exc:
        client.message.send_template("o-other-account", "tpl", {"thing1": {"value": "x"}})
    assert exc.value.errcode == 40003


def test_template_missing_template_id(standin: WeChatStandIn, http) -> None:
    standin.follow(APPID, "o-reader")
    token = get_token(http, standin.base_url)
    body = template_body("o-reader")
    del body["template_id"]
    assert call(http, standin.base_url, TEMPLATE, token, body)["errcode"] == 40037


# ---------------------------------------------------------------- customer-service messages


def test_custom_send_follow_window_three_sends(standin: WeChatStandIn, client) -> None:
    standin.follow(APPID, "o-new")
    for i in range(3):
        assert client.message.send_text("o-new", f"欢迎 {i}")["errcode"] == 0
    with pytest.raises(WeChatClientException) as exc:
        client.message.send_text("o-new", "第四条")
    assert exc.value.errcode == 45015
    assert [m["channel"] for m in standin.inbox("o-new")] == ["custom"] * 3


def test_custom_send_follow_window_lasts_one_minute(standin: WeChatStandIn, http) -> None:
    standin.follow(APPID, "o-new")
    token = stable_token(http, standin.base_url)["access_token"]
    standin.advance_clock(61)
    got = call(http, standin.base_url, CUSTOM, token, text_body("o-new"))
    assert got == {
        "errcode": 45015,
        "errmsg": "response out of time limit or subscription is canceled",
    }


def test_custom_send_message_window_48h_five_sends(standin: WeChatStandIn, http) -> None:
    base = standin.base_url
    standin.follow(APPID, "o-chat", at=time.time() - 3600)
    standin.record_interaction(APPID, "o-chat", "message", at=time.time() - 47 * 3600)
    token = stable_token(http, base)["access_token"]
    results = [call(http, base, CUSTOM, token, text_body("o-chat"))["errcode"] for _ in range(6)]
    assert results == [0, 0, 0, 0, 0, 45015]


def test_custom_send_outside_48h_refused(standin: WeChatStandIn, http) -> None:
    standin.follow(APPID, "o-old", at=time.time() - 50 * 3600)
    standin.record_interaction(APPID, "o-old", "message", at=time.time() - 49 * 3600)
    token = stable_token(http, standin.base_url)["access_token"]
    got = call(http, standin.base_url, CUSTOM, token, text_body("o-old"))
    assert got["errcode"] == 45015
    standin.set_window_enforcement(False)
    got = call(http, standin.base_url, CUSTOM, token, text_body("o-old"))
    assert got == {"errcode": 0, "errmsg": "ok"}


def test_custom_send_non_follower_and_unknown(standin: WeChatStandIn, http) -> None:
    standin.follow(APPID, "o-left")
    standin.unfollow(APPID, "o-left")
    token = stable_token(http, standin.base_url)["access_token"]
    assert call(http, standin.base_url, CUSTOM, token, text_body("o-left"))["errcode"] == 43004
    assert call(http, standin.base_url, CUSTOM, token, text_body("o-x"))["errcode"] == 40003


def test_custom_send_allowed_on_subscription_account(standin: WeChatStandIn) -> None:
    standin.follow(SUB_APPID, "o-sub")
    sub_client = wechatpy_client(standin.base_url, SUB_APPID, SUB_SECRET)
    assert sub_client.message.send_text("o-sub", "hi")["errcode"] == 0


def test_custom_send_validates_payload(standin: WeChatStandIn, http) -> None:
    standin.follow(APPID, "o-new")
    token = stable_token(http, standin.base_url)["access_token"]
    bad_type = {"touser": "o-new", "msgtype": "hologram", "hologram": {}}
    assert call(http, standin.base_url, CUSTOM, token, bad_type)["errcode"] == 40008
    empty = text_body("o-new", "")
    assert call(http, standin.base_url, CUSTOM, token, empty)["errcode"] == 44004


# ---------------------------------------------------------------- subscription notices


def test_subscribe_notice_needs_acceptance_per_send(standin: WeChatStandIn, client) -> None:
    standin.follow(APPID, "o-sub")
    data = {"thing1": {"value": "讲座提醒"}}
    with pytest.raises(WeChatClientException) as exc:
        client.message.send_subscribe_message("o-sub", "tpl-sub", data, page="pages/a")
    assert exc.value.errcode == 43101
    standin.accept_subscribe(APPID, "o-sub", "tpl-sub")
    assert client.message.send_subscribe_message("o-sub", "tpl-sub", data)["errcode"] == 0
    with pytest.raises(WeChatClientException) as exc:
        client.message.send_subscribe_message("o-sub", "tpl-sub", data)
    assert exc.value.errcode == 43101
    assert [m["channel"] for m in standin.inbox("o-sub")] == ["subscribe"]


def test_subscribe_notice_long_term_and_subscription_account(standin, http) -> None:
    standin.follow(APPID, "o-sub")
    standin.accept_subscribe(APPID, "o-sub", "tpl-sub", times=None)
    token = stable_token(http, standin.base_url)["access_token"]
    body = {
        "touser": "o-sub",
        "template_id": "tpl-sub",
        "data": {"thing1": {"value": "a"}},
    }
    for _ in range(3):
        assert call(http, standin.base_url, SUBSCRIBE, token, body)["errcode"] == 0
    standin.follow(SUB_APPID, "o-sub")
    sub_token = get_token(http, standin.base_url, SUB_APPID, SUB_SECRET)
    assert call(http, standin.base_url, SUBSCRIBE, sub_token, body)["errcode"] == 48001


# ---------------------------------------------------------------- fault injection


def test_injected_minus_one_with_count(standin: WeChatStandIn, http) -> None:
    standin.follow(APPID, "o-reader")
    token = stable_token(http, standin.base_url)["access_token"]
    standin.inject_failure(-1, path=TEMPLATE, count=2)
    codes = [call(http, standin.base_url, TEMPLATE, token, template_body("o-reader"))["errcode"] for _ in range(3)]
    assert codes == [-1, -1, 0]
    assert len(standin.inbox("o-reader")) == 1
    assert [c["errcode"] for c in standin.calls(TEMPLATE)] == [-1, -1, 0]


def test_injected_http_500(standin: WeChatStandIn, client, http) -> None:
    standin.follow(APPID, "o-reader")
    standin.inject_failure(-1, path=TEMPLATE, count=1, http_status=500)
    with pytest.raises(WeChatClientException) as exc:
        client.message.send_template("o-reader", "tpl", {"thing1": {"value": "x"}})
    assert exc.value.response.status_code == 500
    assert client.message.send_template("o-reader", "tpl", {"thing1": {"value": "x"}})
    standin.inject_failure(-1, path="/cgi-bin/user/get", http_status=503)
    token = stable_token(http, standin.base_url)["access_token"]
    for _ in range(2):
        resp = http.get(standin.base_url + "/cgi-bin/user/get", params={"access_token": token})
        assert resp.status_code == 503
        assert resp.json()["errcode"] == -1
    assert standin.inbox("o-reader")[0]["channel"] == "template"


def test_injected_failure_probability_is_seeded(standin: WeChatStandIn, http) -> None:
    token = stable_token(http, standin.base_url)["access_token"]

    def pattern() -> list[int]:
        return [call(http, standin.base_url, "/cgi-bin/user/get", token).get("errcode", 0) for _ in range(60)]

    standin.inject_failure(-1, path="/cgi-bin/user/get", probability=0.5)
    first = pattern()
    assert 10 <= first.count(-1) <= 50
    standin.reset()
    standin.register_account(APPID, SECRET)
    token = stable_token(http, standin.base_url)["access_token"]
    standin.inject_failure(-1, path="/cgi-bin/user/get", probability=0.5)
    assert pattern() == first


def test_injected_failure_targets_one_openid(standin: WeChatStandIn, http) -> None:
    for openid in ("o-a", "o-b"):
        standin.follow(APPID, openid)
    standin.inject_failure(43004, path=TEMPLATE, openid="o-b")
    token = stable_token(http, standin.base_url)["access_token"]
    assert call(http, standin.base_url, TEMPLATE, token, template_body("o-a"))["errcode"] == 0
    assert call(http, standin.base_url, TEMPLATE, token, template_body("o-b"))["errcode"] == 43004
    standin.clear_failures()
    assert call(http, standin.base_url, TEMPLATE, token, template_body("o-b"))["errcode"] == 0


def test_latency_injection(standin: WeChatStandIn, http) -> None:
    token = stable_token(http, standin.base_url)["access_token"]
    standin.set_latency(0.3, path="/cgi-bin/user/get")
    started = time.monotonic()
    call(http, standin.base_url, "/cgi-bin/user/get", token)
    assert time.monotonic() - started >= 0.28
    started = time.monotonic()
    call(http, standin.base_url, "/cgi-bin/menu/get", token)
    assert time.monotonic() - started < 0.28
    with pytest.raises(requests.Timeout):
        http.get(
            standin.base_url + "/cgi-bin/user/get",
            params={"access_token": token},
            timeout=0.1,
        )


def test_a_late_answer_is_sent_before_it_is_answered(standin: WeChatStandIn, http) -> None:
    """``set_answer_delay``: the message lands at once, only the answer is late (a client timeout then hides a send)."""
    standin.follow(APPID, "o-late")
    token = stable_token(http, standin.base_url)["access_token"]
    standin.set_answer_delay(0.5, path=TEMPLATE)
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        http.post(f"{standin.base_url}{TEMPLATE}?access_token={token}", json=template_body("o-late"), timeout=0.15)
    assert len(standin.inbox("o-late")) == 1 and time.monotonic() - started < 0.45  # sent before the answer
    standin.set_answer_delay(0, path=TEMPLATE)
    started = time.monotonic()
    call(http, standin.base_url, TEMPLATE, token, template_body("o-late"))
    assert time.monotonic() - started < 0.45 and len(standin.inbox("o-late")) == 2


def test_daily_quota(standin: WeChatStandIn, http) -> None:
    standin.follow(APPID, "o-reader")
    standin.set_quota(APPID, TEMPLATE, 2)
    token = stable_token(http, standin.base_url)["access_token"]
    too_long = template_body("o-reader", thing1="x" * 30)
    assert call(http, standin.base_url, TEMPLATE, token, too_long)["errcode"] == 47003
    codes = [call(http, standin.base_url, TEMPLATE, token, template_body("o-reader"))["errcode"] for _ in range(3)]
    assert codes == [0, 0, 45009]
    standin.advance_clock(24 * 3600)
    token = stable_token(http, standin.base_url)["access_token"]
    got = call(http, standin.base_url, TEMPLATE, token, template_body("o-reader"))
    assert got["errcode"] == 0


# ---------------------------------------------------------------- mass send


def mass_body(tag_id: int, clientmsgid: str, to_all: bool = False) -> dict[str, Any]:
    return {
        "filter": {"is_to_all": to_all, "tag_id": tag_id},
        "text": {"content": "本周科普活动"},
        "msgtype": "text",
        "clientmsgid": clientmsgid,
    }


def test_mass_send_by_tag_and_clientmsgid_dedup(standin: WeChatStandIn, http) -> None:
    for openid in ("o-1", "o-2", "o-3", "o-4"):
        standin.follow(APPID, openid)
    standin.tag_user(APPID, "o-1", 101)
    standin.tag_user(APPID, "o-2", 101)
    standin.tag_user(APPID, "o-4", 101)
    standin.unfollow(APPID, "o-4")
    token = stable_token(http, standin.base_url)["access_token"]
    first = call(http, standin.base_url, MASS, token, mass_body(101, "notice-1"))
    assert first["errcode"] == 0
    assert first["errmsg"] == "send job submission success"
    assert isinstance(first["msg_id"], int) and "msg_data_id" in first
    again = call(http, standin.base_url, MASS, token, mass_body(101, "notice-1"))
    assert again == {"errcode": 45065, "errmsg": "clientmsgid exist"}
    assert [len(standin.inbox(o)) for o in ("o-1", "o-2", "o-3", "o-4")] == [1, 1, 0, 0]
    assert standin.inbox("o-1")[0]["channel"] == "mass"
    assert standin.inbox("o-1")[0]["msgid"] == first["msg_id"]
    standin.advance_clock(24 * 3600 + 1)
    token = stable_token(http, standin.base_url)["access_token"]
    assert call(http, standin.base_url, MASS, token, mass_body(101, "notice-1"))["errcode"] == 0


def test_mass_send_to_all(standin: WeChatStandIn, http) -> None:
    for openid in ("o-1", "o-2"):
        standin.follow(APPID, openid)
    token = stable_token(http, standin.base_url)["access_token"]
    got = call(http, standin.base_url, MASS, token, mass_body(0, "all-1", to_all=True))
    assert got["errcode"] == 0
    assert [len(standin.inbox(o)) for o in ("o-1", "o-2")] == [1, 1]


# ---------------------------------------------------------------- menu


MENU = {
    "button": [
        {"type": "click", "name": "今日科普", "key": "TODAY"},
        {
            "name": "订阅",
            "sub_button": [
                {
                    "type": "view",
                    "name": "按地区订阅",
                    "url": "https://example.org/h5/subscribe",
                },
                {"type": "click", "name": "我的订阅", "key": "MY_SUBS"},
            ],
        },
    ]
}


def test_menu_create_and_read_back(standin: WeChatStandIn, client) -> None:
    assert client.menu.create(MENU)["errcode"] == 0
    assert standin.menu(APPID) == MENU
    assert client.menu.get()["menu"] == MENU
    info = client.get("get_current_selfmenu_info")
    assert info["is_menu_open"] == 1
    assert info["selfmenu_info"]["button"][1]["sub_button"]["list"][1]["key"] == "MY_SUBS"


def _menu_with(**changes: Any) -> dict[str, Any]:
    import copy

    menu = copy.deepcopy(MENU)
    for path, value in changes.items():
        if path == "top":
            menu["button"] = value
        elif path == "subs":
            menu["button"][1]["sub_button"] = value
        elif path == "first":
            menu["button"][0] = value
    return menu


@pytest.mark.parametrize(
    ("menu", "errcode"),
    [
        (_menu_with(top=[]), 40016),
        (_menu_with(top=[{"type": "click", "name": "a", "key": "k"}] * 4), 40016),
        (_menu_with(first={"type": "teleport", "name": "a", "key": "k"}), 40017),
        (_menu_with(first={"type": "click", "name": "", "key": "k"}), 40018),
        (
            _menu_with(first={"type": "click", "name": "名字太长了超过十六字节", "key": "k"}),
            40018,
        ),
        (_menu_with(first={"type": "click", "name": "a"}), 40019),
        (_menu_with(first={"type": "view", "name": "a", "url": "javascript:1"}), 40055),
        (_menu_with(subs=[{"type": "click", "name": "s", "key": "k"}] * 6), 40023),
        (_menu_with(subs=[{"type": "click", "name": "  ", "key": "k"}]), 40025),
        (_menu_with(subs=[{"type": "bogus", "name": "s", "key": "k"}]), 40024),
    ],
)
def test_menu_validation(standin: WeChatStandIn, client, menu, errcode) -> None:
    client.menu.create(MENU)
    with pytest.raises(WeChatClientException) as exc:
        client.menu.create(menu)
    assert exc.value.errcode == errcode
    assert standin.menu(APPID) == MENU


def test_menu_get_without_menu(standin: WeChatStandIn, http) -> None:
    token = stable_token(http, standin.base_url)["access_token"]
    assert call(http, standin.base_url, "/cgi-bin/menu/get", token)["errcode"] == 46003
    assert standin.menu(APPID) is None


# ---------------------------------------------------------------- QR codes


def qr_body(action: str, **scene: Any) -> dict[str, Any]:
    return {"action_name": action, "action_info": {"scene": scene}}


def test_permanent_qrcode_is_stable_per_scene(standin: WeChatStandIn, client) -> None:
    first = client.qrcode.create(qr_body("QR_LIMIT_STR_SCENE", scene_str="screen:42"))
    again = client.qrcode.create(qr_body("QR_LIMIT_STR_SCENE", scene_str="screen:42"))
    other = client.qrcode.create(qr_body("QR_LIMIT_STR_SCENE", scene_str="screen:43"))
    assert first == again
    assert "expire_seconds" not in first
    assert first["url"].startswith("http://weixin.qq.com/q/")
    assert other["ticket"] != first["ticket"]
    assert standin.qrcode_scene(first["ticket"]) == "screen:42"
    assert standin.qrcode_scene(first["url"]) == "screen:42"
    assert standin.qrcode_info(first["url"])["appid"] == APPID


def test_temporary_qrcode_expires(standin: WeChatStandIn, client, http) -> None:
    a = client.qrcode.create({**qr_body("QR_SCENE", scene_id=7), "expire_seconds": 120})
    b = client.qrcode.create(qr_body("QR_SCENE", scene_id=7))
    assert a["ticket"] != b["ticket"]
    assert a["expire_seconds"] == 120
    assert standin.qrcode_scene(a["ticket"]) == "7"
    image = http.get(standin.base_url + "/cgi-bin/showqrcode", params={"ticket": a["ticket"]})
    assert image.status_code == 200
    assert image.content.startswith(b"\x89PNG")
    standin.advance_clock(121)
    with pytest.raises(KeyError):
        standin.qrcode_scene(a["ticket"])


def test_qrcode_invalid_args(standin: WeChatStandIn, http) -> None:
    token = stable_token(http, standin.base_url)["access_token"]
    path = "/cgi-bin/qrcode/create"
    for body in (
        qr_body("QR_MAGIC", scene_id=1),
        qr_body("QR_LIMIT_SCENE", scene_id=100001),
        qr_body("QR_STR_SCENE", scene_str=""),
    ):
        assert call(http, standin.base_url, path, token, body)["errcode"] == 40097


# ---------------------------------------------------------------- users


def test_user_info_follower_and_non_follower(standin: WeChatStandIn, client) -> None:
    standin.follow(APPID, "o-fan", scene="ADD_SCENE_QR_CODE", qr_scene_str="screen:42")
    standin.tag_user(APPID, "o-fan", 5)
    info = client.user.get("o-fan")
    assert info["subscribe"] == 1
    assert info["qr_scene_str"] == "screen:42"
    assert info["subscribe_scene"] == "ADD_SCENE_QR_CODE"
    assert info["tagid_list"] == [5]
    assert "nickname" not in info
    standin.unfollow(APPID, "o-fan")
    assert client.user.get("o-fan") == {"subscribe": 0, "openid": "o-fan"}
    with pytest.raises(WeChatClientException) as exc:
        client.user.get("o-unknown")
    assert exc.value.errcode == 40003


# ---------------------------------------------------------------- OAuth


REDIRECT = "https://h5.example.org/subscribe?from=menu"


def authorize_params(**extra: str) -> dict[str, str]:
    params = {
        "appid": APPID,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "snsapi_base",
        "state": "xyz",
    }
    params.update(extra)
    return params


def oauth_client(base_url: str, secret: str = SECRET) -> WeChatOAuth:
    oauth = WeChatOAuth(APPID, secret, REDIRECT)
    oauth.API_BASE_URL = base_url + "/"
    oauth.OAUTH_BASE_URL = base_url + "/connect/"
    return oauth


def test_oauth_authorize_confirm_code_exchange(standin: WeChatStandIn, http) -> None:
    base = standin.base_url
    page = http.get(base + "/connect/oauth2/authorize", params=authorize_params(openid="o-h5"))
    assert page.status_code == 200
    assert "模拟微信授权" in page.text
    assert 'value="o-h5"' in page.text
    assert 'action="/connect/oauth2/_confirm"' in page.text

    confirm = http.get(
        base + "/connect/oauth2/_confirm",
        params=authorize_params(openid="o-h5"),
        allow_redirects=False,
    )
    assert confirm.status_code == 302
    location = urllib.parse.urlsplit(confirm.headers["Location"])
    query = urllib.parse.parse_qs(location.query)
    assert location.netloc == "h5.example.org"
    assert query["from"] == ["menu"] and query["state"] == ["xyz"]
    code = query["code"][0]

    oauth = oauth_client(base)
    token = oauth.fetch_access_token(code)
    assert token["openid"] == "o-h5"
    assert token["scope"] == "snsapi_base"
    assert token["expires_in"] == 7200
    assert token["access_token"] and token["refresh_token"]
    with pytest.raises(WeChatOAuthException) as exc:
        oauth.fetch_access_token(code)
    assert exc.value.errcode == 40029


def test_oauth_auto_openid_and_code_rules(standin: WeChatStandIn, http) -> None:
    base = standin.base_url
    oauth = oauth_client(base)
    # wechatpy's URL ends in "#wechat_redirect"; query args must go before it
    url = oauth.authorize_url.replace("#", "&auto_openid=o-auto#")
    resp = http.get(url, allow_redirects=False)
    assert resp.status_code == 302
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(resp.headers["Location"]).query)["code"][0]
    with pytest.raises(WeChatOAuthException) as exc:
        oauth_client(base, secret="wrong").fetch_access_token(code)
    assert exc.value.errcode == 40125
    with pytest.raises(WeChatOAuthException) as exc:
        oauth.fetch_access_token("never-issued")
    assert exc.value.errcode == 40029
    standin.advance_clock(301)
    with pytest.raises(WeChatOAuthException) as exc:
        oauth.fetch_access_token(code)
    assert exc.value.errcode == 40029


@pytest.mark.parametrize(
    ("override", "errcode"),
    [
        ({"scope": "snsapi_everything"}, "10005"),
        ({"redirect_uri": "/relative/path"}, "10003"),
        ({"redirect_uri": "ftp://example.org/x"}, "10003"),
        ({"appid": "wxunknown"}, "10016"),
    ],
)
def test_oauth_authorize_rejects_bad_params(standin, http, override, errcode) -> None:
    params = authorize_params(auto_openid="o-x", **override)
    resp = http.get(
        standin.base_url + "/connect/oauth2/authorize",
        params=params,
        allow_redirects=False,
    )
    assert resp.status_code == 200
    assert f"errcode={errcode}" in resp.text


def test_oauth_known_openid_gets_43004_not_40003(standin: WeChatStandIn, client, http) -> None:
    http.get(
        standin.base_url + "/connect/oauth2/authorize",
        params=authorize_params(auto_openid="o-visitor"),
        allow_redirects=False,
    )
    with pytest.raises(WeChatClientException) as exc:
        client.message.send_template("o-visitor", "tpl", {"thing1": {"value": "x"}})
    assert exc.value.errcode == 43004


# ---------------------------------------------------------------- protocol edges


def test_unknown_path_wrong_method_bad_body(standin: WeChatStandIn, http) -> None:
    base = standin.base_url
    assert http.get(base + "/cgi-bin/nope").json() == {
        "errcode": 40066,
        "errmsg": "invalid url",
    }
    token = stable_token(http, base)["access_token"]
    assert call(http, base, TEMPLATE, token)["errcode"] == 43002
    url = f"{base}{TEMPLATE}?access_token={token}"
    assert http.post(url, data=b"{oops").json()["errcode"] == 47001
    assert http.post(url, data=b"").json()["errcode"] == 44002


def test_oversized_body_rejected(standin: WeChatStandIn, http) -> None:
    token = stable_token(http, standin.base_url)["access_token"]
    url = f"{standin.base_url}{TEMPLATE}?access_token={token}"
    resp = requests.post(url, data=b"x" * (1024 * 1024 + 1))
    assert resp.status_code == 200
    assert resp.json()["errcode"] == 44002
    # the server still answers afterwards
    assert http.get(standin.base_url + "/cgi-bin/nope").json()["errcode"] == 40066


def test_calls_log_records_every_request(standin: WeChatStandIn, http) -> None:
    get_token(http, standin.base_url)
    http.get(standin.base_url + "/cgi-bin/token", params={"appid": APPID})
    logged = standin.calls("/cgi-bin/token")
    assert [c["errcode"] for c in logged] == [0, 40002]
    assert logged[0]["query"]["appid"] == APPID
    assert logged[0]["method"] == "GET" and isinstance(logged[0]["at"], float)


def test_concurrent_sends_are_all_recorded(standin: WeChatStandIn, http) -> None:
    standin.follow(APPID, "o-busy")
    token = stable_token(http, standin.base_url)["access_token"]
    errors: list[int] = []

    def worker() -> None:
        with requests.Session() as session:
            for _ in range(20):
                got = call(session, standin.base_url, TEMPLATE, token, template_body("o-busy"))
                errors.append(got["errcode"])

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    inbox = standin.inbox("o-busy")
    assert set(errors) == {0}
    assert len(inbox) == 160
    assert len({m["msgid"] for m in inbox}) == 160


# ---------------------------------------------------------------- HTTP controls


def test_standin_client_controls_over_http(standin: WeChatStandIn, http) -> None:
    remote = StandInClient(standin.base_url)
    remote.reset()
    remote.register_account("wxremote", "remote-secret")
    remote.follow("wxremote", "o-remote", qr_scene_str="screen:9")
    remote.record_interaction("wxremote", "o-remote", "message")
    remote.tag_user("wxremote", "o-remote", 3)
    remote.accept_subscribe("wxremote", "o-remote", "tpl-sub")
    remote.set_window_enforcement(True)

    client = wechatpy_client(standin.base_url, "wxremote", "remote-secret")
    assert client.user.get("o-remote")["tagid_list"] == [3]
    client.message.send_text("o-remote", "hello")
    client.message.send_subscribe_message("o-remote", "tpl-sub", {"thing1": {"value": "v"}})
    inbox = remote.inbox("o-remote")
    assert [m["channel"] for m in inbox] == ["custom", "subscribe"]

    client.menu.create(MENU)
    assert remote.menu("wxremote") == MENU
    ticket = client.qrcode.create(qr_body("QR_LIMIT_STR_SCENE", scene_str="screen:9"))["ticket"]
    assert remote.qrcode_scene(ticket) == "screen:9"

    remote.set_quota("wxremote", "/cgi-bin/user/info", 1)
    with pytest.raises(WeChatClientException) as exc:
        client.user.get("o-remote")
    assert exc.value.errcode == 45009

    remote.inject_failure(-1, path="/cgi-bin/menu/get", count=1)
    with pytest.raises(WeChatClientException) as exc:
        client.menu.get()
    assert exc.value.errcode == -1
    assert client.menu.get()["menu"] == MENU

    remote.expire_tokens("wxremote")
    assert client.menu.get()["menu"] == MENU  # wechatpy refetched after 42001
    assert [c["errcode"] for c in remote.calls("/cgi-bin/menu/get")] == [
        -1,
        0,
        42001,
        0,
    ]

    remote.set_latency(0.2, path="/cgi-bin/menu/get")
    started = time.monotonic()
    client.menu.get()
    assert time.monotonic() - started >= 0.18
    remote.set_latency(0)
    remote.set_latency(0, path="/cgi-bin/menu/get")
    remote.clear_failures()
    remote.advance_clock(61)


def test_standin_client_reports_bad_arguments(standin: WeChatStandIn) -> None:
    remote = StandInClient(standin.base_url)
    with pytest.raises(StandInError, match="kind"):
        remote.record_interaction(APPID, "o-1", "telepathy")
    with pytest.raises(StandInError, match="wxnobody"):
        remote.follow("wxnobody", "o-1")
    with pytest.raises(StandInError):
        remote.qrcode_scene("no-such-ticket")
    resp = requests.post(standin.base_url + "/_standin/launch_rockets", json={})
    assert resp.status_code == 404


def test_every_control_is_declared_once_and_reachable_both_ways(standin: WeChatStandIn) -> None:
    """The in-process methods, the HTTP endpoint and the client all come from one table."""
    assert {"follow", "inject_failure", "calls", "reset", "set_user_summary", "use_random_msgids"} <= set(CONTROLS)
    for name, op in CONTROLS.items():
        local, remote = getattr(WeChatStandIn, name), getattr(StandInClient, name)
        assert inspect.signature(local) == inspect.signature(remote), name
        assert local.__doc__ == remote.__doc__ == op.handler.__doc__, name
        resp = requests.get(standin.base_url + "/_standin/" + name)
        assert resp.status_code != 404, name
        # A write is POST-only; a read also answers GET with its arguments in the query.
        assert (resp.status_code == 405) == (not op.read), name


def test_client_checks_arguments_before_sending(standin: WeChatStandIn) -> None:
    remote = StandInClient(standin.base_url)
    with pytest.raises(TypeError):
        remote.follow(APPID)  # no openid
    with pytest.raises(TypeError):
        remote.set_latency(0.1, route="/cgi-bin/menu/get")
    assert standin.calls() == []


def test_user_summary_and_random_msgids_over_http(standin: WeChatStandIn, http) -> None:
    """Once in-process only (the hand-written client had no such methods); now controls like the rest."""
    remote = StandInClient(standin.base_url)
    remote.follow(APPID, "o-1")
    remote.set_user_summary(APPID, "2026-01-05", new_user=7, cancel_user=2, cumulate_user=40)
    remote.use_random_msgids(seed=3)
    token = get_token(http, standin.base_url)
    summary = http.post(
        standin.base_url + "/datacube/getusersummary",
        params={"access_token": token},
        json={"begin_date": "2026-01-05", "end_date": "2026-01-05"},
    ).json()
    assert summary["list"] == [{"ref_date": "2026-01-05", "user_source": 0, "new_user": 7, "cancel_user": 2}]
    cumulate = http.post(
        standin.base_url + "/datacube/getusercumulate",
        params={"access_token": token},
        json={"begin_date": "2026-01-05", "end_date": "2026-01-05"},
    ).json()
    assert cumulate["list"] == [{"ref_date": "2026-01-05", "cumulate_user": 40}]
    sent = http.post(
        standin.base_url + TEMPLATE,
        params={"access_token": token},
        json={"touser": "o-1", "template_id": "tpl", "data": {"thing1": {"value": "v"}}},
    ).json()
    assert sent["errcode"] == 0
    assert sent["msgid"] >= 10**18  # WeChat's real msgid shape, not the consecutive default


def test_standalone_main_registers_accounts(capsys) -> None:
    from devstack.wechat_standin import main

    seen: dict[str, Any] = {}

    def serve(standin: WeChatStandIn) -> None:
        with requests.Session() as session:
            seen["service"] = get_token(session, standin.base_url, "wxcli", "s1")
            seen["sub"] = session.get(
                standin.base_url + "/cgi-bin/token",
                params={
                    "grant_type": "client_credential",
                    "appid": "wxsub",
                    "secret": "no",
                },
            ).json()

    main(
        ["--port", "0", "--account", "wxcli:s1", "--account", "wxsub:s2:subscription"],
        serve,
    )
    assert seen["service"]
    assert seen["sub"]["errcode"] == 40125
    assert capsys.readouterr().out.startswith("WECHAT_API_BASE=http://127.0.0.1:")
