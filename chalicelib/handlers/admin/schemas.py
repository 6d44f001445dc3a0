"""Request and response models of the admin API (pydantic v2), also the OpenAPI schemas.

Requests are validated strictly (JSON types as declared, unknown fields
refused, sizes capped, markup refused in plain-text fields); responses pass
through their models too, so a field that is not declared here (a secret, a
hash) can never reach a client.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, partial
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from chalicelib.models.accounts import ACCOUNT_TYPES, MESSAGE_MODES
from chalicelib.models.content import CATEGORIES, KINDS, NORMAL, URGENT
from chalicelib.models.screens import SCREEN_CODE_RE, normalise_screen_code
from chalicelib.models.units import UNIT_KINDS
from chalicelib.models.users import ROLES
from chalicelib.services.media import TYPES as MEDIA_TYPES
from chalicelib.services.text import MARKUP, plain
from chalicelib.wechat.menu import MENU_KEYS  # the click keys the callback answers

STATUSES = ("draft", "pending_review", "approved", "rejected", "published", "withdrawn", "expired")


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
    return (f"^(?![\\s\\S]*(?:{_ignore_case(MARKUP.pattern)}))(?=[\\s\\S]*\\S)"
            f"[^{_control_class(multiline)}]*$")


def Text(max_length: int, *, multiline: bool = False, min_length: int = 1) -> Any:
    """A plain-text string: stripped, length-capped, no markup or control characters."""
    return Annotated[str, StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
                     AfterValidator(partial(plain, multiline=multiline)), _PlainPattern(multiline)]


@dataclass(frozen=True)
class _PlainPattern:
    """Adds ``plain_pattern`` to the field's JSON schema, computed when a document is built (not at import)."""

    multiline: bool

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema = handler(core_schema)
        schema["pattern"] = plain_pattern(self.multiline)
        return schema


def _integral(value: Any) -> Any:
    """JSON Schema counts 3.0 as an integer; so does the API (strict mode would refuse it)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _secret(pattern: str, what: str):
    regex = re.compile(pattern)

    def check(value: SecretStr) -> SecretStr:
        if not regex.fullmatch(value.get_secret_value()):
            raise ValueError(f"not a valid {what}")
        return value
    return Annotated[SecretStr, AfterValidator(check),
                     WithJsonSchema({"type": "string", "format": "password", "writeOnly": True,
                                     "pattern": f"^{pattern}$"})]


SCREEN_CODE_PATTERN = "^" + SCREEN_CODE_RE.pattern.strip("^$").replace("A-Z", "A-Za-z") + "$"  # typed in any case


def _screen_code(value: Any) -> Any:
    if isinstance(value, str):
        code = normalise_screen_code(value)
        if code is None:
            raise ValueError("a screen code is 3-16 letters, digits or '-', starting with a letter or digit")
        return code
    return value


Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
ScreenCode = Annotated[str, BeforeValidator(_screen_code),
                       WithJsonSchema({"type": "string", "pattern": SCREEN_CODE_PATTERN})]
AppId = Annotated[str, StringConstraints(pattern=r"^wx[0-9A-Za-z]{8,30}$")]
OriginalId = Annotated[str, StringConstraints(pattern=r"^gh_[0-9A-Za-z]{6,30}$")]
# WeChat's domain check file for 网页授权域名 (served at the root of the phone pages' domain): name and content
MpVerifyFile = Annotated[str, StringConstraints(pattern=r"^MP_verify_[0-9A-Za-z]{1,32}\.txt$")]
MpVerifyContent = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z]{1,64}$")]
TemplateId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
AppSecret = _secret(r"[0-9A-Za-z]{16,64}", "app secret")
CallbackToken = _secret(r"[0-9A-Za-z]{3,32}", "token (3-32 letters or digits)")
AesKey = _secret(r"[0-9A-Za-z]{43}", "EncodingAESKey (43 letters or digits)")
Tag = Text(32)
Region = Text(32)
Email = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")]
Limit = Annotated[int, Field(ge=1, le=200)]
Size = Annotated[int, Field(gt=0, le=200 * 1024 * 1024), BeforeValidator(_integral)]
Duration = Annotated[int, Field(ge=3, le=600), BeforeValidator(_integral)]
# A PATCH field that may be left out but not set to null: the stored attribute is required.
def not_null() -> Any:
    return Field(default=None, json_schema_extra=lambda schema: schema.pop("default", None))
HHMM = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")]


class In(BaseModel):
    """Request bodies: strict JSON types, unknown fields refused."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


