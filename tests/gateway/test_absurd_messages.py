"""Signed but absurd messages: refused with a 4xx (or ``success`` where WeChat would only retry),
nothing written, never a 5xx.  The longest *legal* fields still go through: the caps keep every
key well inside DynamoDB's limits (2 KB partition key, 1 KB sort key)."""

from __future__ import annotations

import pytest

from chalicelib.models import CallbackRecord, DeliveryReceipt, Fan
from tests.gateway.tables import every_item
from tests.support import PLAIN_APPID, SAFE_APPID


def _event(sender, openid: str, **fields) -> str:
    return sender._xml(openid, {"MsgType": "event", **fields})


ABSURD = {
    "FromUserName of 1,500 characters": lambda s: s._xml(
        "o" * 1500, {"MsgType": "text", "Content": "帮助", "MsgId": 1}
    ),
    "FromUserName with markup characters": lambda s: s._xml(
        "o-<b>#x", {"MsgType": "text", "Content": "帮助", "MsgId": 1}
    ),
    "MsgId of 2,100 digits": lambda s: s._xml("o-x", {"MsgType": "text", "Content": "帮助", "MsgId": "9" * 2100}),
    "MsgId not a number": lambda s: s._xml("o-x", {"MsgType": "text", "Content": "帮助", "MsgId": "12ab"}),
    "EventKey of 2,100 characters": lambda s: _event(s, "o-x", Event="CLICK", EventKey="K" * 2100),
    "Event name of 500 characters": lambda s: _event(s, "o-x", Event="E" * 500),
    "CreateTime not a number": lambda s: s._xml("o-x", {"MsgType": "text", "Content": "1"}).replace(
        "<CreateTime>", "<CreateTime>x"
    ),
    "XML nested 1,000 deep": lambda s: s._xml("o-x", {"MsgType": "text", "Content": "1", "MsgId": 3}).replace(
        "</xml>", "<Deep>" + "<a>" * 1000 + "x" + "</a>" * 1000 + "</Deep></xml>"
    ),
    "2,000 fields": lambda s: s._xml("o-x", {"MsgType": "text", "Content": "1", "MsgId": 4}).replace(
        "</xml>", "<F>1</F>" * 2000 + "</xml>"
    ),
}


@pytest.mark.parametrize("mode", ["plain", "safe"])
@pytest.mark.parametrize("name", list(ABSURD))
def test_signed_absurd_message_is_refused_and_writes_nothing(gateway, demo, mode, name):
    sender, appid = (demo.plain, PLAIN_APPID) if mode == "plain" else (demo.safe, SAFE_APPID)
    before = every_item()
    response = gateway.post(appid, sender.sign(ABSURD[name](sender)))
    assert 400 <= response.status_code < 500, (name, response.status_code, response.body[:300])
    assert b"Traceback" not in response.body
    assert every_item() == before


def test_template_receipt_without_msgid_answers_success_and_writes_nothing(gateway, demo):
    """Nothing to attribute: WeChat would only retry an error, so the answer is ``success``.

    Only the nonce is spent (a callbacks record), so its signed query cannot carry another message.
    """
    sender = demo.plain
    before = every_item()
    request = sender.sign(_event(sender, "o-x", Event="TEMPLATESENDJOBFINISH", Status="success"))
    response = gateway.post(PLAIN_APPID, request)
    assert response.status_code == 200 and response.body == b"success", response.body
    after = every_item()
    callbacks = CallbackRecord.Meta.table_name
    assert {k: v for k, v in after.items() if k != callbacks} == {k: v for k, v in before.items() if k != callbacks}
    assert [r.key for r in CallbackRecord.scan()] == [f"nonce#{PLAIN_APPID}#{request.query['nonce']}"]
    assert not list(DeliveryReceipt.scan())


def test_longest_legal_fields_are_processed(gateway, demo):
    """A 64-character openid, a 1,024-byte VIEW link and a 20-digit MsgID fit every key."""
    sender = demo.plain
    openid = "o" + "x" * 63
    url = "https://kepu.example.cn/" + "科" * ((1024 - 24) // 3)
    assert len(url.encode()) <= 1024
    assert gateway.post(PLAIN_APPID, sender.sign(_event(sender, openid, Event="VIEW", EventKey=url))).status_code == 200
    receipt = _event(sender, openid, Event="TEMPLATESENDJOBFINISH", MsgID="18446744073709551615", Status="success")
    assert gateway.post(PLAIN_APPID, sender.sign(receipt)).status_code == 200
    text = sender._xml(openid, {"MsgType": "text", "Content": "帮助", "MsgId": "18446744073709551615"})
    assert gateway.post(PLAIN_APPID, sender.sign(text)).status_code == 200
    assert Fan.get(PLAIN_APPID, openid).last_message_at is not None
    # WeChat's most deeply nested event (a photo sent from the menu) is within the depth cap
    photo = _event(sender, openid, Event="pic_sysphoto", EventKey="PHOTO").replace(
        "</xml>",
        "<SendPicsInfo><Count>1</Count><PicList><item><PicMd5Sum><![CDATA[1b5f7c23b5bf75682a53e7b6d163e185]]>"
        "</PicMd5Sum></item></PicList></SendPicsInfo></xml>",
    )
    assert gateway.post(PLAIN_APPID, sender.sign(photo)).status_code == 200
