"""The push pipeline's queue messages: one typed contract each, used by producer and consumer (docs/messages.md).

The producers build these models and send ``wire()`` (the admin API's
publish in ``services/content/outbox.py``, the planner's send batches and its own
``plan`` continuations, the sender's retries); the consumers validate with
the same models (``chalicelib/sqs_batch.py``: a body that fails is reported
failed and reaches the DLQ).  SQS bodies come from our own functions, but a
DLQ replay or an operator may put anything on a queue: everything is
size-capped and shaped before use.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from chalicelib.contracts.id_types import AppId, OpenId
from chalicelib.models.screens import SCREEN_CODE_RE

JOB_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}:\d{1,9}$")
MAX_SCREENS = 2000
MAX_RECIPIENTS = 200  # planned batches hold 98; a re-planned range may have grown by new subscribers

Short = Annotated[str, StringConstraints(max_length=64)]
Text = Annotated[str, StringConstraints(max_length=2000)]


def _check_job_id(value: str) -> str:
    if not JOB_ID_RE.match(value):
        raise ValueError("job_id must be content_id:revision")
    return value


def _check_screens(values: list[str]) -> list[str]:
    for value in values:
        if not SCREEN_CODE_RE.match(value):
            raise ValueError(f"not a screen code: {value[:20]!r}")
    return sorted(set(values))


class PublishMessage(BaseModel):
    """``{"type": "publish", ...}`` from the admin API; ``{"type": "plan", "job_id"}`` from the planner itself."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["publish", "plan"]
    job_id: str
    content_id: Short | None = None
    revision: int | None = Field(default=None, ge=0)
    unit_id: Short | None = None
    screen_ids: list[str] = Field(default_factory=list, max_length=MAX_SCREENS)
    title: Annotated[str, StringConstraints(max_length=200)] = ""
    summary: Text = ""
    kind: Short = "notice"
    category: Short | None = None
    priority: Short = "normal"
    published_at: Short | None = None

    _job = field_validator("job_id")(_check_job_id)
    _screens = field_validator("screen_ids")(_check_screens)

    @classmethod
    def plan(cls, job_id: str) -> PublishMessage:
        """The planner's continuation of a job: plan the next run from the stored cursor."""
        return cls(type="plan", job_id=job_id)

    def wire(self) -> dict[str, Any]:
        """The SQS body: the fields the producer set (a ``plan`` continuation is just its type and job id)."""
        return self.model_dump(mode="json", exclude_unset=True)

    def content_fields(self, unit_name: str | None) -> dict[str, Any]:
        """What every push of this job shows; stored once on the job, copied into each batch."""
        return {
            "content_id": self.content_id or self.job_id.rsplit(":", 1)[0],
            "title": self.title,
            "summary": self.summary[:300],
            "kind": self.kind,
            "category": self.category or "",
            "priority": self.priority,
            "published_at": self.published_at or "",
            "unit_name": unit_name or "",
        }


class Recipient(BaseModel):
    openid: OpenId
    screens: list[int] = Field(default_factory=list, max_length=MAX_SCREENS)  # indexes into SendMessage.screens


class SendMessage(BaseModel):
    """One batch of ≤ 200 recipients of one account for one job (internal to the push pipeline)."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["send"]
    job_id: str
    batch_id: Annotated[str, StringConstraints(pattern=r"^b\d{1,9}$")]
    appid: AppId
    attempt: int = Field(default=0, ge=0, le=1000)  # generation: who owns the batch's pending recipients
    tries: int = Field(default=0, ge=0, le=1000)  # transient failures so far, for back-off and the DLQ
    screens: list[str] = Field(default_factory=list, max_length=MAX_SCREENS)
    content: dict[str, Any]
    recipients: list[Recipient] = Field(min_length=1, max_length=MAX_RECIPIENTS)
    # set by the planner (push_outcomes.JobAccounts): how the content may reach this account's fans, and the
    # account revision the planner read (the sender re-reads an older cached account)
    reach: Literal["push", "unread", "none"] = "push"
    account_revision: int = Field(default=0, ge=0)
    # stamped by chalicelib.aws (observability.stamp); declared so that the sender's retry and deadline
    # messages, rebuilt from this model, keep the publish's correlation id and its first enqueue time
    correlation_id: Annotated[str, StringConstraints(max_length=128)] | None = None
    enqueued_at: int | None = Field(default=None, ge=0)

    _job = field_validator("job_id")(_check_job_id)

    @field_validator("content")
    @classmethod
    def _content(cls, value: dict[str, Any]) -> dict[str, Any]:
        allowed = ("content_id", "title", "summary", "kind", "category", "priority", "published_at", "unit_name")
        return {k: str(value.get(k) or "")[:300] for k in allowed}

    def wire(self) -> dict[str, Any]:
        # unset tracing fields are left out, so the next hop's stamp fills them in
        return self.model_dump(
            mode="json", exclude={k for k in ("correlation_id", "enqueued_at") if getattr(self, k) is None}
        )
