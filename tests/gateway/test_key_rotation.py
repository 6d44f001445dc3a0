"""EncodingAESKey switch-over: every message sealed with the previous key is still accepted.

While WeChat switches an account to a new EncodingAESKey, messages arrive sealed
with either key.  Decrypting with the wrong key yields garbage that can pass some
of wechatpy's checks (it does not verify the PKCS#7 padding) and then fail on the
appid or the XML; each such message was refused instead of being tried with the
previous key.  This runs the protocol module alone (pure crypto, no emulator), so
it can afford thousands of short messages: the defect showed in about 1 in 100.
"""

from __future__ import annotations

import pytest

from chalicelib.wechat.callback import CallbackKeys, open_message
from chalicelib.wechat.rejection import CallbackRejected
from devstack.wechat_messages import WeChatSender
from tests.support import AES_KEY, AES_KEY_2, SAFE_APPID

ORIGINAL_ID = "gh_safe0000002"
MESSAGES = 3000


@pytest.mark.parametrize("mode", ["safe", "compatible"])
def test_every_message_sealed_with_the_previous_key_is_accepted(mode):
    keys = CallbackKeys("safetoken", aes_key=AES_KEY_2, aes_key_previous=AES_KEY)
    old = WeChatSender(SAFE_APPID, ORIGINAL_ID, "safetoken", AES_KEY, mode=mode)
    refused = []
    for i in range(MESSAGES):
        # Short messages (243 bytes sealed, one 256-byte block run): a wrong key's random padding
        # byte then often leaves a few bytes that decode as "" and fail only the appid check.
        request = old.sign(old._xml("o", {"MsgType": "text", "Content": str(i % 10)}))
        try:
            inbound = open_message(keys, SAFE_APPID, ORIGINAL_ID, request.query, request.body)
        except CallbackRejected as rejected:
            refused.append((i, rejected.status, rejected.reason))
            continue
        assert inbound.aes_key_used == AES_KEY  # the reply is sealed with the key WeChat used
        assert inbound.raw["Content"] == str(i % 10)
    assert refused == [], f"{len(refused)} of {MESSAGES} refused, e.g. {refused[:3]}"


def test_messages_sealed_with_the_current_key_still_use_it():
    keys = CallbackKeys("safetoken", aes_key=AES_KEY_2, aes_key_previous=AES_KEY)
    new = WeChatSender(SAFE_APPID, ORIGINAL_ID, "safetoken", AES_KEY_2, mode="safe")
    for i in range(200):
        request = new.text("o-new", str(i))
        assert open_message(keys, SAFE_APPID, ORIGINAL_ID, request.query, request.body).aes_key_used == AES_KEY_2


def test_a_message_sealed_with_neither_key_is_refused():
    keys = CallbackKeys("safetoken", aes_key=AES_KEY_2, aes_key_previous=AES_KEY)
    stranger = WeChatSender(SAFE_APPID, ORIGINAL_ID, "safetoken", "0" * 43, mode="safe")
    for i in range(200):
        request = stranger.text("o-x", str(i))
        with pytest.raises(CallbackRejected) as refused:
            open_message(keys, SAFE_APPID, ORIGINAL_ID, request.query, request.body)
        assert 400 <= refused.value.status < 500
