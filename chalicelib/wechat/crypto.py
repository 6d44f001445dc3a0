"""WeChat's message encryption (EncodingAESKey): strict decryption, wechatpy's sealing.

Decryption is ours, per key: wechatpy's ``PrpCrypto.decrypt`` ignores the
PKCS#7 padding and slices on an unchecked length, so a *wrong* key's garbage
sometimes comes out as a message that fails only the appid check.  Here every
check (base64, whole blocks, padding, length, UTF-8, appid) must hold, and a
key that fails any of them is just the wrong key: the previous one (key
rotation) is tried next.  wechatpy's AES cipher does the decrypting.

Sealing a reply is wechatpy's ``WeChatCrypto`` (cipher, envelope and
signature in Tencent's sample format): it has none of decryption's laxness to
guard against.

These modules (and ``cryptography`` under them) are imported by the first
encrypted message, not at load: a plaintext account's callback never needs
them, and the callback function's cold start is part of WeChat's 5 s.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import struct
import time
from collections.abc import Iterable


class WrongAppId(Exception):
    """Decrypted cleanly (padding and length hold) but sealed for another appid."""


class Undecryptable(Exception):
    """No key opens the message."""


def unseal(key: str, appid: str, encrypted: str) -> bytes:
    """One key's strict decryption: AES-CBC, PKCS#7 (32-byte blocks), length and appid all checked.

    wechatpy's ``PrpCrypto.decrypt`` ignores the padding and slices on an unchecked
    length, so a *wrong* key's garbage sometimes comes out as an empty message
    that fails only the appid check: that must count as "wrong key", not as a
    message for another account.  Its cipher is used, the checks are ours.
    """
    raw = base64.b64decode(encrypted, validate=True)
    if not raw or len(raw) % 32:
        raise ValueError("ciphertext is not whole 32-byte blocks")
    from cryptography.hazmat.primitives import padding
    from wechatpy.crypto.cryptography import WeChatCipher

    aes_key = base64.b64decode(key + "=")
    decrypted = WeChatCipher(aes_key).decrypt(raw)
    unpadder = padding.PKCS7(256).unpadder()
    plain = unpadder.update(decrypted) + unpadder.finalize()  # ValueError on bad padding
    body = plain[16:]  # 16 random bytes first
    if len(body) < 4:
        raise ValueError("too short")
    (length,) = struct.unpack("!I", body[:4])
    if 4 + length > len(body):
        raise ValueError("length field past the end")
    xml, sealed_for = body[4 : 4 + length], body[4 + length :]
    xml.decode("utf-8")  # UnicodeDecodeError is a ValueError
    if not hmac.compare_digest(sealed_for, appid.encode("utf-8")):
        raise WrongAppId()
    return xml


def open_with(keys: Iterable[str | None], appid: str, encrypted: str) -> tuple[bytes, str]:
    """The message and the key that opened it, trying each key in turn (current, then previous).

    Raises ``WrongAppId`` if a key opened it cleanly for another appid and none
    opened it for this one, else ``Undecryptable``.
    """
    wrong_appid = False
    for key in keys:
        if not key:
            continue
        try:
            return unseal(key, appid, encrypted), key
        except WrongAppId:
            wrong_appid = True
        except (ValueError, binascii.Error, struct.error):
            continue
    if wrong_appid:
        raise WrongAppId()
    raise Undecryptable()


def seal(token: str, key: str, appid: str, xml: str) -> str:
    """A passive reply encrypted with ``key`` for ``appid``, in its signed envelope."""
    from wechatpy.crypto import WeChatCrypto

    return WeChatCrypto(token, key, appid).encrypt_message(xml, secrets.token_hex(8), str(int(time.time())))
