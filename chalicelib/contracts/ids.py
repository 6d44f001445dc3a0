"""The ids that cross the system's edges: appid, openid and screen code, each defined once.

Each id has a pattern (as JSON-schema/pydantic text, anchored with ``^...$``),
a check for code that reads raw strings (``fullmatch``, so a trailing newline
never passes); the annotated types for pydantic models are in ``id_types`` (kept
apart so that the WeChat callback, which checks ids but has no pydantic model,
does not import pydantic at cold start).  The admin API, the
WeChat callback, the phone pages, the screen API and the queue messages all
use these, so an id one of them accepts is never refused by another.

- **appid**: WeChat's official-account id.  Every lookup accepts 1-32 ASCII
  letters or digits; registering one (the admin API) also needs WeChat's real
  shape, ``wx`` and 8-30 more (``RegisteredAppId``).
- **openid**: a fan's id within one account: 1-64 letters, digits, ``_`` or ``-``.
- **screen code**: the screen's id, typed by people (``订阅 NJ001``) and used as
  its QR scene: 3-16 upper-case letters, digits or ``-``, starting with a
  letter or digit.  Typed codes are trimmed and upper-cased first.
"""

from __future__ import annotations

import re

APPID_PATTERN = r"^[A-Za-z0-9]{1,32}$"
REGISTERED_APPID_PATTERN = r"^wx[0-9A-Za-z]{8,30}$"
OPENID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
SCREEN_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,15}$")
# a code as a person may type it (any case); normalise_screen_code makes it upper-case
TYPED_SCREEN_CODE_PATTERN = "^" + SCREEN_CODE_RE.pattern.strip("^$").replace("A-Z", "A-Za-z") + "$"

_APPID_RE = re.compile(APPID_PATTERN)
_OPENID_RE = re.compile(OPENID_PATTERN)


def is_appid(value: object) -> bool:
    """True for a string an appid lookup may use."""
    return isinstance(value, str) and _APPID_RE.fullmatch(value) is not None


def is_openid(value: object) -> bool:
    """True for a string shaped like an openid."""
    return isinstance(value, str) and _OPENID_RE.fullmatch(value) is not None


def is_screen_code(value: object) -> bool:
    """True for a screen code as stored (already upper-case)."""
    return isinstance(value, str) and SCREEN_CODE_RE.fullmatch(value) is not None


def normalise_screen_code(raw: str | None) -> str | None:
    """Upper-case and validate a code typed by a person; None when it cannot be one."""
    code = (raw or "").strip().upper()
    return code if is_screen_code(code) else None
