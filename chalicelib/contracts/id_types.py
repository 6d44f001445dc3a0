"""The ids of ``contracts.ids`` as annotated types for pydantic models (admin API, queue messages)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, StringConstraints, WithJsonSchema

from chalicelib.contracts.ids import (
    APPID_PATTERN,
    OPENID_PATTERN,
    REGISTERED_APPID_PATTERN,
    SCREEN_CODE_RE,
    TYPED_SCREEN_CODE_PATTERN,
    normalise_screen_code,
)


def _typed_screen_code(value: Any) -> Any:
    if isinstance(value, str):
        code = normalise_screen_code(value)
        if code is None:
            raise ValueError("a screen code is 3-16 letters, digits or '-', starting with a letter or digit")
        return code
    return value


AppId = Annotated[str, StringConstraints(pattern=APPID_PATTERN)]
RegisteredAppId = Annotated[str, StringConstraints(pattern=REGISTERED_APPID_PATTERN)]
OpenId = Annotated[str, StringConstraints(pattern=OPENID_PATTERN)]
ScreenId = Annotated[str, StringConstraints(pattern=SCREEN_CODE_RE.pattern)]
"""A screen code exactly as stored: what machine-made messages carry."""
ScreenCode = Annotated[
    str,
    BeforeValidator(_typed_screen_code),
    WithJsonSchema({"type": "string", "pattern": TYPED_SCREEN_CODE_PATTERN}),
]
"""A screen code as a person types it: trimmed and upper-cased, then checked."""
