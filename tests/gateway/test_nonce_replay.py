"""Replays versus WeChat's own retries (CLARIFICATIONS: "Foundation and gateway").

In plain mode WeChat's signature covers token, timestamp and nonce, not the
body: whoever sees one signed query string can attach any body to it for the
timestamp window.  The nonce record is what stops that, so every nonce that
reaches the callback signed must be recorded with the request's fingerprint,
whatever path the request takes, and checked before anything is answered.
An exact repeat (same query string and body) is WeChat retrying: answered as
the first time, processed once.
"""

from __future__ import annotations

from chalicelib.models import Fan, Screen
from devstack.wechat_messages import SignedRequest
from tests.support import PLAIN_APPID


def _text(sender, openid: str, content: str, msg_id: int) -> str:
    return sender._xml(openid, {"MsgType": "text", "Content": content, "MsgId": msg_id})


def test_nonce_first_seen_on_a_duplicate_delivery_cannot_carry_another_message(gateway, demo):
    sender = demo.plain
    original = sender.sign(_text(sender, "o-eve", "帮助", 101), nonce="1111")
    first = gateway.post(PLAIN_APPID, original)
    assert first.status_code == 200
    # The same message delivered again under a fresh signed query (nonce 2222): a duplicate,
    # answered from the record...
    duplicate = sender.sign(original.body.decode(), nonce="2222")
    again = gateway.post(PLAIN_APPID, duplicate)
    assert again.status_code == 200 and again.body == first.body
    # ...but nonce 2222 is now spent: its signed query cannot carry another message.
    forged = SignedRequest(duplicate.query, _text(sender, "o-eve", "订阅 NJ001", 102).encode())
    response = gateway.post(PLAIN_APPID, forged)
    assert response.status_code == 403, response.body
    assert Screen.get("NJ001").fan_count == 0
    assert not (Fan.get(PLAIN_APPID, "o-eve").active_screens or set())


def test_same_nonce_other_body_same_msgid_is_refused(gateway, demo):
    sender = demo.plain
    original = sender.sign(_text(sender, "o-eve", "帮助", 201), nonce="3333")
    first = gateway.post(PLAIN_APPID, original)
    assert first.status_code == 200
    tampered = SignedRequest(original.query, _text(sender, "o-eve", "订阅 NJ001", 201).encode())
    response = gateway.post(PLAIN_APPID, tampered)
    assert response.status_code == 403, response.body
    assert Screen.get("NJ001").fan_count == 0
    # WeChat's exact retries still get exactly the first answer, and nothing is processed twice.
    for _ in range(3):
        retry = gateway.post(PLAIN_APPID, original)
        assert retry.status_code == 200 and retry.body == first.body
    assert Fan.get(PLAIN_APPID, "o-eve").last_message_at is not None


def test_exact_retries_of_a_subscription_count_once(gateway, demo):
    sender = demo.plain
    request = sender.sign(_text(sender, "o-ret", "订阅 NJ001", 301), nonce="4444")
    answers = {gateway.post(PLAIN_APPID, request).body for _ in range(4)}
    assert len(answers) == 1
    assert Screen.get("NJ001").fan_count == 1