class Query(BaseModel):
    """Query strings: values arrive as text, so types are coerced; unknown parameters refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=False)


def _neutral(annotation: Any) -> Any:
    """A harmless stand-in for a required value a stored item lacks (``_MISSING`` when there is none)."""
    origin, args = get_origin(annotation), get_args(annotation)
    if annotation is str:
        return ""
    if annotation is bool:
        return False
    if annotation is int:
        return 0
    if origin is list or annotation is list:
        return []
    if origin is dict or annotation is dict:
        return {}
    if origin is Literal and args:
        return args[0]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {}
    return _MISSING


_MISSING = object()


class Out(BaseModel):
    """Responses.  A stored item that lacks a required attribute (written by an old version or by hand)
    is shaped with neutral values instead of failing the whole read or list."""

    model_config = ConfigDict(extra="ignore", from_attributes=True)

    @model_validator(mode="before")
    @classmethod
    def _fill_missing(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        filled = None
        for name, info in cls.model_fields.items():
            key = info.alias or name
            if data.get(key) is not None or type(None) in get_args(info.annotation) or not info.is_required():
                continue
            value = _neutral(info.annotation)
            if value is not _MISSING:
                filled = filled if filled is not None else dict(data)
                filled[key] = value
        return filled if filled is not None else data


class PageQuery(Query):
    cursor: Annotated[str, StringConstraints(max_length=2048)] | None = None
    limit: Limit = 50


class ErrorDetail(Out):
    code: str
    message: str
    field: str | None = None


class ErrorOut(Out):
    error: ErrorDetail


# ---- units --------------------------------------------------------------------------------------------------

class UnitCreate(In):
    parent_id: Id
    name: Text(64)
    kind: Literal[UNIT_KINDS] = "other"
    province: Region | None = None
    city: Region | None = None
    district: Region | None = None
    review_required: bool = False


class UnitUpdate(In):
    parent_id: Id = not_null()
    name: Text(64) = not_null()
    kind: Literal[UNIT_KINDS] = not_null()
    province: Region | None = None
    city: Region | None = None
    district: Region | None = None
    review_required: bool = not_null()
    rebind_appid: AppId | None = Field(default=None, description=(
        "with parent_id: the account to re-bind the unit's screens to whose current account would no longer "
        "belong to their unit or a superior after the move (without it such a move is refused with 409 "
        "screens_lose_account naming the screens)"))


class UnitOut(Out):
    unit_id: str
    parent_id: str | None
    root_id: str
    path: str
    name: str
    kind: str
    province: str | None
    city: str | None
    district: str | None
    review_required: bool
    revision: int
    created_at: datetime | None
    updated_at: datetime | None


class UnitList(Out):
    items: list[UnitOut]
    next_cursor: str | None


class UnitListQuery(PageQuery):
    under: Id | None = None
    parent_id: Id | None = None


class RankingQuery(Query):
    metric: Literal["fans", "growth", "plays", "reads"] = "fans"
    from_: date | None = Field(None, alias="from")
    to: date | None = None


class RankingItem(Out):
    rank: int
    unit_id: str
    name: str
    screens: int
    value: int


class RankingOut(Out):
    unit_id: str
    metric: str
    from_: str = Field(alias="from")
    to: str
    items: list[RankingItem]

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


# ---- accounts -----------------------------------------------------------------------------------------------

CrossUnit = Annotated[Literal["push", "unread", "none"], Field(
    description="content of units that are neither in this account's unit subtree nor superior to its unit: "
                "push (sent like own content), unread (default: listed in the fan's 最新 reply and on the phone "
                "pages, not pushed), none")]


class AccountCreate(In):
    appid: AppId
    unit_id: Id
    name: Text(64)
    account_type: Literal[ACCOUNT_TYPES] = "service"
    certified: bool = True
    original_id: OriginalId
    template_id: TemplateId | None = None
    subscribe_template_id: TemplateId | None = None
    cross_unit: CrossUnit = "unread"
    app_secret: AppSecret
    token: CallbackToken
    aes_key: AesKey | None = None
    message_mode: Literal[MESSAGE_MODES] | None = Field(
        None, description="消息加解密方式 as set in the WeChat console; unset = safe once aes_key is set. "
                          "Safe refuses unencrypted callbacks: declare compatible while switching.")
    mp_verify_file: MpVerifyFile | None = None
    mp_verify_content: MpVerifyContent | None = None


class AccountUpdate(In):
    unit_id: Id = not_null()
    name: Text(64) = not_null()
    account_type: Literal[ACCOUNT_TYPES] = not_null()
    certified: bool = not_null()
    original_id: OriginalId = not_null()
    template_id: TemplateId | None = None
    subscribe_template_id: TemplateId | None = None
    cross_unit: CrossUnit = not_null()
    app_secret: AppSecret = not_null()
    token: CallbackToken = not_null()
    aes_key: AesKey | None = None
    message_mode: Literal[MESSAGE_MODES] | None = None
    mp_verify_file: MpVerifyFile | None = None
    mp_verify_content: MpVerifyContent | None = None


class SecretsSet(Out):
    app_secret: bool
    token: bool
    aes_key: bool
    aes_key_previous: bool


class AccountOut(Out):
    appid: str
    unit_id: str
    name: str
    account_type: str
    certified: bool
    original_id: str
    template_id: str | None
    subscribe_template_id: str | None
    cross_unit: CrossUnit
    secrets: SecretsSet
    message_mode: str
    callback_url: str
    mp_verify_file: str | None = None
    mp_verify_content: str | None = None
    menu_created_at: datetime | None
    revision: int
    created_at: datetime | None
    updated_at: datetime | None


class AccountList(Out):
    items: list[AccountOut]
    next_cursor: str | None


class AccountListQuery(PageQuery):
    unit_id: Id | None = None


class MenuOut(Out):
    account: AccountOut
    menu: dict[str, Any]


MenuUrl = Annotated[str, StringConstraints(max_length=1024, pattern=r"^https?://[^\s<>\"']+$")]


def _menu_name(max_bytes: int) -> Any:
    """A button name: plain text within WeChat's byte limit (UTF-8, as menu/create counts it)."""
    def check(value: str) -> str:
        if len(value.encode("utf-8")) > max_bytes:
            raise ValueError(f"at most {max_bytes} bytes (UTF-8; a Chinese character takes 3)")
        return value
    return Annotated[Text(60), AfterValidator(check), Field(description=f"at most {max_bytes} bytes in UTF-8")]


