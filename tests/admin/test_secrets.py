"""Account secrets reach SSM and nothing else: no response, no log line, no table item."""

from __future__ import annotations

import json
import logging

from chalicelib.aws import client
from chalicelib.logs import logger
from chalicelib.models import ALL_MODELS
from chalicelib.secrets import load_account_secrets
from tests.admin.world import AES

V = "/api/v1"
APP_SECRET = "ZxQ7appSecretValue0123456789abcd"
TOKEN = "CallbackTok3nValue"
AES_1 = "A" * 20 + "b" * 23
AES_2 = "C" * 20 + "d" * 23
SECRETS = (APP_SECRET, TOKEN, AES_1, AES_2)


def test_secrets_never_leave_ssm(api, world, capfd, caplog, wechat_like_logs):
    caplog.set_level(logging.INFO)
    bodies = []
    request = {
        "appid": "wxsafe000000000009",
        "unit_id": world.unit["city"],
        "name": "安全模式号",
        "account_type": "subscription",
        "original_id": "gh_safe000009",
        "app_secret": APP_SECRET,
        "token": TOKEN,
        "aes_key": AES_1,
    }
    created = api.post(f"{V}/accounts", request, headers={"Idempotency-Key": "acct-1"})
    assert created.status_code == 201, created.data
    bodies.append(created.body)
    assert created.data["secrets"] == {"app_secret": True, "token": True, "aes_key": True, "aes_key_previous": False}
    assert created.data["callback_url"] == "https://kepu.example.cn/wechat/wxsafe000000000009"
    replay = api.post(f"{V}/accounts", request, headers={"Idempotency-Key": "acct-1"})
    assert replay.status_code == 201 and replay.headers["Idempotency-Replayed"] == "true"
    bodies.append(replay.body)
    rotated = api.patch(f"{V}/accounts/wxsafe000000000009", {"aes_key": AES_2, "name": "安全模式号2"})
    assert rotated.status_code == 200, rotated.data
    assert rotated.data["secrets"]["aes_key_previous"] is True
    bodies.append(rotated.body)
    stored = load_account_secrets("wxsafe000000000009", force_fetch=True)
    assert (stored.aes_key, stored.aes_key_previous, stored.token) == (AES_2, AES_1, TOKEN)
    bad = api.patch(f"{V}/accounts/wxsafe000000000009", {"token": "no spaces allowed here " + TOKEN})
    assert bad.status_code == 400 and bad.data["error"]["field"] == "token"
    bodies.append(bad.body)
    for path in (
        "/accounts/wxsafe000000000009",
        f"/accounts?unit_id={world.unit['city']}",
        f"/units/{world.unit['city']}/audit",
        "/audit/account/wxsafe000000000009",
    ):
        r = api.get(V + path)
        assert r.status_code == 200
        bodies.append(r.body)
    logger.info("probe line", appid="wxsafe000000000009")  # proves the capture works
    out, err = capfd.readouterr()
    logs = out + err + "\n".join(r.getMessage() + json.dumps(r.__dict__, default=str) for r in caplog.records)
    assert "probe line" in logs
    text = b"".join(bodies).decode()
    dump = _dump_tables()
    for secret in SECRETS:
        assert secret not in text
        assert secret not in logs
        assert secret not in dump
    assert AES not in text  # the world's accounts too


def _dump_tables() -> str:
    ddb = client("dynamodb")
    items = []
    for model in ALL_MODELS:
        for page in ddb.get_paginator("scan").paginate(TableName=model.Meta.table_name):
            items.extend(page["Items"])
    return json.dumps(items, ensure_ascii=False)


def test_validation_errors_do_not_echo_secrets(api, world):
    r = api.post(
        f"{V}/accounts",
        {
            "appid": "wxbad0000000000001",
            "unit_id": world.unit["city"],
            "name": "x",
            "original_id": "gh_bad00001",
            "app_secret": "short!" + APP_SECRET,
            "token": TOKEN,
        },
    )
    assert r.status_code == 400 and r.data["error"]["field"] == "app_secret"
    assert APP_SECRET not in r.body.decode()
