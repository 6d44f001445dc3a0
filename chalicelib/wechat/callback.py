"""Verify, decrypt and parse a WeChat callback; package the passive reply.

WeChat signs every callback with the account's token (``signature`` over
token, timestamp and nonce) and, in safe and compatible modes, also signs the
encrypted payload (``msg_signature``) and encrypts it with the account's
EncodingAESKey.  This module checks all of that before a single byte of the
message is trusted, and answers every hostile or malformed request with a
``CallbackRejected`` carrying a 4xx status: a 5xx would make WeChat retry.

The signature checks are in ``chalicelib.wechat.signature``, the refusal in
``chalicelib.wechat.rejection``; decryption and sealing are in
``chalicelib.wechat.crypto``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import tostring

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from wechatpy.messages import BaseMessage
from wechatpy.parser import parse_message

from chalicelib.wechat import crypto
from chalicelib.wechat.rejection import CallbackRejected
from chalicelib.wechat.signature import require_param, signature_of, verify_signature

MAX_BODY_BYTES = 32 * 1024  # WeChat's own messages are well under 4 KiB
PLAIN, COMPATIBLE, SAFE = "plain", "compatible", "safe"


@dataclass(frozen=True, repr=False)
class CallbackKeys:
    """What an account needs to verify and decrypt its callbacks (never logged)."""

    token: str
    aes_key: str | None = None
    aes_key_previous: str | None = None
    mode: str | None = None  # the account's declared 消息加解密方式; see ``accepts_plaintext``

    def accepts_plaintext(self) -> bool:
        """Safe mode (declared, or implied by a registered key) refuses unencrypted posts.

        Plaintext skips safe mode's only body integrity check (``msg_signature``
        over the ciphertext: the plain ``signature`` does not cover the body).
        Compatible mode accepts both, for switching modes in the console.
        """
        mode = self.mode or (SAFE if self.aes_key else PLAIN)
        return mode != SAFE

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


def verify_url(keys: CallbackKeys, query: dict[str, str], now: float | None = None) -> str:
    """The server-address check in the WeChat console: echo ``echostr`` back."""
    verify_signature(keys.token, query, now)
    return require_param(query, "echostr")


# Field caps at WeChat's own limits (公众平台 docs): an openid is 28 characters (64 allowed), a QR
# scene string 1-64 characters (EventKey "qrscene_" + it), a menu key ≤ 128 bytes and a menu link
# ≤ 1,024 bytes (VIEW's EventKey), MsgId a 64-bit integer.  Within them every key built from a
# message (fan, de-duplication record, receipt) stays far below DynamoDB's 1 KB / 2 KB key limits.
_FIELD_FORMATS = {
    "ToUserName": re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII),
    "FromUserName": re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII),
    "CreateTime": re.compile(r"[0-9]{1,12}", re.ASCII),
    "MsgType": re.compile(r"[A-Za-z_]{1,32}", re.ASCII),
    "Event": re.compile(r"[A-Za-z_]{1,64}", re.ASCII),
    "MsgId": re.compile(r"[0-9]{1,20}", re.ASCII),
    "MsgID": re.compile(r"[0-9]{1,20}", re.ASCII),
}
_FIELD_BYTES = {"EventKey": 1024, "Status": 256}
MAX_FIELD_BYTES = 8192  # any other field (Content, Ticket, nested event details)
MAX_FIELDS = 64
MAX_XML_DEPTH = 6  # WeChat's deepest, <xml><SendPicsInfo><PicList><item><PicMd5Sum>, is 5


def _depth(root) -> int:
    """Nesting depth without recursion (serialising a 1,000-deep tree would raise RecursionError)."""
    deepest, stack = 0, [(root, 1)]
    while stack:
        element, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_XML_DEPTH:
            break
        stack.extend((child, depth + 1) for child in element)
    return deepest


def _parse_xml(body: bytes) -> dict[str, str]:
    """Flat dict of the root's children; refuses DTDs, entities, non-XML and absurd shapes."""
    try:
        root = SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise CallbackRejected(400, "XML with DOCTYPE or entities is not accepted") from exc
    except SafeET.ParseError as exc:
        raise CallbackRejected(400, "body is not well-formed XML") from exc
    if root.tag != "xml":
        raise CallbackRejected(400, "root element must be <xml>")
    if len(root) > MAX_FIELDS or _depth(root) > MAX_XML_DEPTH:
        raise CallbackRejected(400, "message has too many or too deeply nested fields")
    fields: dict[str, str] = {}
    for child in root:
        if len(child):
            # Nested structures (e.g. ScanCodeInfo) are kept as their text-less XML; no event we
            # handle needs them, and wechatpy parses them from the serialised form if asked.
            fields[child.tag] = tostring(child, encoding="unicode")
        else:
            fields[child.tag] = child.text or ""
    return fields


def _check_fields(fields: dict[str, str]) -> None:
    """Every field within WeChat's real limits, before any of it reaches a key or a reply."""
    for name, value in fields.items():
        pattern = _FIELD_FORMATS.get(name)
        if pattern is not None and not pattern.fullmatch(value):
            raise CallbackRejected(400, f"message field {name} is not what WeChat sends")
        if len(value.encode("utf-8")) > _FIELD_BYTES.get(name, MAX_FIELD_BYTES):
            raise CallbackRejected(400, f"message field {name} is too long")


