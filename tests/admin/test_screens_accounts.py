"""Screens and their QR codes through the WeChat stand-in (and its failures); account menus; player keys."""

from __future__ import annotations

import hashlib

import pytest

from chalicelib.models import Screen
from tests.admin.conftest import drain

V = "/api/v1"


def screen_body(world, code="NJ100", **extra):
    return {
        "screen_id": code,
        "unit_id": world.unit["city"],
        "name": "市科技馆大厅",
        "address": "北京东路1号",
        "appid": world.appid["city"],
        "tags": ["lobby", "museum"],
        **extra,
    }


def test_screen_gets_permanent_qr_and_a_player_key_shown_once(api, world, standin_server):
    drain("manifest")
    r = api.post(f"{V}/screens", screen_body(world, "nj100"))
    assert r.status_code == 201, r.data
    screen, key = r.data["screen"], r.data["player_key"]
    assert screen["screen_id"] == "NJ100" and screen["qr"]["ready"] and key.startswith("psk_")
    info = standin_server.qrcode_info(screen["qr"]["ticket"])
    assert info == {
        **info,
        "appid": world.appid["city"],
        "scene": "NJ100",
        "permanent": True,
        "action_name": "QR_LIMIT_STR_SCENE",
    }
    assert Screen.get("NJ100").player_key_hash == hashlib.sha256(key.encode()).hexdigest()
    read = api.get(f"{V}/screens/nj100")
    assert read.status_code == 200 and "player_key" not in read.data and read.data["player_key_set"]
    assert key not in read.body.decode()
    assert drain("manifest") == [{"type": "rebuild", "screen_ids": ["NJ100"], "reason": "screen_updated"}]
    rotated = api.post(f"{V}/screens/NJ100/player-key")
    assert rotated.data["player_key"] != key
    assert Screen.get("NJ100").player_key_hash == hashlib.sha256(rotated.data["player_key"].encode()).hexdigest()


def test_wechat_failure_keeps_the_screen_and_retry_fills_the_qr(api, world, standin_server):
    standin_server.inject_failure(-1, path="/cgi-bin/qrcode/create", count=1)
    r = api.post(f"{V}/screens", screen_body(world))
    assert r.status_code == 201, r.data
    assert r.data["screen"]["qr"] == {"ticket": None, "url": None, "error": "-1 system error", "ready": False}
    assert r.data["player_key"]
    standin_server.inject_failure(45009, path="/cgi-bin/qrcode/create", count=1)
    still = api.post(f"{V}/screens/NJ100/qrcode")
    assert still.status_code == 502 and still.data["qr"]["error"].startswith("45009")
    retried = api.post(f"{V}/screens/NJ100/qrcode")
    assert retried.status_code == 200 and retried.data["qr"]["ready"] and retried.data["qr"]["error"] is None
    assert standin_server.qrcode_scene(retried.data["qr"]["url"]) == "NJ100"


def test_stand_in_down_entirely(api, world, standin_server):
    standin_server.inject_failure(-1, path="/cgi-bin/qrcode/create", http_status=503)
    r = api.post(f"{V}/screens", screen_body(world))
    assert r.status_code == 201 and not r.data["screen"]["qr"]["ready"]
    standin_server.clear_failures()


def test_screen_codes_and_accounts_are_checked(api, world):
    assert api.post(f"{V}/screens", screen_body(world, "a")).data["error"]["field"] == "screen_id"
    assert api.post(f"{V}/screens", screen_body(world, "NJ 1")).data["error"]["field"] == "screen_id"
    other = api.post(f"{V}/screens", screen_body(world, appid=world.appid["town"]))  # a sibling's account
    assert other.status_code == 400 and other.data["error"]["field"] == "appid"
    assert api.post(f"{V}/screens", screen_body(world)).status_code == 201
    dup = api.post(f"{V}/screens", screen_body(world))
    assert dup.status_code == 409 and dup.data["error"] == {
        "code": "unavailable",
        "field": "screen_id",
        "message": "screen id unavailable",
    }


def test_moving_a_screen_to_another_account_remakes_its_qr(api, world, standin_server):
    api.post(f"{V}/screens", screen_body(world, unit_id=world.unit["district"]))
    moved = api.patch(f"{V}/screens/NJ100", {"appid": world.appid["district"]})
    assert moved.status_code == 200, moved.data
    assert standin_server.qrcode_info(moved.data["qr"]["ticket"])["appid"] == world.appid["district"]


