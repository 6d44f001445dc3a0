"""Verify, decrypt and parse a WeChat callback; package the passive reply.

WeChat signs every callback with the account's token (``signature`` over
token, timestamp and nonce) and, in safe and compatible modes, also signs the
encrypted payload (``msg_signature``) and encrypts it with the account's
EncodingAESKey.  This module checks all of that before a single byte of the
message is trusted, and answers every hostile or malformed request with a
``CallbackRejected`` carrying a 4xx status: a 5xx would make WeChat retry.

Crypto is wechatpy's (``PrpCrypto``, conformant with Tencent's sample); the
signature comparison is ours because wechatpy compares with ``!=`` and we want
a constant-time comparison.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import tostring

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from wechatpy.crypto import PrpCrypto
from wechatpy.exceptions import InvalidAppIdException
from wechatpy.messages import BaseMessage
from wechatpy.parser import parse_message

MAX_BODY_BYTES = 32 * 1024  # WeChat's own messages are well under 4 KiB
TIMESTAMP_WINDOW_SECONDS = 300
PLAIN, COMPATIBLE, SAFE = "plain", "compatible", "safe"


class CallbackRejected(Exception):
    """A request that must be refused; ``status`` is always a 4xx."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True, repr=False)
class CallbackKeys:
    """What an account needs to verify and decrypt its callbacks (never logged)."""

    token: str
    aes_key: str | None = None
    aes_key_previous: str | None = None

    def __repr__(self) -> str:
        return "CallbackKeys(<redacted>)"


@dataclass
class InboundMessage:
    """A verified message, with what is needed to answer it."""

    appid: str
    mode: str
    message: BaseMessage
    raw: dict[str, str]
    nonce: str
    timestamp: str
    fingerprint: str
    aes_key_used: str | None = None

    @property
    def openid(self) -> str:
        return self.raw.get("FromUserName", "")

    @property
    def dedup_key(self) -> str:
        """MsgId for messages; FromUserName+CreateTime+Event+EventKey for events."""
        if self.raw.get("MsgType") == "event":
            parts = [self.raw.get(k, "") for k in ("FromUserName", "CreateTime", "Event", "EventKey")]
            if self.raw.get("MsgID"):
                parts.append(self.raw["MsgID"])
            return "evt#" + "#".join(parts)
        return "msg#" + self.raw.get("MsgId", f"{self.openid}#{self.raw.get('CreateTime', '')}")


def signature_of(*parts: str) -> str:
    """WeChat's SHA1 signature over the sorted parts."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8"), usedforsecurity=False).hexdigest()  # WeChat's scheme


def _require(query: dict[str, str], name: str) -> str:
    value = (query or {}).get(name)
    if not value or len(value) > 128:
        raise CallbackRejected(400, f"missing or invalid query parameter: {name}")
    return value


def _check_timestamp(timestamp: str, now: float) -> None:
    if not timestamp.isdigit():
        raise CallbackRejected(400, "timestamp is not a number")
    if abs(now - int(timestamp)) > TIMESTAMP_WINDOW_SECONDS:
        raise CallbackRejected(403, "timestamp outside the allowed window")


def verify_signature(token: str, query: dict[str, str], now: float | None = None) -> tuple[str, str]:
    """Check ``signature`` and the timestamp window; returns (timestamp, nonce)."""
    signature = _require(query, "signature")
    timestamp = _require(query, "timestamp")
    nonce = _require(query, "nonce")
    _check_timestamp(timestamp, time.time() if now is None else now)
    if not hmac.compare_digest(signature_of(token, timestamp, nonce), signature.lower()):
        raise CallbackRejected(403, "signature mismatch")
    return timestamp, nonce


def verify_url(keys: CallbackKeys, query: dict[str, str], now: float | None = None) -> str:
    """The server-address check in the WeChat console: echo ``echostr`` back."""
    verify_signature(keys.token, query, now)
    return _require(query, "echostr")


def _parse_xml(body: bytes) -> dict[str, str]:
    """Flat dict of the root's children; refuses DTDs, entities and non-XML."""
    try:
        root = SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise CallbackRejected(400, "XML with DOCTYPE or entities is not accepted") from exc
    except SafeET.ParseError as exc:
        raise CallbackRejected(400, "body is not well-formed XML") from exc
    if root.tag != "xml":
        raise CallbackRejected(400, "root element must be <xml>")
    fields: dict[str, str] = {}
    for child in root:
        if len(child):
            # Nested structures (e.g. ScanCodeInfo) are kept as their text-less XML; no event we
            # handle needs them, and wechatpy parses them from the serialised form if asked.
            fields[child.tag] = tostring(child, encoding="unicode")
        else:
            fields[child.tag] = child.text or ""
    return fields


