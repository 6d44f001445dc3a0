"""Every hostile or malformed callback gets a clear 4xx, writes nothing and never a 5xx."""

from __future__ import annotations

import base64
import time

import pytest
from wechatpy.crypto import PrpCrypto

from chalicelib.dal import accounts as account_repo
from chalicelib.models import CallbackRecord, Fan, Screen
from chalicelib.secrets import store_account_secrets
from devstack.wechat_messages import SignedRequest, WeChatSender
from tests.support import AES_KEY, AES_KEY_2, PLAIN_APPID, SAFE_APPID


def nothing_written() -> bool:
    return not list(CallbackRecord.scan()) and not list(Fan.scan()) and Screen.get("NJ001").fan_count == 0


def test_tencent_sample_vector():
    """Tencent's official sample: our encryption is byte-for-byte theirs."""
    crypto = PrpCrypto(base64.b64decode("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG="))
    crypto.get_random_string = lambda: "aaaabbbbccccdddd"
    encrypted = crypto.encrypt("我是中文abcd123", "wxb11529c136998cb6")
    assert encrypted == b"jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
    assert crypto.decrypt(encrypted, "wxb11529c136998cb6") == "我是中文abcd123"


def test_url_verification_echoes_echostr(gateway, demo):
    ok = demo.plain.sign("<xml/>").query | {"echostr": "1234567890"}
    response = gateway.client.http.get(f"/wechat/{PLAIN_APPID}?" + "&".join(f"{k}={v}" for k, v in ok.items()))
    assert response.status_code == 200 and response.body == b"1234567890"
    bad = dict(ok, signature="0" * 40)
    response = gateway.client.http.get(f"/wechat/{PLAIN_APPID}?" + "&".join(f"{k}={v}" for k, v in bad.items()))
    assert response.status_code == 403


def _with(request: SignedRequest, **changes) -> SignedRequest:
    return SignedRequest({**request.query, **changes}, request.body)


@pytest.mark.parametrize(
    ("name", "mutate", "status"),
    [
        ("bad signature", lambda r: _with(r, signature="f" * 40), 403),
        (
            "missing signature",
            lambda r: SignedRequest({k: v for k, v in r.query.items() if k != "signature"}, r.body),
            400,
        ),
        ("stale timestamp", None, 403),
        ("not XML", lambda r: SignedRequest(r.query, b"hello there"), 400),
        ("empty body", lambda r: SignedRequest(r.query, b""), 400),
        ("oversize body", lambda r: SignedRequest(r.query, b"<xml>" + b"a" * 40_000 + b"</xml>"), 413),
        ("wrong root", lambda r: SignedRequest(r.query, b"<root><a>1</a></root>"), 400),
        ("unknown encrypt_type", lambda r: _with(r, encrypt_type="rot13"), 400),
    ],
)
def test_bad_input_is_refused_without_writes(gateway, demo, name, mutate, status):
    sender = demo.plain
    request = sender.follow("o-mallory", scene="NJ001")
    if name == "stale timestamp":
        sender = WeChatSender(sender.appid, sender.original_id, sender.token, clock=lambda: time.time() - 301)
        request = sender.follow("o-mallory", scene="NJ001")
    else:
        request = mutate(request)
    response = gateway.post(PLAIN_APPID, request)
    assert response.status_code == status, (name, response.body)
    assert b"Traceback" not in response.body
    assert nothing_written()


def test_doctype_and_entities_are_refused(gateway, demo):
    evil = (
        '<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
        "<xml><ToUserName>gh_plain000001</ToUserName><FromUserName>o-x</FromUserName>"
        "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&lol2;</Content><MsgId>1</MsgId></xml>"
    )
    request = demo.plain.sign(evil)
    response = gateway.post(PLAIN_APPID, request)
    assert response.status_code == 400 and b"DOCTYPE" in response.body
    assert nothing_written()


def test_unknown_appid_and_wrong_content_type(gateway, demo):
    request = demo.plain.follow("o-x")
    assert gateway.post("wxunknown0000000", request).status_code == 404
    assert gateway.post("wx../../etc", request).status_code in (403, 404)
    assert gateway.post(PLAIN_APPID, request, content_type="application/json").status_code == 415
    assert nothing_written()


def test_message_addressed_to_another_account_is_refused(gateway, demo):
    """Signed with this account's token but addressed (ToUserName) to another account."""
    impostor = WeChatSender(PLAIN_APPID, "gh_safe0000002", demo.plain.token)
    response = gateway.post(PLAIN_APPID, impostor.follow("o-x", scene="NJ001"))
    assert response.status_code == 403
    assert nothing_written()


def test_encrypted_for_another_appid_is_refused(gateway, demo):
    """The appid inside the ciphertext must be the appid in the path."""
    other = WeChatSender("wxother000000009", demo.safe.original_id, demo.safe.token, AES_KEY, mode="safe")
    response = gateway.post(SAFE_APPID, other.follow("o-x", scene="SQ001"))
    assert response.status_code == 403
    assert Screen.get("SQ001").fan_count == 0


def test_safe_mode_requires_valid_msg_signature(gateway, demo):
    request = demo.safe.follow("o-x", scene="SQ001")
    response = gateway.post(SAFE_APPID, _with(request, msg_signature="0" * 40))
    assert response.status_code == 403
    assert Screen.get("SQ001").fan_count == 0


