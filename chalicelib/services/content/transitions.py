"""The workflow's transitions as decisions: which are allowed, and what each one writes and owes.

``TRANSITIONS`` names the states an action starts from, the state it leads to
and the permission it needs; ``refuse`` raises the error that forbids an action
(review required, wrong state, approving one's own content, a rejection without
a reason); ``writes`` returns the update actions and outbox messages of an
allowed one.  The workflow (``content.workflow``) reads, checks the revision,
and commits them with the audit entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.models import Content
from chalicelib.models.content import APPROVED, DRAFT, PENDING, PUBLISHED, REJECTED, WITHDRAWN
from chalicelib.services.access.grants import EDIT, PUBLISH, REVIEW
from chalicelib.services.content import outbox, rules
from chalicelib.services.push import outcomes as push_outcomes
from chalicelib.services.shared.errors import BadRequest, Conflict, Forbidden, Unprocessable

# action -> (from states, to state, permission)
TRANSITIONS: dict[str, tuple[frozenset[str], str, str]] = {
    "submit": (frozenset({DRAFT, REJECTED}), PENDING, EDIT),
    "approve": (frozenset({PENDING}), APPROVED, REVIEW),
    "reject": (frozenset({PENDING}), REJECTED, REVIEW),
    "publish": (frozenset({DRAFT, APPROVED}), PUBLISHED, PUBLISH),
    "withdraw": (frozenset({PUBLISHED}), WITHDRAWN, PUBLISH),
}


def refuse(
    user_id: str,
    content: Content,
    action: str,
    status: str,
    sources: frozenset[str],
    needs_review: bool,
    reason: str | None,
) -> None:
    """Raise the error that forbids ``action`` on content in ``status``; return when it is allowed."""
    if action == "publish" and needs_review and status == DRAFT:
        raise Forbidden(
            "this unit requires review: submit the content and have it approved first", code="review_required"
        )
    if status not in sources:
        raise Conflict(f"cannot {action} content that is {status}", code="invalid_transition")
    if action == "approve" and user_id in (content.submitted_by, content.created_by, content.updated_by):
        # the last editor counts as an author: else an admin could rewrite a pending item and approve it himself
        raise Forbidden("content cannot be approved by its author or its last editor", code="own_content")
    if action == "reject" and not reason:
        raise BadRequest("a reason is required", field="reason")


def writes(
    user_id: str, content: Content, action: str, reason: str | None, at: datetime
) -> tuple[list, list[dict[str, Any]]]:
    """The update actions and outbox messages of one allowed action (besides the status itself)."""
    if action == "submit":
        return [Content.submitted_by.set(user_id), Content.reject_reason.remove()], []
    if action in ("approve", "reject"):
        actions = [Content.reviewed_by.set(user_id), Content.reviewed_at.set(at)]
        return actions + ([Content.reject_reason.set(reason)] if reason else []), []
    if action == "publish":
        return publish_writes(content, at)
    if action == "withdraw":
        return [Content.withdrawn_at.set(at)], outbox.manifest_messages(
            content.screen_ids or (), "content_withdrawn", content.content_id
        )
    return [], []


def publish_writes(content: Content, at: datetime) -> tuple[list, list[dict[str, Any]]]:
    """Publishing: the screens it reaches now, its validity, the manifests and (with ``push``) the push job."""
    if content.valid_until and content.valid_until <= at:
        raise Conflict("the validity window has ended", code="expired", field="valid_until")
    screens = rules.resolve_screens(content)
    if not screens:
        raise Unprocessable("the targets match no screen", field="targets", code="no_screens")
    content.screen_ids, content.published_at = screens, at
    actions = [Content.screen_ids.set(screens), Content.published_at.set(at)]
    end = rules.urgent_default_end(content, at)
    if end is not None:
        content.valid_until = end
        actions.append(Content.valid_until.set(end))
    messages = outbox.manifest_messages(screens, "content_published", content.content_id)
    if content.push:  # job_id names the revision this write creates: a retry finds it published
        actions += push_outcomes.publish_actions(content, screens)  # 422 when no channel can carry it
        messages.insert(0, outbox.push_message(content, int(content.revision) + 1))
    else:
        actions += [Content.push_job_id.remove(), Content.push_forecast.remove()]
    return actions, messages
