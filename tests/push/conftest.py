"""Fixtures of the push pipeline tests: the app's SQS consumers driven by the pump, fans on both kinds of account."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime

import pytest
from chalice.test import Client

from app import app
from chalicelib.aws import send_json
from chalicelib.models import Account, Fan, Screen, Subscription
from chalicelib.models.subscriptions import fan_key
from chalicelib.resources import queue_specs
from chalicelib.services.gateway import tokens
from chalicelib.services.push import sender as push_sender
from chalicelib.settings import get_settings
from devstack.sqs_pump import SqsPump
from tests.gateway.conftest import Gateway
from tests.support import PLAIN_APPID, SAFE_APPID

TEMPLATE_ID = "tmpl-kepu-push"
NOTICE_ID = "notice-kepu-push"
TEMPLATE_PATH = "/cgi-bin/message/template/send"
CUSTOM_PATH = "/cgi-bin/message/custom/send"
NOTICE_PATH = "/cgi-bin/message/subscribe/bizsend"

_jobs = itertools.count(1)


def sqs_event(*bodies: dict | str) -> dict:
    """A Lambda SQS event of these bodies (message ids m1, m2, ...), as the send queue's mapping delivers it."""
    records = [
        {
            "messageId": f"m{i}",
            "receiptHandle": f"r{i}",
            "body": b if isinstance(b, str) else json.dumps(b),
            "attributes": {},
            "messageAttributes": {},
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws-cn:sqs:cn-north-1:123456789012:send",
            "awsRegion": "cn-north-1",
        }
        for i, b in enumerate(bodies, start=1)
    ]
    return {"Records": records}


@pytest.fixture
def push(wechat, demo, monkeypatch):
    """A fresh shared token provider, no retry back-off, no pacing, the template configured on the service account.

    Pacing is off (``PUSH_ACCOUNT_RATE=0``): at the default 100/s over five senders, each 300-fan test
    waited 15 s on the rate and nothing else.  The rate has its own tests (tests/push/test_scale_rules.py),
    one of them through the sender and the stand-in.
    """
    monkeypatch.setenv("PUSH_ACCOUNT_RATE", "0")
    tokens._installed = None
    tokens.install_shared_provider()
    push_sender.reset_caches()
    monkeypatch.setattr(push_sender, "BACKOFF_BASE", 0)
    account = Account.get(PLAIN_APPID)
    account.update(actions=[Account.template_id.set(TEMPLATE_ID)])
    Screen("NJ003", unit_id="city", name="市青少年宫", appid=PLAIN_APPID).save()
    return PushKit(wechat)


class PushKit:
    """Publishing, draining and looking at what fans received."""

    def __init__(self, standin):
        self.standin = standin
        self.pump = SqsPump(app, specs=queue_specs(get_settings()), visibility_override=1, stage="test")

    def publish(self, screen_ids, *, title="社区义诊通知", content_id=None, revision=1, **extra) -> str:
        content_id = content_id or f"c_{next(_jobs)}"
        message = {
            "type": "publish",
            "job_id": f"{content_id}:{revision}",
            "content_id": content_id,
            "revision": revision,
            "unit_id": "city",
            "screen_ids": list(screen_ids),
            "title": title,
            "summary": "本周六上午9点，社区医院",
            "kind": "notice",
            "category": "community_notice",
            "priority": "normal",
            "published_at": datetime.now(UTC).isoformat(),
            **extra,
        }
        send_json(get_settings().push_queue_name, message)
        return message["job_id"]

    def drain(self, timeout: float = 30.0) -> int:
        return self.pump.drain(timeout=timeout)

    def received(self, openid: str, content_id: str | None = None) -> list[dict]:
        return [m for m in self.standin.inbox(openid) if content_id is None or content_id in _link_of(m)]

    def calls_for(self, path: str, openid: str) -> list[dict]:
        return [
            c for c in self.standin.calls(path) if isinstance(c["body"], dict) and c["body"].get("touser") == openid
        ]


def _link_of(message: dict) -> str:
    payload = message["payload"]
    if "url" in payload:
        return payload["url"]
    if "page" in payload:
        return payload["page"]
    return payload.get("news", {}).get("articles", [{}])[0].get("url", "")


def seed_fans(standin, appid: str, screens: list[str], openids: list[str], **fan_fields) -> None:
    """Subscribe fans directly (as the gateway would have), and make WeChat know them as followers."""
    now = datetime.now(UTC)
    with Subscription.batch_write() as subs, Fan.batch_write() as fans:
        for openid in openids:
            for screen in screens:
                subs.save(
                    Subscription(
                        fan_key(appid, openid), screen, appid=appid, openid=openid, active_screen_id=screen, source="qr"
                    )
                )
            fans.save(Fan(appid, openid, following=True, followed_at=now, active_screens=set(screens), **fan_fields))
    for openid in openids:
        standin.follow(appid, openid)


@pytest.fixture
def gateway(demo):
    with Client(app) as client:
        yield Gateway(client)


__all__ = ["NOTICE_ID", "SAFE_APPID", "TEMPLATE_ID"]
