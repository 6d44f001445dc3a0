"""The admin API's field types: ids, plain text, secrets, sizes, times.

Each type carries both its check and its JSON schema, so the OpenAPI
document says exactly what the code refuses (markup and control characters
in plain text, malformed ids, out-of-range numbers).  Every resource module
builds its models from these instead of writing its own patterns.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import KW_ONLY, dataclass
from functools import cache, partial
from typing import Annotated, Any

from annotated_types import GroupedMetadata
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    SecretStr,
    StringConstraints,
    WithJsonSchema,
)

from chalicelib.contracts.id_types import OpenId, RegisteredAppId, ScreenCode  # noqa: F401 - re-exported
from chalicelib.services.content.text import MARKUP, plain


def _control_class(multiline: bool) -> str:
    """The characters ``plain`` refuses (Unicode Cc and Cf, as ranges), as a regex character class body."""
    ranges: list[list[int]] = []
    for cp in range(sys.maxunicode + 1):
        if unicodedata.category(chr(cp)) in ("Cc", "Cf") and not (multiline and chr(cp) in "\n\t"):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])

    def char(cp: int) -> str:
        return f"\\u{cp:04x}" if cp <= 0xFFFF else chr(cp)

    return "".join(char(a) if a == b else f"{char(a)}-{char(b)}" for a, b in ranges)


def _ignore_case(pattern: str) -> str:
    """MARKUP is matched case-insensitively; a JSON-schema pattern has no flags."""
    word = "javascript"
    return pattern.replace(word, "".join(f"[{c}{c.upper()}]" for c in word))


@cache
def plain_pattern(multiline: bool) -> str:
    """``plain``'s rules as one JSON-schema pattern (built from the same definitions), so the
    OpenAPI document says what the code refuses: markup, control characters, nothing but spaces."""
    return f"^(?![\\s\\S]*(?:{_ignore_case(MARKUP.pattern)}))(?=[\\s\\S]*\\S)[^{_control_class(multiline)}]*$"


@dataclass(frozen=True)
class PlainText(GroupedMetadata):
    """A plain-text string, ``Annotated[str, PlainText(120)]``: stripped, length-capped, no markup or
    control characters, and the JSON schema saying so.

    A metadata class, not a function returning ``Annotated[...]``: a call is not a type, so mypy could check
    no model that used one.  Pydantic expands a GroupedMetadata one level only, hence ``yield from`` for the
    StringConstraints (itself a group).
    """

    max_length: int
    _: KW_ONLY
    multiline: bool = False
    min_length: int = 1

    def __iter__(self) -> Iterator[object]:
        yield from StringConstraints(strip_whitespace=True, min_length=self.min_length, max_length=self.max_length)
        yield AfterValidator(partial(plain, multiline=self.multiline))
        yield _PlainPattern(self.multiline)


@dataclass(frozen=True)
class _PlainPattern:
    """Adds ``plain_pattern`` to the field's JSON schema, computed when a document is built (not at import)."""

    multiline: bool

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema = handler(core_schema)
        schema["pattern"] = plain_pattern(self.multiline)
        return schema


def integral(value: Any) -> Any:
    """JSON Schema counts 3.0 as an integer; so does the API (strict mode would refuse it)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _secret(pattern: str, what: str) -> Any:
    """A write-only secret: checked against ``pattern``, never echoed (pydantic's SecretStr)."""
    regex = re.compile(pattern)

    def check(value: SecretStr) -> SecretStr:
        if not regex.fullmatch(value.get_secret_value()):
            raise ValueError(f"not a valid {what}")
        return value

    return Annotated[
        SecretStr,
        AfterValidator(check),
        WithJsonSchema({"type": "string", "format": "password", "writeOnly": True, "pattern": f"^{pattern}$"}),
    ]


Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
AppId = RegisteredAppId
OriginalId = Annotated[str, StringConstraints(pattern=r"^gh_[0-9A-Za-z]{6,30}$")]
# WeChat's domain check file for 网页授权域名 (served at the root of the phone pages' domain): name and content
MpVerifyFile = Annotated[str, StringConstraints(pattern=r"^MP_verify_[0-9A-Za-z]{1,32}\.txt$")]
MpVerifyContent = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z]{1,64}$")]
TemplateId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
AppSecret = _secret(r"[0-9A-Za-z]{16,64}", "app secret")
CallbackToken = _secret(r"[0-9A-Za-z]{3,32}", "token (3-32 letters or digits)")
AesKey = _secret(r"[0-9A-Za-z]{43}", "EncodingAESKey (43 letters or digits)")
Password = Annotated[SecretStr, StringConstraints(max_length=128)]
Tag = Annotated[str, PlainText(32)]
Region = Annotated[str, PlainText(32)]
Email = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")]
Limit = Annotated[int, Field(ge=1, le=200)]
Size = Annotated[int, Field(gt=0, le=200 * 1024 * 1024), BeforeValidator(integral)]
Duration = Annotated[int, Field(ge=3, le=600), BeforeValidator(integral)]
HttpsUrl = Annotated[str, StringConstraints(max_length=1024, pattern=r"^https://[^\s<>\"']+$")]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]")


def _no_controls(value: str) -> str:
    """Article HTML may hold markup but, like every text, no control characters (newline and tab aside)."""
    if CONTROLS.search(value):
        raise ValueError("control characters are not allowed")
    return value


@dataclass(frozen=True)
class _ControlsPattern:
    """Says in the JSON schema what ``_no_controls`` refuses."""

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema = handler(core_schema)
        schema["pattern"] = f"^[^{_control_class(True)}]*$"
        return schema


Body = Annotated[
    str, StringConstraints(min_length=1, max_length=50_000), AfterValidator(_no_controls), _ControlsPattern()
]
