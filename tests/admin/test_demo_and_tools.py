"""The demo world (``devstack.demo.seed``) and the root-admin command."""

from __future__ import annotations

import hashlib

from chalice.test import Client

from app import app
from chalicelib.aws import client
from chalicelib.models import Account, ApiKey, Content, Screen, Unit, User
from chalicelib.settings import get_settings
from devstack import demo
from tests.admin.world import Api
from tools import create_root_admin

V = "/api/v1"


def counts():
    return {m.__name__: sum(1 for _ in m.scan()) for m in (Unit, Account, Screen, Content, User)}


def test_seed_builds_the_world_once(aws, standin_server):
    standin_server.reset()
    first = demo.seed(standin_server)
    before = counts()
    assert before == {"Unit": 3, "Account": 2, "Screen": 3, "Content": 4, "User": 6}  # + the sibling's editor
    second = demo.seed(standin_server)
    assert counts() == before
    assert first["units"] == second["units"] and first["content"] == second["content"]
    keys = {u["role"]: u["api_key"] for u in second["users"]}
    old_keys = {u["role"]: u["api_key"] for u in first["users"]}
    assert keys["editor"] != old_keys["editor"]
    assert [a["appid"] for a in second["accounts"]] == [demo.SERVICE_APPID, demo.SUBSCRIPTION_APPID]
    assert second["accounts"][1]["mode"] == "safe" and second["accounts"][1]["aes_key"]
    active = [k for k in ApiKey.scan() if k.revoked_at is None]
    assert len(active) == 6  # one live key per demo user, whatever the number of runs
    with Client(app) as c:
        api = Api(c)
        for role, key in keys.items():
            assert api.as_(key).get(f"{V}/me").status_code == 200, role
        assert api.as_(old_keys["editor"]).get(f"{V}/me").status_code == 401
        for person in second["users"]:  # every demo user signs in to the console with the printed login
            signed = api.as_(None).post(
                f"{V}/auth/login", {"username": person["username"], "password": person["password"]}
            )
            assert signed.status_code == 200 and signed.data["user"]["user_id"] == person["user_id"]
        listed = api.as_(keys["viewer"]).get(f"{V}/content?status=published").data["items"]
        assert {i["kind"] for i in listed} == {"article", "image"}  # the city sees its own, not the province's
        everything = api.as_(keys["root admin"]).get(f"{V}/content?status=published").data["items"]
        assert len(everything) == 4 and any(i["priority"] == "urgent" for i in everything)
    for listed_screen in second["screens"]:
        screen = Screen.get(listed_screen["screen_id"])
        assert standin_server.qrcode_scene(screen.qr_url) == screen.screen_id
        assert screen.player_key_hash == hashlib.sha256(listed_screen["player_key"].encode()).hexdigest()
    safe = Account.get(demo.SUBSCRIPTION_APPID)
    assert safe.account_type == "subscription" and "aes_key" in safe.secrets_set
    image = Content.get(second["content"]["image"])
    head = client("s3").head_object(Bucket=get_settings().player_bucket, Key=image.media[0]["key"])
    assert head["ContentType"] == "image/png"
    assert standin_server.menu(demo.SERVICE_APPID)["button"][0]["name"] == "订阅大屏"


def test_create_root_admin_prints_a_working_key(aws, capsys, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws)  # the command acts only on a named endpoint (or make dev's)
    assert create_root_admin.main(["--unit-name", "浙江省科协", "--user-name", "运维"]) == 0
    out = capsys.readouterr().out
    key = out.split("API key (shown once, keep it safe): ")[1].strip()
    with Client(app) as c:
        me = Api(c, key).get(f"{V}/me")
    assert me.status_code == 200 and me.data["grants"][0]["role"] == "admin"
