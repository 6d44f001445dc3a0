"""The product's WeChat client talks to WECHAT_API_BASE, uses stable tokens and retries a dead token once."""

from __future__ import annotations

import pytest
from wechatpy.exceptions import WeChatClientException

from chalicelib.services.gateway import tokens
from chalicelib.wechat import client as wechat_client
from tests.support import PLAIN_APPID


@pytest.fixture
def fresh_tokens():
    provider = wechat_client.ProcessTokenProvider(tokens.app_secret)
    tokens.use_provider(provider)
    return provider


def test_permanent_qr_code_through_the_stand_in(wechat, fresh_tokens):
    api = tokens.client_for(PLAIN_APPID)
    first = api.qrcode.create({"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": "NJ001"}}})
    again = api.qrcode.create({"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": "NJ001"}}})
    assert first["url"] == again["url"]
    assert wechat.qrcode_scene(first["url"]) == "NJ001"
    assert [c["path"] for c in wechat.calls()][:1] == ["/cgi-bin/stable_token"]


def test_expired_token_is_refreshed_once_and_the_call_retried(wechat, fresh_tokens):
    api = tokens.client_for(PLAIN_APPID)
    api.menu.create({"button": [{"type": "click", "name": "我的大屏", "key": "MY_SCREENS"}]})
    wechat.expire_tokens(PLAIN_APPID)
    api.menu.create({"button": [{"type": "click", "name": "最新内容", "key": "LATEST"}]})
    assert wechat.menu(PLAIN_APPID)["button"][0]["key"] == "LATEST"
    results = [c["errcode"] for c in wechat.calls("/cgi-bin/menu/create")]
    assert results == [0, 42001, 0]


def test_token_error_twice_gives_up_after_one_retry(wechat, fresh_tokens):
    api = tokens.client_for(PLAIN_APPID)
    wechat.inject_failure(40001, path="/cgi-bin/menu/create", count=5)
    with pytest.raises(WeChatClientException) as raised:
        api.menu.create({"button": [{"type": "click", "name": "我的大屏", "key": "MY_SCREENS"}]})
    assert raised.value.errcode == 40001
    assert len(wechat.calls("/cgi-bin/menu/create")) == 2


def test_push_links_are_signed_bound_and_expiring(aws):
    from urllib.parse import parse_qs, urlparse

    from chalicelib import links
    from chalicelib.page_tokens import verify_link

    url = links.push_link(PLAIN_APPID, "o-ann", "c_1")
    token = parse_qs(urlparse(url).query)["t"][0]
    claims = verify_link(token)
    assert (claims.appid, claims.openid, claims.content_id) == (PLAIN_APPID, "o-ann", "c_1")
    assert verify_link(token[:-2] + "xx") is None
    assert verify_link(token, max_age=-1) is None
