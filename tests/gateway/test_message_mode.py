"""The account's 消息加解密方式 is declared through the admin API and enforced by the callback."""

from __future__ import annotations

import pytest
from chalice.test import Client

from app import app
from devstack.wechat_messages import WeChatSender
from tests.admin.world import TOKEN, Api, build
from tests.support import AES_KEY

V = "/api/v1"


@pytest.fixture
def world_api(aws, standin_server):
    standin_server.reset()
    world = build(standin_server)  # its accounts' QR codes and menus come from the WeChat stand-in
    with Client(app) as client:
        yield world, Api(client, world.root_key), client


def _post(client, appid, request):
    return client.http.post(
        f"/wechat/{appid}?{request.query_string}", headers={"Content-Type": "text/xml"}, body=request.body
    )


def test_declared_mode_is_shown_and_enforced(world_api):
    world, api, client = world_api
    appid = world.appid["city"]
    assert api.get(f"{V}/accounts/{appid}").data["message_mode"] == "plain"  # no key registered
    plaintext = WeChatSender(appid, "gh_city0000", TOKEN)
    assert _post(client, appid, plaintext.text("o-a", "帮助")).status_code == 200

    registered = api.patch(f"{V}/accounts/{appid}", {"aes_key": AES_KEY})
    assert registered.status_code == 200, registered.data
    assert registered.data["message_mode"] == "safe"  # a registered key implies safe mode...
    assert _post(client, appid, plaintext.text("o-a", "帮助")).status_code == 403
    encrypted = WeChatSender(appid, "gh_city0000", TOKEN, AES_KEY, mode="safe")
    assert _post(client, appid, encrypted.text("o-a", "帮助")).status_code == 200

    switching = api.patch(f"{V}/accounts/{appid}", {"message_mode": "compatible"})  # ...unless declared otherwise
    assert switching.status_code == 200 and switching.data["message_mode"] == "compatible", switching.data
    assert _post(client, appid, plaintext.text("o-a", "帮助")).status_code == 200
    assert api.patch(f"{V}/accounts/{appid}", {"message_mode": "paranoid"}).status_code == 400
