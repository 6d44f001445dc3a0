"""Screens' player keys: the one way they are minted, stored and checked.

A key is ``psk_`` and 32 url-safe random characters (24 bytes).  The prefix
makes a leaked key recognisable (secret scanners, logs); only the key's sha256
(hex) is stored, in ``Screen.player_key_hash``, and compared in constant time.

Checking never looks at the format: keys issued before the prefix existed
(bare ``token_urlsafe(24)``, minted by the local enrolment) keep working until
they are rotated.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import NamedTuple

PREFIX = "psk_"
RANDOM_BYTES = 24
MAX_LENGTH = 200  # longer than any key ever minted; a longer header is refused before hashing
_NO_HASH = "0" * 64


class PlayerKey(NamedTuple):
    """A fresh key (shown once) and the hash to store."""

    key: str
    key_hash: str


def mint() -> PlayerKey:
    """A new player key and its stored hash."""
    key = PREFIX + secrets.token_urlsafe(RANDOM_BYTES)
    return PlayerKey(key, hash_key(key))


def hash_key(key: str) -> str:
    """sha256 hex of the key: what ``Screen.player_key_hash`` holds."""
    return hashlib.sha256(key.encode()).hexdigest()


def matches(key: str | None, stored_hash: str | None) -> bool:
    """True when ``key`` is the key behind ``stored_hash``; the same work when there is no hash."""
    if not key or len(key) > MAX_LENGTH:
        return False
    return hmac.compare_digest(hash_key(key), stored_hash or _NO_HASH) and bool(stored_hash)
