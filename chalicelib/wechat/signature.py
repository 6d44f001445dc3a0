"""Is a callback request from WeChat at all: its query parameters, its timestamp window, its signature.

WeChat signs every callback with the account's token (``signature``: SHA1
over token, timestamp and nonce, sorted); in safe and compatible modes it
also signs the ciphertext (``msg_signature``, the same scheme with the
``Encrypt`` value added).  These checks run first, before the body is read:
they need only the token and the query string.  The comparisons are ours
(constant-time; wechatpy compares with ``!=``).  Decrypting and parsing the
message that passed them is ``chalicelib.wechat.callback``'s job.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time

from chalicelib.wechat.rejection import CallbackRejected

TIMESTAMP_WINDOW_SECONDS = 300


def signature_of(*parts: str) -> str:
    """WeChat's SHA1 signature over the sorted parts."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8"), usedforsecurity=False).hexdigest()  # WeChat's scheme


# What WeChat really sends.  Checked before any comparison or arithmetic: ``hmac.compare_digest``
# raises on non-ASCII text and ``int()`` on digits ``str.isdigit`` accepts (``²``), and a 500 would
# make WeChat retry.  ``re.ASCII`` keeps ``\d``-style classes from matching other scripts' digits.
_QUERY_FORMATS = {
    "signature": re.compile(r"[0-9a-fA-F]{40}", re.ASCII),
    "msg_signature": re.compile(r"[0-9a-fA-F]{40}", re.ASCII),
    "timestamp": re.compile(r"[0-9]{1,12}", re.ASCII),
    "nonce": re.compile(r"[0-9A-Za-z_-]{1,64}", re.ASCII),
}


def require_param(query: dict[str, str], name: str) -> str:
    """The query parameter ``name``, present and shaped as WeChat sends it (else a 400)."""
    value = (query or {}).get(name)
    pattern = _QUERY_FORMATS.get(name)
    if not value or len(value) > 128 or (pattern is not None and not pattern.fullmatch(value)):
        raise CallbackRejected(400, f"missing or invalid query parameter: {name}")
    return value


def _check_timestamp(timestamp: str, now: float) -> None:
    if abs(now - int(timestamp)) > TIMESTAMP_WINDOW_SECONDS:
        raise CallbackRejected(403, "timestamp outside the allowed window")


def verify_signature(token: str, query: dict[str, str], now: float | None = None) -> tuple[str, str]:
    """Check ``signature`` and the timestamp window; returns (timestamp, nonce)."""
    signature = require_param(query, "signature")
    timestamp = require_param(query, "timestamp")
    nonce = require_param(query, "nonce")
    _check_timestamp(timestamp, time.time() if now is None else now)
    if not hmac.compare_digest(signature_of(token, timestamp, nonce), signature.lower()):
        raise CallbackRejected(403, "signature mismatch")
    return timestamp, nonce