class _MenuLeaf(In):
    type: Literal["click", "view"] | None = Field(None, description="click (with key) or view (with url)")
    key: Literal[MENU_KEYS] | None = Field(None, description="click: what the account answers")
    url: MenuUrl | None = Field(None, description="view: the page opened")

    @model_validator(mode="after")
    def _leaf(self):
        if self.type == "click" and (self.key is None or self.url is not None):
            raise ValueError("a click button has a key and no url")
        if self.type == "view" and (self.url is None or self.key is not None):
            raise ValueError("a view button has a url and no key")
        return self


class MenuSubButton(_MenuLeaf):
    name: _menu_name(60)
    type: Literal["click", "view"]


class MenuButton(_MenuLeaf):
    name: _menu_name(16)
    sub_button: list[MenuSubButton] | None = Field(None, min_length=1, max_length=5)

    @model_validator(mode="after")
    def _parent_or_leaf(self):
        if self.sub_button is not None and (self.type or self.key or self.url):
            raise ValueError("a button with sub_button has no type, key or url")
        if self.sub_button is None and self.type is None:
            raise ValueError("a button needs a type (click or view) or sub_button")
        return self


class MenuIn(In):
    button: list[MenuButton] | None = Field(None, min_length=1, max_length=3, description=(
        "the custom menu (at most 3 buttons of at most 5 sub-buttons); omitted: the product's default menu"))


class MenuCurrent(Out):
    menu: dict[str, Any] = Field(description="the menu last published (the product's default before any)")
    default: bool = Field(description="true when no custom menu has been published through this API")
    published_at: datetime | None


# ---- screens ------------------------------------------------------------------------------------------------

class ScreenCreate(In):
    screen_id: ScreenCode
    unit_id: Id
    name: Text(64)
    address: Text(200) | None = None
    province: Region | None = None
    city: Region | None = None
    district: Region | None = None
    tags: Annotated[list[Tag], Field(max_length=20)] = []
    appid: AppId