def test_true_replay_with_reused_nonce_is_refused(gateway, demo):
    """Same nonce within the window, different content: a replay, not a WeChat retry."""
    sender = demo.plain
    first = sender.sign(sender._xml("o-eve", {"MsgType": "text", "Content": "帮助", "MsgId": 1}), nonce="4242")
    assert gateway.post(PLAIN_APPID, first).status_code == 200
    replay = sender.sign(sender._xml("o-eve", {"MsgType": "text", "Content": "订阅 NJ001", "MsgId": 2}), nonce="4242")
    response = gateway.post(PLAIN_APPID, replay)
    assert response.status_code == 403
    assert Screen.get("NJ001").fan_count == 0
    # the exact same request again is WeChat retrying: answered as the first time
    assert gateway.post(PLAIN_APPID, first).status_code == 200


def test_aes_key_rotation_accepts_previous_key_and_answers_with_it(gateway, demo):
    store_account_secrets(SAFE_APPID, aes_key=AES_KEY_2)  # AES_KEY becomes the previous key
    account_repo.clear()
    old = demo.safe  # WeChat may still encrypt with the old key for a while
    reply = gateway.say(old, old.follow("o-rot", scene="SQ001"))
    assert "订阅成功" in reply or "成功订阅" in reply
    new = WeChatSender(SAFE_APPID, old.original_id, old.token, AES_KEY_2, mode="safe", clock=old.clock)
    assert "NJ001" in gateway.say(new, new.text("o-rot", "订阅 NJ001"))


def test_reply_content_cannot_break_out_of_cdata(gateway, demo):
    Screen("NJ009", unit_id="city", name="坏名字]]><Evil>x</Evil>", appid=PLAIN_APPID).save()
    reply = gateway.say(demo.plain, demo.plain.text("o-x", "订阅 NJ009"))
    assert "坏名字]]><Evil>x</Evil>" in reply


def _post_query(gateway, appid: str, query: dict[str, str], body: bytes, method: str = "POST"):
    from urllib.parse import urlencode

    url = f"/wechat/{appid}?{urlencode(query)}"
    if method == "GET":
        return gateway.client.http.get(url)
    return gateway.client.http.post(url, headers={"Content-Type": "text/xml"}, body=body)


@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize(
    ("name", "changes"),
    [
        ("non-ASCII signature", {"signature": "签名" * 20}),
        ("non-ASCII nonce", {"nonce": "随机数"}),
        ("non-ASCII msg_signature", {"msg_signature": "签名ü"}),
        ("superscript-digit timestamp", {"timestamp": "²"}),
        ("non-ASCII digits in timestamp", {"timestamp": "١٢٣٤٥٦٧٨٩٠"}),
    ],
)
def test_unsigned_odd_query_parameters_get_4xx(gateway, demo, method, name, changes):
    """Nobody holding the token can send these; they must still be refused cleanly, never a 500."""
    accounts = [(demo.plain, PLAIN_APPID), (demo.safe, SAFE_APPID)]
    if "msg_signature" in changes:  # only encrypted posts carry (and check) msg_signature
        if method == "GET":
            pytest.skip("URL verification carries no msg_signature")
        accounts = accounts[1:]
    for sender, appid in accounts:
        request = sender.follow("o-mallory", scene="NJ001")
        query = {**request.query, "echostr": "42", **changes}
        response = _post_query(gateway, appid, query, request.body, method)
        assert 400 <= response.status_code < 500, (name, appid, response.status_code, response.body)
    assert nothing_written()


@pytest.mark.parametrize("content_type", ["text/plain", "text/xml", "application/x-www-form-urlencoded", "*/*", ""])
def test_url_verification_accepts_any_content_type(gateway, demo, content_type):
    """WeChat's server-address check is a body-less GET: its headers must not matter."""
    from urllib.parse import urlencode

    query = demo.plain.sign("<xml/>").query | {"echostr": "echo-1234"}
    response = gateway.client.http.get(
        f"/wechat/{PLAIN_APPID}?{urlencode(query)}", headers={"Content-Type": content_type}
    )
    assert response.status_code == 200 and response.body == b"echo-1234", response.body


def test_safe_mode_account_refuses_plaintext(gateway, demo):
    """Safe mode's body integrity (msg_signature over the ciphertext) cannot be skipped by posting plaintext."""
    plaintext = WeChatSender(SAFE_APPID, demo.safe.original_id, demo.safe.token, mode="plain", clock=demo.safe.clock)
    response = gateway.post(SAFE_APPID, plaintext.follow("o-mallory", scene="SQ001"))
    assert response.status_code == 403, response.body
    assert Screen.get("SQ001").fan_count == 0 and not list(CallbackRecord.scan())
    # the same account's encrypted posts, safe and compatible alike, are accepted
    for mode in ("safe", "compatible"):
        sender = WeChatSender(
            SAFE_APPID, demo.safe.original_id, demo.safe.token, AES_KEY, mode=mode, clock=demo.safe.clock
        )
        assert gateway.post(SAFE_APPID, sender.text(f"o-{mode}", "帮助")).status_code == 200


@pytest.mark.parametrize("message_mode", ["compatible", "plain"])
def test_plaintext_is_accepted_when_the_account_is_declared_compatible_or_plain(gateway, demo, message_mode):
    """While switching modes in the WeChat console, the account is declared compatible: both are accepted."""
    from chalicelib.models import Account

    Account.get(SAFE_APPID).update(actions=[Account.message_mode.set(message_mode)])
    account_repo.clear()
    plaintext = WeChatSender(SAFE_APPID, demo.safe.original_id, demo.safe.token, mode="plain", clock=demo.safe.clock)
    assert "订阅" in gateway.say(plaintext, plaintext.follow("o-switch", scene="SQ001"))
    assert Screen.get("SQ001").fan_count == 1
    assert gateway.say(demo.safe, demo.safe.text("o-switch", "帮助"))