def test_menu_is_created_through_the_wechat_api(api, world, standin_server):
    r = api.post(f"{V}/accounts/{world.appid['city']}/menu")
    assert r.status_code == 200, r.data
    menu = standin_server.menu(world.appid["city"])
    buttons = menu["button"]
    assert buttons[0] == {
        "type": "view",
        "name": "订阅大屏",
        "url": f"https://kepu.example.cn/m/{world.appid['city']}/subscribe",
    }
    keys = {b.get("key") for b in buttons} | {s.get("key") for b in buttons for s in b.get("sub_button", [])}
    assert {"MY_SCREENS", "LATEST", "HOW_TO_SUBSCRIBE"} <= keys
    assert r.data["account"]["menu_created_at"]
    standin_server.inject_failure(40001, path="/cgi-bin/menu/create", count=None)
    failed = api.post(f"{V}/accounts/{world.appid['city']}/menu")
    assert failed.status_code == 502 and failed.data["error"]["code"] == "wechat_error"
    standin_server.clear_failures()


CUSTOM_MENU = {
    "button": [
        {"type": "click", "name": "最新科普", "key": "LATEST"},
        {
            "name": "服务",
            "sub_button": [
                {"type": "click", "name": "我的大屏", "key": "MY_SCREENS"},
                {"type": "view", "name": "科技馆官网", "url": "https://www.example.cn/museum"},
            ],
        },
    ]
}


def test_a_custom_menu_is_published_as_sent_and_read_back(api, world, standin_server):
    appid = world.appid["city"]
    before = api.get(f"{V}/accounts/{appid}/menu")
    assert before.status_code == 200 and before.data["default"] is True
    assert before.data["menu"]["button"][0]["name"] == "订阅大屏"  # the editor starts from the default menu
    r = api.post(f"{V}/accounts/{appid}/menu", CUSTOM_MENU)
    assert r.status_code == 200, r.data
    assert standin_server.menu(appid) == CUSTOM_MENU == r.data["menu"]
    after = api.get(f"{V}/accounts/{appid}/menu").data
    assert after["menu"] == CUSTOM_MENU and after["default"] is False and after["published_at"]
    assert api.post(f"{V}/accounts/{appid}/menu").data["menu"]["button"][0]["name"] == "订阅大屏"  # back to default
    assert api.get(f"{V}/accounts/{appid}/menu").data["default"] is True


@pytest.mark.parametrize(
    ("menu", "field"),
    [
        ({"button": [{"type": "click", "name": f"按钮{i}", "key": "LATEST"} for i in range(4)]}, "button"),
        (
            {
                "button": [
                    {
                        "name": "多",
                        "sub_button": [{"type": "click", "name": f"子{i}", "key": "LATEST"} for i in range(6)],
                    }
                ]
            },
            "button.0.sub_button",
        ),
        ({"button": [{"type": "click", "name": "未知", "key": "PRIZES"}]}, "button.0.key"),
        ({"button": [{"type": "view", "name": "链接", "url": "javascript:alert(1)"}]}, "button.0.url"),
        ({"button": [{"type": "click", "name": "一二三四五六", "key": "LATEST"}]}, "button.0.name"),
        ({"button": [{"type": "click", "name": "无键"}]}, "button.0"),
        ({"button": [{"name": "空父"}]}, "button.0"),
        ({"button": []}, "button"),
    ],
)
def test_a_menu_wechat_would_refuse_is_a_400_naming_the_field(api, world, standin_server, menu, field):
    r = api.post(f"{V}/accounts/{world.appid['city']}/menu", menu)
    assert r.status_code == 400, r.data
    assert r.data["error"]["field"] == field, r.data
    assert standin_server.menu(world.appid["city"]) is None  # nothing reached WeChat


def test_screen_with_subscribers_cannot_be_deleted(api, world):
    Screen(world.screen["city"]).update(actions=[Screen.fan_count.set(3)])
    r = api.delete(f"{V}/screens/{world.screen['city']}")
    assert r.status_code == 409 and r.data["error"]["code"] == "in_use"


def test_account_in_use_cannot_be_deleted_and_secrets_go_with_it(api, world):
    from chalicelib.secrets import load_account_secrets

    assert api.delete(f"{V}/accounts/{world.appid['city']}").data["error"]["code"] == "in_use"
    api.delete(f"{V}/screens/{world.screen['city']}")
    assert api.delete(f"{V}/accounts/{world.appid['city']}").status_code == 204
    assert load_account_secrets(world.appid["city"], force_fetch=True).names_set() == set()