def _fingerprint(query: dict[str, str], body: bytes) -> str:
    canonical = "&".join(f"{k}={query[k]}" for k in sorted(query))
    return hashlib.sha256(canonical.encode() + b"\n" + body).hexdigest()


def _decrypt(keys: CallbackKeys, appid: str, encrypted: str) -> tuple[bytes, str]:
    """Decrypt with the current key, then the previous one (rotation window).

    A key whose result fails *any* check (base64, block size, padding, length,
    UTF-8, appid) is simply the wrong key: the next one is tried.  Only when no
    key opens the message is it refused — 403 if one opened it cleanly for
    another appid, else 400.
    """
    try:
        return crypto.open_with((keys.aes_key, keys.aes_key_previous), appid, encrypted)
    except crypto.WrongAppId as exc:
        raise CallbackRejected(403, "appid inside the message does not match the account") from exc
    except crypto.Undecryptable as exc:
        raise CallbackRejected(400, "message could not be decrypted with the account's keys") from exc


@dataclass(frozen=True)
class _Opened:
    """A callback body once opened: its fields, the mode it came in, the XML wechatpy parses, the key used."""

    fields: dict[str, str]
    mode: str
    xml: bytes
    aes_key_used: str | None = None


def _open_encrypted(
    keys: CallbackKeys, appid: str, query: dict[str, str], timestamp: str, nonce: str, outer: dict[str, str]
) -> _Opened:
    """Safe or compatible mode: check ``msg_signature`` over the ciphertext, then decrypt it strictly."""
    if not keys.aes_key:
        raise CallbackRejected(400, "account has no EncodingAESKey for an encrypted message")
    encrypted = outer.get("Encrypt")
    if not encrypted or len(encrypted) > MAX_BODY_BYTES:
        raise CallbackRejected(400, "encrypted message without Encrypt")
    msg_signature = require_param(query, "msg_signature")
    if not hmac.compare_digest(signature_of(keys.token, timestamp, nonce, encrypted), msg_signature.lower()):
        raise CallbackRejected(403, "msg_signature mismatch")
    plain, aes_key_used = _decrypt(keys, appid, encrypted)
    mode = COMPATIBLE if "MsgType" in outer else SAFE
    return _Opened(_parse_xml(plain), mode, plain, aes_key_used)


def _open_body(
    keys: CallbackKeys, appid: str, query: dict[str, str], timestamp: str, nonce: str, body: bytes
) -> _Opened:
    """The message inside the body, as ``encrypt_type`` says it travels (``aes`` or ``raw``)."""
    encrypt_type = (query.get("encrypt_type") or "raw").lower()
    outer = _parse_xml(body)
    if encrypt_type == "aes":
        return _open_encrypted(keys, appid, query, timestamp, nonce, outer)
    if encrypt_type != "raw":
        raise CallbackRejected(400, "unknown encrypt_type")
    if not keys.accepts_plaintext():
        raise CallbackRejected(403, "this account is in safe mode: unencrypted messages are refused")
    return _Opened(outer, PLAIN, body)


def _check_message(fields: dict[str, str], original_id: str) -> None:
    """Addressed to this account, from someone, of some type, every field within WeChat's limits."""
    if fields.get("ToUserName") != original_id:
        raise CallbackRejected(403, "message is addressed to another account")
    if not fields.get("FromUserName") or not fields.get("MsgType"):
        raise CallbackRejected(400, "message without FromUserName or MsgType")
    _check_fields(fields)


def _typed(xml: bytes) -> BaseMessage:
    """wechatpy's typed message (``TextMessage``, ``ClickEvent``, ...) for checked XML."""
    try:
        return parse_message(xml)
    except Exception as exc:  # xmltodict/wechatpy errors on odd but well-formed XML
        raise CallbackRejected(400, "message could not be parsed") from exc


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
    opened = _open_body(keys, appid, query, timestamp, nonce, body)
    _check_message(opened.fields, original_id)
    return InboundMessage(
        appid=appid,
        mode=opened.mode,
        message=_typed(opened.xml),
        raw=opened.fields,
        nonce=nonce,
        timestamp=timestamp,
        fingerprint=_fingerprint(query, body),
        aes_key_used=opened.aes_key_used,
    )


def seal_reply(keys: CallbackKeys, inbound: InboundMessage, reply_xml: str) -> str:
    """Encrypt a passive reply for safe/compatible mode with the key that worked."""
    if inbound.mode == PLAIN or not reply_xml:
        return reply_xml
    return crypto.seal(keys.token, inbound.aes_key_used or keys.aes_key or "", inbound.appid, reply_xml)


def message_fields(inbound: InboundMessage) -> dict[str, Any]:
    """The raw fields, for logs: identifiers only, never content."""
    return {k: inbound.raw.get(k) for k in ("MsgType", "Event", "CreateTime") if inbound.raw.get(k)}