class ScreenUpdate(In):
    unit_id: Id = not_null()
    name: Text(64) = not_null()
    address: Text(200) | None = None
    province: Region | None = None
    city: Region | None = None
    district: Region | None = None
    tags: Annotated[list[Tag], Field(max_length=20)] | None = None
    appid: AppId = not_null()


class QrOut(Out):
    ticket: str | None
    url: str | None
    error: str | None
    ready: bool


class NowPlayingOut(Out):
    content_id: str
    title: str | None


class ScreenOut(Out):
    screen_id: str
    unit_id: str
    name: str
    address: str | None
    province: str | None
    city: str | None
    district: str | None
    tags: list[str]
    appid: str
    qr: QrOut
    player_key_set: bool
    fan_count: int
    status: Literal["online", "offline", "never"]  # online: a heartbeat within two intervals
    online: bool
    last_seen: datetime | None
    revision: int
    created_at: datetime | None
    updated_at: datetime | None
    now_playing: NowPlayingOut | None = Field(
        default=None, description="lists only: the item an online screen's last heartbeat reported playing")
    plays_today: int | None = Field(default=None, description="lists only: plays counted today (China day)")


class ScreenCreated(Out):
    screen: ScreenOut
    player_key: str | None = Field(description="shown once; null when replayed for an idempotent retry")


class PlayerKeyOut(Out):
    screen: ScreenOut
    player_key: str


class ScreenList(Out):
    items: list[ScreenOut]
    next_cursor: str | None


class ScreenListQuery(PageQuery):
    unit_id: Id | None = None
    tag: Annotated[str, StringConstraints(max_length=32)] | None = None
    status: Literal["online", "offline", "never"] | None = None


class StatsQuery(Query):
    from_: date | None = Field(None, alias="from")
    to: date | None = None


class StatsDay(Out):
    day: str
    subscriptions: dict[str, int]
    restored: int = 0
    new_fans: int
    unsubscriptions: int
    lost_by_cause: dict[str, int] = {}
    lost: int = 0
    net: int = 0
    plays: int
    play_seconds: int
    reads: int
    pushes_sent: int
    pushes_delivered: int


class StatsOut(Out):
    screen_id: str
    fan_count: int
    from_: str = Field(alias="from")
    to: str
    days: list[StatsDay]
    totals: dict[str, Any]

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


# ---- content ------------------------------------------------------------------------------------------------

def _size_limits(schema: dict[str, Any]) -> None:
    schema["allOf"] = [{"if": {"properties": {"type": {"const": kind}}, "required": ["type"]},
                        "then": {"properties": {"size": {"maximum": limit}}}}
                       for kind, (_ext, limit) in MEDIA_TYPES.items()]


class MediaRef(In):
    model_config = ConfigDict(json_schema_extra=_size_limits)

    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    size: Size
    type: Literal[tuple(MEDIA_TYPES)]


class WeeklyWindow(In):
    """A daily time range on the listed ISO weekdays, China time.  An ``end`` before ``start``
    runs past midnight into the next day (22:00-06:00), as the player and the mirror play it."""

    days: Annotated[list[Annotated[int, Field(ge=1, le=7), BeforeValidator(_integral)]],
                    Field(min_length=1, max_length=7, json_schema_extra={"uniqueItems": True})]
    start: HHMM
    end: HHMM

    @model_validator(mode="after")
    def _ordered(self) -> WeeklyWindow:
        if self.start == self.end or (self.start == "24:00"):
            raise ValueError("start and end must differ, and start must be before 24:00")
        if len(set(self.days)) != len(self.days):
            raise ValueError("days must not repeat")
        return self


class Targets(In):
    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"required": [name], "properties": {name: {"minItems": 1}}} for name in ("screens", "tags", "units")]})

    screens: Annotated[list[ScreenCode], Field(max_length=200)] = []
    tags: Annotated[list[Tag], Field(max_length=20)] = []
    units: Annotated[list[Id], Field(max_length=50)] = []


HttpsUrl = Annotated[str, StringConstraints(max_length=1024, pattern=r"^https://[^\s<>\"']+$")]
def _no_controls(value: str) -> str:
    """Article HTML may hold markup but, like every text, no control characters (newline and tab aside)."""
    if CONTROLS.search(value):
        raise ValueError("control characters are not allowed")
    return value