def _fingerprint(query: dict[str, str], body: bytes) -> str:
    canonical = "&".join(f"{k}={query[k]}" for k in sorted(query))
    return hashlib.sha256(canonical.encode() + b"\n" + body).hexdigest()


def _decrypt(keys: CallbackKeys, appid: str, encrypted: str) -> tuple[bytes, str]:
    """Decrypt with the current key, then the previous one (rotation window)."""
    for key in (keys.aes_key, keys.aes_key_previous):
        if not key:
            continue
        try:
            crypto = PrpCrypto(base64.b64decode(key + "="))
            plain = crypto.decrypt(encrypted, appid)
            return (plain.encode("utf-8") if isinstance(plain, str) else plain), key
        except InvalidAppIdException as exc:
            raise CallbackRejected(403, "appid inside the message does not match the account") from exc
        except Exception:  # noqa: S112 - a wrong key fails padding or length checks; try the next one
            continue
    raise CallbackRejected(400, "message could not be decrypted with the account's keys")


def open_message(
    keys: CallbackKeys,
    appid: str,
    original_id: str,
    query: dict[str, str],
    body: bytes,
    now: float | None = None,
) -> InboundMessage:
    """Verify everything about a POSTed callback and return the parsed message."""
    if len(body) > MAX_BODY_BYTES:
        raise CallbackRejected(413, "body too large")
    if not body:
        raise CallbackRejected(400, "empty body")
    timestamp, nonce = verify_signature(keys.token, query, now)
    encrypt_type = (query.get("encrypt_type") or "raw").lower()
    outer = _parse_xml(body)
    aes_key_used = None
    if encrypt_type == "aes":
        if not keys.aes_key:
            raise CallbackRejected(400, "account has no EncodingAESKey for an encrypted message")
        encrypted = outer.get("Encrypt")
        if not encrypted or len(encrypted) > MAX_BODY_BYTES:
            raise CallbackRejected(400, "encrypted message without Encrypt")
        msg_signature = _require(query, "msg_signature")
        if not hmac.compare_digest(signature_of(keys.token, timestamp, nonce, encrypted), msg_signature.lower()):
            raise CallbackRejected(403, "msg_signature mismatch")
        plain, aes_key_used = _decrypt(keys, appid, encrypted)
        fields = _parse_xml(plain)
        mode = COMPATIBLE if "MsgType" in outer else SAFE
        xml_for_parser = plain
    elif encrypt_type == "raw":
        fields, mode, xml_for_parser = outer, PLAIN, body
    else:
        raise CallbackRejected(400, "unknown encrypt_type")
    if fields.get("ToUserName") != original_id:
        raise CallbackRejected(403, "message is addressed to another account")
    if not fields.get("FromUserName") or not fields.get("MsgType"):
        raise CallbackRejected(400, "message without FromUserName or MsgType")
    try:
        message = parse_message(xml_for_parser)
    except Exception as exc:  # xmltodict/wechatpy errors on odd but well-formed XML
        raise CallbackRejected(400, "message could not be parsed") from exc
    return InboundMessage(
        appid=appid, mode=mode, message=message, raw=fields, nonce=nonce, timestamp=timestamp,
        fingerprint=_fingerprint(query, body), aes_key_used=aes_key_used,
    )


def seal_reply(keys: CallbackKeys, inbound: InboundMessage, reply_xml: str) -> str:
    """Encrypt a passive reply for safe/compatible mode with the key that worked."""
    if inbound.mode == PLAIN or not reply_xml:
        return reply_xml
    key = inbound.aes_key_used or keys.aes_key
    crypto = PrpCrypto(base64.b64decode(key + "="))
    encrypted = crypto.encrypt(reply_xml, inbound.appid)
    encrypted = encrypted.decode() if isinstance(encrypted, bytes) else encrypted
    timestamp = str(int(time.time()))
    nonce = secrets.token_hex(8)
    signature = signature_of(keys.token, timestamp, nonce, encrypted)
    return (
        f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
        f"<MsgSignature><![CDATA[{signature}]]></MsgSignature>"
        f"<TimeStamp>{timestamp}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>"
    )


def message_fields(inbound: InboundMessage) -> dict[str, Any]:
    """The raw fields, for logs: identifiers only, never content."""
    return {k: inbound.raw.get(k) for k in ("MsgType", "Event", "CreateTime") if inbound.raw.get(k)}
