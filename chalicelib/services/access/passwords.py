"""Password hashing with scrypt (memory-hard, in the standard library: nothing to package for Lambda).

Stored as ``scrypt$<log2 n>$<r>$<p>$<salt>$<hash>`` so the cost can be raised
later and old hashes still verify.  The password itself is never stored,
logged or returned.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

LOG_N, R, P = 15, 8, 1  # 32 MiB per hash: too costly to brute-force, ~0.1 s to check
MIN_LENGTH, MAX_LENGTH = 8, 128


def _scrypt(password: str, salt: bytes, log_n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=2**log_n, r=r, p=p, maxmem=2**26, dklen=32)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, LOG_N, R, P)
    b64 = base64.b64encode
    return f"scrypt${LOG_N}${R}${P}${b64(salt).decode()}${b64(digest).decode()}"


def verify(password: str, stored: str) -> bool:
    try:
        scheme, log_n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = _scrypt(password, base64.b64decode(salt), int(log_n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


# Checked against when the username is unknown, so a miss costs as long as a wrong password.
DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def weakness(password: str, username: str | None = None) -> str | None:
    """Why the password is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"at most {MAX_LENGTH} characters"
    if username and password.lower() == username.lower():
        return "must differ from the username"
    if len(set(password)) < 4:
        return "too simple"
    return None