@dataclass(frozen=True)
class _ControlsPattern:
    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema = handler(core_schema)
        schema["pattern"] = f"^[^{_control_class(True)}]*$"
        return schema


CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]")
Body = Annotated[str, StringConstraints(min_length=1, max_length=50_000), AfterValidator(_no_controls),
                 _ControlsPattern()]


class _ContentFields(In):
    title: Text(120) | None = None
    body: Body | None = None
    summary: Text(200, multiline=True) | None = None
    category: Literal[CATEGORIES] | None = None
    media: Annotated[list[MediaRef], Field(max_length=10)] | None = None
    link_url: HttpsUrl | None = None
    duration: Duration | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    weekly_windows: Annotated[list[WeeklyWindow], Field(max_length=14)] | None = None
    priority: Literal[NORMAL, URGENT] | None = None
    targets: Targets | None = None
    push: bool | None = None

    @field_validator("valid_from", "valid_until")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone (e.g. +08:00 or Z)")
        return value


# what each kind needs, as the document says it (services/content.py _check_shape enforces the same)
KIND_REQUIRES = {"notice": ["body"], "article": ["body"], "link": ["link_url"], "image": ["media"],
                 "video": ["media"]}


def _kind_rules(schema: dict[str, Any]) -> None:
    schema["allOf"] = [{"if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
                        "then": {"required": fields, "properties": {f: {"not": {"type": "null"}} for f in fields}}}
                       for kind, fields in KIND_REQUIRES.items()]
    schema["allOf"].append({"if": {"properties": {"kind": {"not": {"const": "article"}}}},
                            "then": {"properties": {"body": {"anyOf": [{"type": "null"},
                                                                       {"pattern": plain_pattern(True)}]}}}})


class ContentCreate(_ContentFields):
    model_config = ConfigDict(json_schema_extra=_kind_rules)

    unit_id: Id
    kind: Literal[KINDS]
    title: Text(120)
    duration: Duration = 15
    priority: Literal[NORMAL, URGENT] = NORMAL
    targets: Targets
    push: bool = Field(default=True, description=(
        "push to the targeted screens' subscribers when published; defaults to true. Publishing refuses "
        "(422 no_push_channel) when no account involved has a channel; the publish response's push_status "
        "forecasts recipients per account and channel"))


class ContentUpdate(_ContentFields):
    title: Text(120) = not_null()
    duration: Duration = not_null()
    priority: Literal[NORMAL, URGENT] = not_null()
    targets: Targets = not_null()
    push: bool = not_null()


class MediaOut(Out):
    key: str
    type: str
    size: int
    sha256: str


class WindowOut(Out):
    days: list[int]
    start: str
    end: str


class TargetsOut(Out):
    screens: list[str]
    tags: list[str]
    units: list[str]


class ChannelCounts(Out):
    template: int = 0
    subscribe: int = 0
    custom: int = 0


class ForecastChannels(ChannelCounts):
    unread: int = 0


class SkipCounts(Out):
    not_following: int = 0
    no_channel: int = 0
    channel_stopped: int = 0
    cross_unit_policy: int = 0


class ForecastAccount(Out):
    appid: str
    name: str
    account_type: str
    reach: Literal["push", "unread", "none"] = Field(
        description="how this content may reach the account's fans (the account's cross_unit policy applies "
                    "to content of other units)")
    own_content: bool
    has_channel: bool
    recipients: int = Field(description="distinct fans of this account following the targeted screens")
    channels: ForecastChannels
    skipped: SkipCounts
    estimated: int = Field(description="fans beyond the forecast's per-fan limit, counted under the usual channel")


class PushForecastOut(Out):
    recipients: int
    complete: bool
    computed_at: datetime | None = None
    accounts: list[ForecastAccount]


class PushStatusOut(Out):
    job_id: str
    state: Literal["queued", "planning", "sending", "done"]
    forecast: PushForecastOut | None = Field(description="what publish said would happen, per account and channel")
    planned: int
    sent: ChannelCounts
    sent_total: int
    unread: int = Field(description="left in fans' unread lists (最新 reply and phone pages) instead of a push")
    unread_cross_unit: int
    delivered: int = Field(description="template messages WeChat reported delivered")
    read: int = Field(description="reads through push links")
    failed: int
    stopped: int = Field(description="WeChat stopped the channel for the fan (refused, blocked, unfollowed)")
    skipped: SkipCounts
    skipped_total: int


