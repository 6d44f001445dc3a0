"""Request and response models of the admin API (pydantic v2), also the OpenAPI schemas.

Requests are validated strictly (JSON types as declared, unknown fields
refused, sizes capped, markup refused in plain-text fields); responses pass
through their models too, so a field that is not declared here (a secret, a
hash) can never reach a client.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import partial
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    field_validator,
    model_validator,
)

from chalicelib.models.accounts import ACCOUNT_TYPES
from chalicelib.models.content import CATEGORIES, KINDS, NORMAL, URGENT
from chalicelib.models.screens import normalise_screen_code
from chalicelib.models.units import UNIT_KINDS
from chalicelib.models.users import ROLES
from chalicelib.services.media import TYPES as MEDIA_TYPES
from chalicelib.services.text import plain

STATUSES = ("draft", "pending_review", "approved", "rejected", "published", "withdrawn", "expired")


def Text(max_length: int, *, multiline: bool = False, min_length: int = 1) -> Any:
    """A plain-text string: stripped, length-capped, no markup or control characters."""
    return Annotated[str, StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
                     AfterValidator(partial(plain, multiline=multiline))]


def _secret(pattern: str, what: str):
    regex = re.compile(pattern)

    def check(value: SecretStr) -> SecretStr:
        if not regex.fullmatch(value.get_secret_value()):
            raise ValueError(f"not a valid {what}")
        return value
    return Annotated[SecretStr, AfterValidator(check)]


def _screen_code(value: Any) -> Any:
    if isinstance(value, str):
        code = normalise_screen_code(value)
        if code is None:
            raise ValueError("a screen code is 3-16 letters, digits or '-', starting with a letter or digit")
        return code
    return value


Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
ScreenCode = Annotated[str, BeforeValidator(_screen_code)]
AppId = Annotated[str, StringConstraints(pattern=r"^wx[0-9A-Za-z]{8,30}$")]
OriginalId = Annotated[str, StringConstraints(pattern=r"^gh_[0-9A-Za-z]{6,30}$")]
TemplateId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
AppSecret = _secret(r"[0-9A-Za-z]{16,64}", "app secret")
CallbackToken = _secret(r"[0-9A-Za-z]{3,32}", "token (3-32 letters or digits)")
AesKey = _secret(r"[0-9A-Za-z]{43}", "EncodingAESKey (43 letters or digits)")
Tag = Text(32)
Region = Text(32)
Email = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")]
Limit = Annotated[int, Field(ge=1, le=200)]
HHMM = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")]


class In(BaseModel):
    """Request bodies: strict JSON types, unknown fields refused."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


class Query(BaseModel):
    """Query strings: values arrive as text, so types are coerced; unknown parameters refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=False)


class Out(BaseModel):
    model_config = ConfigDict(extra="ignore", from_attributes=True)


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
    parent_id: Id | None = None
    name: Text(64) | None = None
    kind: Literal[UNIT_KINDS] | None = None
    province: Region | None = None
    city: Region | None = None
    district: Region | None = None
    review_required: bool | None = None


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

class AccountCreate(In):
    appid: AppId
    unit_id: Id
    name: Text(64)
    account_type: Literal[ACCOUNT_TYPES] = "service"
    certified: bool = True
    original_id: OriginalId
    template_id: TemplateId | None = None
    subscribe_template_id: TemplateId | None = None
    app_secret: AppSecret
    token: CallbackToken
    aes_key: AesKey | None = None


class AccountUpdate(In):
    unit_id: Id | None = None
    name: Text(64) | None = None
    account_type: Literal[ACCOUNT_TYPES] | None = None
    certified: bool | None = None
    original_id: OriginalId | None = None
    template_id: TemplateId | None = None
    subscribe_template_id: TemplateId | None = None
    app_secret: AppSecret | None = None
    token: CallbackToken | None = None
    aes_key: AesKey | None = None


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
    secrets: SecretsSet
    callback_url: str
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
    unit_id: Id | None = None
    name: Text(64) | None = None
    address: Text(200) | None = None
    province: Region | None = None
    city: Region | None = None
    district: Region | None = None
    tags: Annotated[list[Tag], Field(max_length=20)] | None = None
    appid: AppId | None = None


class QrOut(Out):
    ticket: str | None
    url: str | None
    error: str | None
    ready: bool


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

class MediaRef(In):
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    size: Annotated[int, Field(gt=0, le=200 * 1024 * 1024)]
    type: Literal[tuple(MEDIA_TYPES)]


class WeeklyWindow(In):
    days: Annotated[list[Annotated[int, Field(ge=1, le=7)]], Field(min_length=1, max_length=7)]
    start: HHMM
    end: HHMM

    @model_validator(mode="after")
    def _ordered(self) -> WeeklyWindow:
        if self.start >= self.end:
            raise ValueError("start must be before end")
        if len(set(self.days)) != len(self.days):
            raise ValueError("days must not repeat")
        return self


class Targets(In):
    screens: Annotated[list[ScreenCode], Field(max_length=200)] = []
    tags: Annotated[list[Tag], Field(max_length=20)] = []
    units: Annotated[list[Id], Field(max_length=50)] = []


HttpsUrl = Annotated[str, StringConstraints(max_length=1024, pattern=r"^https://[^\s<>\"']+$")]
Body = Annotated[str, StringConstraints(min_length=1, max_length=50_000)]


class _ContentFields(In):
    title: Text(120) | None = None
    body: Body | None = None
    summary: Text(200, multiline=True) | None = None
    category: Literal[CATEGORIES] | None = None
    media: Annotated[list[MediaRef], Field(max_length=10)] | None = None
    link_url: HttpsUrl | None = None
    duration: Annotated[int, Field(ge=3, le=600)] | None = None
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


class ContentCreate(_ContentFields):
    unit_id: Id
    kind: Literal[KINDS]
    title: Text(120)
    duration: Annotated[int, Field(ge=3, le=600)] = 15
    priority: Literal[NORMAL, URGENT] = NORMAL
    targets: Targets
    push: bool = True


class ContentUpdate(_ContentFields):
    pass


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


class ContentList(Out):
    items: list[ContentOut]
    next_cursor: str | None


class ContentListQuery(PageQuery):
    unit_id: Id | None = None
    status: Literal[STATUSES] | None = None


class RejectIn(In):
    reason: Text(500, multiline=True)


class MediaUploadIn(In):
    unit_id: Id
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    size: Annotated[int, Field(gt=0, le=200 * 1024 * 1024)]
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
    name: Text(64) | None = None
    email: Email | None = None
    disabled: bool | None = None


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
    expires_in_days: Annotated[int, Field(ge=1, le=3650)] | None = None


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
    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=32)] | None = None
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
