"""Content and its workflow: draft → pending review → approved → published → withdrawn.

Transitions (``TRANSITIONS``) name the states they start from, the state they
lead to and the permission they need.  Where review is required (the unit or
a superior unit says so) an editor cannot publish alone: a reviewer of the
unit or above approves (never his own submission) or rejects with a reason,
and editing approved or published content sends it back to review.  Without
review an editor publishes a draft directly.

``expired`` is computed on read: published content whose validity window has
ended reports ``expired`` (and the player, which also gets ``valid_until``,
stops showing it at that moment); nothing has to run for it to happen.

Publishing, withdrawing and editing published content owe queue messages
(``docs/messages.md``): a push job when push is on (``job_id`` =
content_id:revision, the same on every retry) and a manifest rebuild for
every affected screen, including screens an edit no longer targets.  They go
through the content's outbox (``chalicelib.services.content.outbox``).
"""

from __future__ import annotations

from typing import Any

from chalicelib.models import Content, Unit
from chalicelib.models.content import APPROVED, DRAFT, EXPIRED, PENDING, PUBLISHED, REJECTED, URGENT, WITHDRAWN
from chalicelib.models.unit_of_work import UnitOfWork
from chalicelib.services.access import audit
from chalicelib.services.access.grants import EDIT, READ, Principal, fetch_in_scope
from chalicelib.services.access.units import review_required, scope_units
from chalicelib.services.analytics import home_feed
from chalicelib.services.content import outbox, rules, transitions
from chalicelib.services.shared.errors import Conflict
from chalicelib.services.shared.pagination import Page, page_by_unit
from chalicelib.services.shared.writes import (
    OBJECT_TAG,
    check_if_match,
    commit,
    delete_with_audit,
    new_id,
    now,
    revise,
    snap,
)

EDITABLE = frozenset({DRAFT, REJECTED, PENDING, APPROVED, PUBLISHED})
DELETABLE = frozenset({DRAFT, REJECTED, WITHDRAWN})


def public(content: Content) -> dict[str, Any]:
    return {
        "content_id": content.content_id,
        "unit_id": content.unit_id,
        "kind": content.kind,
        "title": content.title,
        "body": content.body,
        "summary": content.summary,
        "category": content.category,
        "media": [dict(m.as_dict() if hasattr(m, "as_dict") else m) for m in (content.media or [])],
        "link_url": content.link_url,
        "duration": int(content.duration or 15),
        "valid_from": content.valid_from,
        "valid_until": content.valid_until,
        "weekly_windows": [dict(w.as_dict() if hasattr(w, "as_dict") else w) for w in (content.weekly_windows or [])],
        "priority": content.priority,
        "push": bool(content.push),
        "urgent_until": content.valid_until if content.priority == URGENT and content.published_at else None,
        "targets": content.target_lists(),
        "screen_ids": sorted(content.screen_ids or ()),
        "status": rules.effective_status(content),
        "reject_reason": content.reject_reason,
        "created_by": content.created_by,
        "submitted_by": content.submitted_by,
        "reviewed_by": content.reviewed_by,
        "reviewed_at": content.reviewed_at,
        "published_at": content.published_at,
        "withdrawn_at": content.withdrawn_at,
        "revision": content.revision,
        "created_at": content.created_at,
        "updated_at": content.updated_at,
    }


def create(principal: Principal, data: dict[str, Any]) -> Content:
    unit = principal.unit(data["unit_id"], EDIT)
    rules.check_targets(principal, unit, data.get("targets") or {})
    attrs = rules.prepare(data)
    content = Content(new_id("c"), status=DRAFT, created_by=principal.user_id, updated_by=principal.user_id, **attrs)
    rules.check_shape(content)
    uow = UnitOfWork()
    uow.put(content, condition=Content.content_id.does_not_exist(), tag=OBJECT_TAG)
    audit.record(
        uow,
        principal.user_id,
        "content.create",
        content.unit_id,
        "content",
        content.content_id,
        None,
        snap(public(content)),
    )
    commit(uow)
    return content


def _visible(principal: Principal, content_id: str, permission: str = READ) -> tuple[Content, Unit]:
    return fetch_in_scope(principal, Content, content_id, "content", permission, consistent_read=True)


def get(principal: Principal, content_id: str) -> Content:
    return _visible(principal, content_id)[0]


def list_content(principal: Principal, cursor: str | None, limit: int, unit_id: str | None, status: str | None) -> Page:
    units = scope_units(principal, unit_id)
    condition = None
    if status == EXPIRED:
        condition = (Content.status == PUBLISHED) & (Content.valid_until <= now())
    elif status == PUBLISHED:
        condition = (Content.status == PUBLISHED) & (
            Content.valid_until.does_not_exist() | (Content.valid_until > now())
        )
    elif status:
        condition = Content.status == status
    return page_by_unit(
        Content.by_unit, [u.unit_id for u in units], cursor, limit, scan_index_forward=False, filter_condition=condition
    )