class ContentOut(Out):
    content_id: str
    unit_id: str
    kind: str
    title: str
    body: str | None
    summary: str | None
    category: str | None
    media: list[MediaOut]
    link_url: str | None
    duration: int
    valid_from: datetime | None
    valid_until: datetime | None
    weekly_windows: list[WindowOut]
    priority: str
    urgent_until: datetime | None = Field(
        default=None, description="until when an urgent item holds the screens (its valid_until; "
                                  "24 h after publishing unless set); null for normal items and unpublished drafts")
    push: bool
    targets: TargetsOut
    screen_ids: list[str]
    status: Literal[STATUSES]
    reject_reason: str | None
    created_by: str | None
    submitted_by: str | None
    reviewed_by: str | None
    reviewed_at: datetime | None
    published_at: datetime | None
    withdrawn_at: datetime | None
    revision: int
    created_at: datetime | None
    updated_at: datetime | None
    push_status: PushStatusOut | None = Field(
        default=None, description="the last publish's push: forecast and outcome (read and publish only)")


class ContentList(Out):
    items: list[ContentOut]
    next_cursor: str | None


class ContentListQuery(PageQuery):
    unit_id: Id | None = None
    status: Literal[STATUSES] | None = None


class RejectIn(In):
    reason: Text(500, multiline=True)


class ContentForecastIn(In):
    unit_id: Id
    targets: Targets


class ContentForecastOut(Out):
    screens: int = Field(description="screens the targets resolve to today, as publish would resolve them")
    method: Literal["exact", "counters"] = Field(
        description="exact: the publish forecast itself; counters: the screens' fan counters under each account's "
                    "usual channel (beyond 2,000 followers; a fan following several targeted screens counts for each)")
    no_push_channel: str | None = Field(description="why publishing with push on would be refused (422), or null")
    forecast: PushForecastOut


class PhonePreviewIn(_ContentFields):
    unit_id: Id
    kind: Literal[KINDS]


class PhonePreviewOut(Out):
    html: str = Field(description="the phone's content page for the draft, sanitised, with a CSP meta element; "
                                  "show it in a sandboxed srcdoc frame")
    content_security_policy: str


class MediaUploadIn(In):
    model_config = ConfigDict(json_schema_extra=_size_limits)

    unit_id: Id
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    size: Size
    type: Literal[tuple(MEDIA_TYPES)]


class UploadForm(Out):
    url: str
    fields: dict[str, str]
    expires_in: int


class MediaUploadOut(Out):
    key: str
    exists: bool
    upload: UploadForm | None


# ---- users, grants, keys ------------------------------------------------------------------------------------

class UserCreate(In):
    unit_id: Id
    name: Text(64)
    email: Email | None = None


class UserUpdate(In):
    name: Text(64) = not_null()
    email: Email | None = None
    disabled: bool = not_null()


class GrantOut(Out):
    unit_id: str
    role: str


class UserOut(Out):
    user_id: str
    unit_id: str
    name: str
    email: str | None
    username: str | None = None
    wechat_bound: bool = False
    disabled: bool
    grants: list[GrantOut]
    revision: int
    created_at: datetime | None
    updated_at: datetime | None


class UserList(Out):
    items: list[UserOut]
    next_cursor: str | None


class UserListQuery(PageQuery):
    unit_id: Id | None = None


class GrantIn(In):
    role: Literal[ROLES]


class KeyCreate(In):
    label: Text(64) | None = None
    expires_in_days: Annotated[int, Field(ge=1, le=3650), BeforeValidator(_integral)] | None = None


class KeyOut(Out):
    key_id: str
    user_id: str
    label: str | None
    expires_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime | None


class KeyCreated(Out):
    key: KeyOut
    api_key: str | None = Field(description="shown once; null when replayed for an idempotent retry")


class KeyList(Out):
    items: list[KeyOut]


# ---- audit --------------------------------------------------------------------------------------------------

class AuditEntryOut(Out):
    entry_id: str
    unit_id: str
    object_key: str
    action: str
    actor: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    note: str | None
    at: datetime


class AuditList(Out):
    items: list[AuditEntryOut]
    next_cursor: str | None


# ---- console sign-in ----------------------------------------------------------------------------------------

Password = Annotated[SecretStr, StringConstraints(max_length=128)]


class LoginIn(In):
    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    password: Password


