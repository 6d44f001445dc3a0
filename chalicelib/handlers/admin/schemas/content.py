"""Content items: what they show, where (targets), when (validity and weekly windows), and their review.

A create says per kind which fields it needs (``KIND_REQUIRES``, enforced again by
services/content/workflow.py), and the PATCH body is derived from the create.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import ConfigDict, Field, field_validator

from chalicelib.contracts.windows import WeeklyWindow
from chalicelib.handlers.admin.schemas.common import In, Out, Page, PageQuery, not_null, update_of
from chalicelib.handlers.admin.schemas.fields import (
    Body,
    Duration,
    HttpsUrl,
    Id,
    PlainText,
    ScreenCode,
    Tag,
    plain_pattern,
)
from chalicelib.handlers.admin.schemas.media import MediaOut, MediaRef
from chalicelib.handlers.admin.schemas.push import PushForecastOut, PushStatusOut
from chalicelib.models.content import Category, ContentKind, Priority

ContentStatus = Literal["draft", "pending_review", "approved", "rejected", "published", "withdrawn", "expired"]
STATUSES: tuple[str, ...] = get_args(ContentStatus)


class Targets(In):
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": [name], "properties": {name: {"minItems": 1}}} for name in ("screens", "tags", "units")
            ]
        }
    )

    screens: Annotated[list[ScreenCode], Field(max_length=200)] = Field(default=[])
    tags: Annotated[list[Tag], Field(max_length=20)] = Field(default=[])
    units: Annotated[list[Id], Field(max_length=50)] = Field(default=[])


class _ContentFields(In):
    title: Annotated[str, PlainText(120)] | None = None
    body: Body | None = None
    summary: Annotated[str, PlainText(200, multiline=True)] | None = None
    category: Category | None = None
    media: Annotated[list[MediaRef], Field(max_length=10)] | None = None
    link_url: HttpsUrl | None = None
    duration: Duration | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    weekly_windows: Annotated[list[WeeklyWindow], Field(max_length=14)] | None = None
    priority: Priority | None = None
    targets: Targets | None = None
    push: bool | None = None

    @field_validator("valid_from", "valid_until")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone (e.g. +08:00 or Z)")
        return value


# what each kind needs, as the document says it (services/content/rules.py check_shape enforces the same)
KIND_REQUIRES = {
    "notice": ["body"],
    "article": ["body"],
    "link": ["link_url"],
    "image": ["media"],
    "video": ["media"],
}


def _kind_rules(schema: dict[str, Any]) -> None:
    schema["allOf"] = [
        {
            "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
            "then": {"required": fields, "properties": {f: {"not": {"type": "null"}} for f in fields}},
        }
        for kind, fields in KIND_REQUIRES.items()
    ]
    schema["allOf"].append(
        {
            "if": {"properties": {"kind": {"not": {"const": "article"}}}},
            "then": {"properties": {"body": {"anyOf": [{"type": "null"}, {"pattern": plain_pattern(True)}]}}},
        }
    )


class ContentCreate(_ContentFields):
    model_config = ConfigDict(json_schema_extra=_kind_rules)

    unit_id: Id
    kind: ContentKind
    title: Annotated[str, PlainText(120)]
    duration: Duration = 15
    priority: Priority = "normal"
    targets: Targets
    push: bool = Field(
        default=True,
        description=(
            "push to the targeted screens' subscribers when published; defaults to true. Publishing refuses "
            "(422 no_push_channel) when no account involved has a channel; the publish response's push_status "
            "forecasts recipients per account and channel"
        ),
    )


# the owner and the kind stay as created; a PATCH leaves push as it is unless sent (no create default)
ContentUpdate = update_of(
    ContentCreate, "ContentUpdate", base=_ContentFields, omit=("unit_id", "kind"), push=(bool, not_null())
)


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
    urgent_until: datetime | None = Field(
        default=None,
        description="until when an urgent item holds the screens (its valid_until; "
        "24 h after publishing unless set); null for normal items and unpublished drafts",
    )
    push: bool
    targets: TargetsOut
    screen_ids: list[str]
    status: ContentStatus
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
        default=None, description="the last publish's push: forecast and outcome (read and publish only)"
    )


class ContentList(Page[ContentOut]):
    pass


class ContentListQuery(PageQuery):
    unit_id: Id | None = None
    status: ContentStatus | None = None


class RejectIn(In):
    reason: Annotated[str, PlainText(500, multiline=True)]


class ContentForecastIn(In):
    unit_id: Id
    targets: Targets


class ContentForecastOut(Out):
    screens: int = Field(description="screens the targets resolve to today, as publish would resolve them")
    method: Literal["exact", "counters"] = Field(
        description="exact: the publish forecast itself; counters: the screens' fan counters under each account's "
        "usual channel (beyond 2,000 followers; a fan following several targeted screens counts for each)"
    )
    no_push_channel: str | None = Field(description="why publishing with push on would be refused (422), or null")
    forecast: PushForecastOut


class PhonePreviewIn(_ContentFields):
    unit_id: Id
    kind: ContentKind


class PhonePreviewOut(Out):
    html: str = Field(
        description="the phone's content page for the draft, sanitised, with a CSP meta element; "
        "show it in a sandboxed srcdoc frame"
    )
    content_security_policy: str