def _write(
    principal: Principal,
    content: Content,
    actions: list,
    action: str,
    before: dict,
    after: dict,
    messages: list[dict[str, Any]] | None = None,
    note: str | None = None,
    *,
    unit: Unit | None = None,
    new_status: str | None = None,
) -> Content:
    """Commit ``actions`` (revision-checked) with the audit entry and the outbox, then send the outbox.

    The home page's feed entries (pending review, recent publishes) go in the same transaction.
    """
    all_actions = [*actions, Content.updated_by.set(principal.user_id)]
    if messages:
        all_actions.append(Content.outbox.set(messages))
    uow = UnitOfWork()
    revise(uow, content, all_actions)
    audit.record(
        uow, principal.user_id, action, content.unit_id, "content", content.content_id, before, after, note=note
    )
    if unit is not None:
        home_feed.track_content(uow, content, unit.path, new_status or content.status)
    commit(uow)
    content.refresh(consistent_read=True)
    outbox.flush(content)
    return content


def update(principal: Principal, content_id: str, changes: dict[str, Any], if_match: int | None) -> Content:
    content, unit = _visible(principal, content_id, EDIT)
    check_if_match(if_match, content.revision)
    status = rules.effective_status(content)
    if status not in EDITABLE:
        raise Conflict(f"{status} content cannot be edited", code="invalid_transition")
    if "targets" in changes:
        rules.check_targets(principal, unit, changes["targets"] or {})
    if "body" in changes and "summary" not in changes:
        changes["summary"] = None  # recomputed from the new body
    changes = rules.prepare(dict(changes, kind=content.kind))
    changes.pop("kind")
    before = snap(public(content))
    for k, v in changes.items():
        setattr(content, k, v)
    rules.check_shape(content)
    end = rules.urgent_default_end(content, now()) if status == PUBLISHED else None
    if end is not None:  # made urgent, or its end removed, while on screen: it still ends on its own
        content.valid_until = changes["valid_until"] = end
    actions = [
        getattr(Content, k).set(v) if v is not None else getattr(Content, k).remove() for k, v in changes.items()
    ]
    messages: list[dict[str, Any]] = []
    note = None
    needs_review = review_required(unit)
    new_status = status if status in (PENDING, PUBLISHED) else None  # a pending or published title may change
    if status == PUBLISHED and needs_review:
        # back to review: off the screens until approved and published again
        actions += [Content.status.set(PENDING), Content.reviewed_by.remove(), Content.reviewed_at.remove()]
        messages = outbox.manifest_messages(content.screen_ids or (), "content_updated", content_id)
        note = "published content edited: back to review"
        new_status = PENDING
    elif status == PUBLISHED:
        new_screens = rules.resolve_screens(content)
        actions.append(Content.screen_ids.set(new_screens or None))  # type: ignore[arg-type]  # pynamodb stores None as NULL; its stubs leave None out
        messages = outbox.manifest_messages(set(content.screen_ids or ()) | new_screens, "content_updated", content_id)
    elif status == APPROVED and needs_review:
        actions += [Content.status.set(PENDING), Content.reviewed_by.remove(), Content.reviewed_at.remove()]
        note = "approved content edited: back to review"
        new_status = PENDING
    elif status == REJECTED:
        actions.append(Content.status.set(DRAFT))
    after = snap(public(content))
    return _write(
        principal, content, actions, "content.update", before, after, messages, note, unit=unit, new_status=new_status
    )


def transition(
    principal: Principal, content_id: str, action: str, if_match: int | None, reason: str | None = None
) -> Content:
    """Apply a workflow action; repeating a publish or withdraw that already happened is a no-op."""
    sources, target, permission = transitions.TRANSITIONS[action]
    content, unit = _visible(principal, content_id, READ)
    principal.require(permission, unit)
    status = rules.effective_status(content)
    if status == target and action in ("publish", "withdraw"):
        outbox.flush(content)  # a retry: finish sending what the first attempt owed, enqueue nothing new
        return content
    check_if_match(if_match, content.revision)
    transitions.refuse(principal.user_id, content, action, status, sources, review_required(unit), reason)
    before = snap(public(content))
    actions, messages = transitions.writes(principal.user_id, content, action, reason, now())
    actions.insert(0, Content.status.set(target))
    after = dict(before, status=target, screen_ids=sorted(content.screen_ids or ()))
    return _write(
        principal,
        content,
        actions,
        f"content.{action}",
        before,
        after,
        messages,
        note=reason,
        unit=unit,
        new_status=target,
    )


def delete(principal: Principal, content_id: str, if_match: int | None) -> None:
    content, unit = _visible(principal, content_id, EDIT)
    check_if_match(if_match, content.revision)
    if content.status not in DELETABLE:
        raise Conflict(f"{content.status} content cannot be deleted; withdraw it first", code="invalid_transition")
    delete_with_audit(
        content,
        principal.user_id,
        "content.delete",
        content.unit_id,
        "content",
        content_id,
        snap(public(content)),
        also=lambda uow: home_feed.forget_content(uow, content, unit.path),
    )