class PasswordIn(In):
    password: Password
    # the sign-in name, lower-cased by the server (so capitals are accepted): the same rule as sessions.USERNAME
    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=32,
                                               pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$")] | None = None
    current_password: Password | None = None


class SessionOut(Out):
    session_id: str
    user_id: str
    method: str
    user_agent: str | None
    source_ip: str | None
    created_at: datetime
    last_seen_at: datetime
    idle_expires_at: datetime
    expires_at: datetime
    current: bool


class SessionList(Out):
    items: list[SessionOut]


class SignedInOut(Out):
    user: UserOut
    session: SessionOut
    csrf_token: str = Field(description="send as X-CSRF-Token on every write made with the session cookie")


class WechatLoginOut(Out):
    scene: str
    poll_token: str | None = Field(None, description="only the page that asked holds it; send it when polling")
    qr_url: str = Field(description="the image of the temporary QR code")
    expires_at: datetime
    status: str


class WechatLoginPollIn(In):
    poll_token: Annotated[str, StringConstraints(min_length=20, max_length=100)]


class WechatPollOut(Out):
    status: Literal["waiting", "unknown", "bound", "signed_in"]
    user: UserOut | None = None
    session: SessionOut | None = None
    csrf_token: str | None = None


# ---- residents' data (PIPL) ----------------------------------------------------------------------------------

OpenId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class ResidentRequest(In):
    """One resident of the account, named in the body (not the path) so that access logs never hold his openid."""

    openid: OpenId
    reason: Text(200) | None = None


class ResidentErasureOut(Out):
    subject: str = Field(description="digest naming the erased resident in the audit log (never the openid)")
    lost_subscriptions: int
    removed: dict[str, int]


class ResidentExportOut(Out):
    data: dict[str, Any]


# ------------------------------------------------------------------ the console's home page (unit summary)


class SummaryScreens(Out):
    total: int
    online: int
    offline: int = Field(description="offline now, including offline_over_1h")
    offline_over_1h: int
    never_seen: int = Field(description="screens that never reported a heartbeat")


class SummaryFans(Out):
    total: int = Field(description="distinct people with an active subscription to the subtree's screens")
    subscriptions: int = Field(description="active subscriptions (one person on three screens counts three)")
    today: int = Field(description="today's change of the distinct fans (China day)")
    today_subscriptions: int


class SummaryPending(Out):
    content_id: str
    unit_id: str | None
    title: str
    submitted_at: datetime | None


class SummaryPendingList(Out):
    count: int
    items: list[SummaryPending]


class SummaryPush(Out):
    state: Literal["queued", "planning", "sending", "done"]
    planned: int
    sent: int
    unread: int
    delivered: int
    failed: int
    stopped: int
    skipped: int


class SummaryPublish(Out):
    content_id: str
    unit_id: str | None
    title: str
    status: str
    published_at: datetime | None
    push: SummaryPush | None = Field(description="null when published without push")


class SummaryOfflineScreen(Out):
    screen_id: str
    unit_id: str | None
    name: str
    last_seen: datetime | None


class SummaryOfflineList(Out):
    count: int
    items: list[SummaryOfflineScreen]


class SummaryPushFailure(Out):
    content_id: str
    title: str
    failed: int


class SummaryPushFailures(Out):
    month: int = Field(description="failed pushes this month in the subtree (analytics roll-up)")
    items: list[SummaryPushFailure] = Field(description="recent publishes with failed pushes")


class SummaryAccount(Out):
    appid: str
    unit_id: str | None
    name: str
    account_type: str | None


class SummaryAccountList(Out):
    count: int
    items: list[SummaryAccount]


class SummaryAlerts(Out):
    offline_screens: SummaryOfflineList = Field(description="screens offline for more than an hour")
    push_failures: SummaryPushFailures
    no_push_channel: SummaryAccountList = Field(
        description="service accounts with neither template id (subscription accounts send customer-service "
                    "messages and need none)")


class UnitSummaryOut(Out):
    unit_id: str
    as_of: datetime
    screens: SummaryScreens
    fans: SummaryFans
    growth: dict[str, int] = Field(description="this month's new subscriptions by source (analytics metric names)")
    month_new: int
    month_lost: int
    pending_review: SummaryPendingList
    recent_publishes: list[SummaryPublish]
    alerts: SummaryAlerts
