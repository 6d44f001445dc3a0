"""Build callback requests exactly as WeChat's servers do: signed, and encrypted in safe mode.

Shared by the user simulator, the tests and the benchmarks, so all three speak
the same protocol as the real thing (checked against Tencent's sample vector
in the tests).
"""

from __future__ import annotations

import base64
import secrets
import time
from dataclasses import dataclass, field
from itertools import count
from xml.sax.saxutils import escape

from wechatpy.crypto import PrpCrypto

from chalicelib.wechat.signature import signature_of

_msg_ids = count(int(time.time() * 1000) % 10**12)


@dataclass
class SignedRequest:
    query: dict[str, str]
    body: bytes

    @property
    def query_string(self) -> str:
        from urllib.parse import urlencode

        return urlencode(self.query)


@dataclass
class WeChatSender:
    """WeChat's side of one official account's callback."""

    appid: str
    original_id: str
    token: str
    aes_key: str | None = None
    mode: str = "plain"  # plain | compatible | safe
    clock: callable = field(default=time.time)

    def _xml(self, openid: str, fields: dict[str, str | int]) -> str:
        parts = [
            f"<ToUserName><![CDATA[{self.original_id}]]></ToUserName>",
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>",
            f"<CreateTime>{int(self.clock())}</CreateTime>",
        ]
        for name, value in fields.items():
            is_number = isinstance(value, int)
            parts.append(f"<{name}>{value}</{name}>" if is_number else f"<{name}><![CDATA[{value}]]></{name}>")
        return "<xml>" + "".join(parts) + "</xml>"

    def sign(self, xml: str, *, nonce: str | None = None, timestamp: int | None = None) -> SignedRequest:
        """Wrap a message the way WeChat would deliver it in this account's mode."""
        timestamp_s = str(timestamp if timestamp is not None else int(self.clock()))
        nonce = nonce or str(secrets.randbelow(10**10))
        query = {"signature": signature_of(self.token, timestamp_s, nonce), "timestamp": timestamp_s, "nonce": nonce}
        if "<FromUserName><![CDATA[" in xml:
            query["openid"] = _between(xml, "<FromUserName><![CDATA[", "]]>")
        if self.mode == "plain":
            return SignedRequest(query, xml.encode("utf-8"))
        crypto = PrpCrypto(base64.b64decode(self.aes_key + "="))
        encrypted = crypto.encrypt(xml, self.appid)
        encrypted = encrypted.decode() if isinstance(encrypted, bytes) else encrypted
        query.update(encrypt_type="aes", msg_signature=signature_of(self.token, timestamp_s, nonce, encrypted))
        if self.mode == "safe":
            body = (
                f"<xml><ToUserName><![CDATA[{self.original_id}]]></ToUserName>"
                f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
            )
        else:  # compatible: plaintext fields and the ciphertext side by side
            body = xml.replace("</xml>", f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>")
        return SignedRequest(query, body.encode("utf-8"))

    # --- the messages a user's actions produce
    def follow(self, openid: str, scene: str | None = None) -> SignedRequest:
        fields: dict[str, str | int] = {"MsgType": "event", "Event": "subscribe"}
        if scene:
            fields.update(EventKey=f"qrscene_{scene}", Ticket=f"ticket-{scene}")
        return self.sign(self._xml(openid, fields))

    def scan(self, openid: str, scene: str) -> SignedRequest:
        return self.sign(
            self._xml(openid, {"MsgType": "event", "Event": "SCAN", "EventKey": scene, "Ticket": f"ticket-{scene}"})
        )

    def unfollow(self, openid: str) -> SignedRequest:
        return self.sign(self._xml(openid, {"MsgType": "event", "Event": "unsubscribe", "EventKey": ""}))

    def click(self, openid: str, key: str) -> SignedRequest:
        return self.sign(self._xml(openid, {"MsgType": "event", "Event": "CLICK", "EventKey": key}))

    def view(self, openid: str, url: str) -> SignedRequest:
        return self.sign(self._xml(openid, {"MsgType": "event", "Event": "VIEW", "EventKey": url}))

    def text(self, openid: str, content: str, msg_id: int | None = None) -> SignedRequest:
        return self.sign(
            self._xml(
                openid,
                {
                    "MsgType": "text",
                    "Content": escape(content),
                    "MsgId": msg_id if msg_id is not None else next(_msg_ids),
                },
            )
        )

    def template_finished(self, openid: str, msg_id: int, status: str = "success") -> SignedRequest:
        return self.sign(
            self._xml(openid, {"MsgType": "event", "Event": "TEMPLATESENDJOBFINISH", "MsgID": msg_id, "Status": status})
        )

    def open_reply(self, body: str) -> str:
        """Decrypt a passive reply (safe and compatible modes) back to its XML."""
        if "<Encrypt>" not in body:
            return body
        encrypted = _between(body, "<Encrypt><![CDATA[", "]]>")
        timestamp = _between(body, "<TimeStamp>", "</TimeStamp>")
        nonce = _between(body, "<Nonce><![CDATA[", "]]>")
        signature = _between(body, "<MsgSignature><![CDATA[", "]]>")
        if signature_of(self.token, timestamp, nonce, encrypted) != signature:
            raise ValueError("reply signature does not verify")
        plain = PrpCrypto(base64.b64decode(self.aes_key + "=")).decrypt(encrypted, self.appid)
        return plain.decode() if isinstance(plain, bytes) else plain


def _between(text: str, start: str, end: str) -> str:
    i = text.index(start) + len(start)
    return text[i : text.index(end, i)]


def reply_content(xml: str) -> str:
    """The text content of a passive reply, "" for none."""
    if "<Content>" not in xml:
        return ""
    return _between(xml, "<Content><![CDATA[", "]]></Content>").replace("]]]]><![CDATA[>", "]]>")
