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

from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.contracts import article_html
from chalicelib.dal import screens as screen_repo
from chalicelib.dal import units as unit_repo
from chalicelib.models import Content, Unit
from chalicelib.models.content import APPROVED, DRAFT, EXPIRED, PENDING, PUBLISHED, REJECTED, URGENT, WITHDRAWN
from chalicelib.models.unit_of_work import UnitOfWork
from chalicelib.services.access import audit
from chalicelib.services.access.grants import EDIT, PUBLISH, READ, REVIEW, Principal, fetch_in_scope
from chalicelib.services.access.units import review_required, scope_units
from chalicelib.services.analytics import home_feed
from chalicelib.services.content import media, outbox
from chalicelib.services.content.text import plain, summary_of
from chalicelib.services.push import outcomes as push_outcomes
from chalicelib.services.screens.registry import screens_in
from chalicelib.services.shared.errors import BadRequest, Conflict, Forbidden, Unprocessable
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

# action -> (from states, to state, permission)
TRANSITIONS: dict[str, tuple[frozenset[str], str, str]] = {
    "submit": (frozenset({DRAFT, REJECTED}), PENDING, EDIT),
    "approve": (frozenset({PENDING}), APPROVED, REVIEW),
    "reject": (frozenset({PENDING}), REJECTED, REVIEW),
    "publish": (frozenset({DRAFT, APPROVED}), PUBLISHED, PUBLISH),
    "withdraw": (frozenset({PUBLISHED}), WITHDRAWN, PUBLISH),
}
EDITABLE = frozenset({DRAFT, REJECTED, PENDING, APPROVED, PUBLISHED})
DELETABLE = frozenset({DRAFT, REJECTED, WITHDRAWN})
URGENT_HOLD = timedelta(hours=24)  # an urgent item interrupts every screen: it must end on its own


def urgent_default_end(content: Content, at: datetime) -> datetime | None:
    """The end an urgent item without ``valid_until`` gets when it goes on screen (24 h after it starts).

    An urgent notice ("今天14:00-18:00停水") must not hold the screens forever because nobody set an
    end; the editor can set or change ``valid_until`` at any time.
    """
    if content.priority != URGENT or content.valid_until is not None:
        return None
    start = content.valid_from if content.valid_from and content.valid_from > at else at
    return start + URGENT_HOLD


def effective_status(content: Content, at: datetime | None = None) -> str:
    if content.status == PUBLISHED and content.valid_until and content.valid_until <= (at or datetime.now(UTC)):
        return EXPIRED
    return content.status


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
        "targets": _targets(content),
        "screen_ids": sorted(content.screen_ids or ()),
        "status": effective_status(content),
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


def _targets(content: Content) -> dict[str, list[str]]:
    raw = content.targets.as_dict() if hasattr(content.targets, "as_dict") else dict(content.targets or {})
    return {k: list(raw.get(k) or []) for k in ("screens", "tags", "units")}


def _check_shape(content: Content) -> None:
    """Kind-specific requirements, checked on the merged object (create and edit alike)."""
    kinds = {m["type"].split("/")[0] for m in (content.media or [])}
    if content.kind in ("notice", "article") and not content.body:
        raise BadRequest(f"a {content.kind} needs a body", field="body")
    if content.kind == "image" and "image" not in kinds:
        raise BadRequest("an image item needs at least one image", field="media")
    if content.kind == "video" and "video" not in kinds:
        raise BadRequest("a video item needs a video/mp4 file", field="media")
    if content.kind == "link" and not content.link_url:
        raise BadRequest("a link item needs link_url", field="link_url")
    if content.valid_from and content.valid_until and content.valid_from >= content.valid_until:
        raise BadRequest("valid_until must be after valid_from", field="valid_until")
    targets = _targets(content)
    if not any(targets.values()):
        raise BadRequest("choose screens, tags or units to show this on", field="targets")


def _check_targets(principal: Principal, unit: Unit, targets: dict[str, list[str]]) -> None:
    """Targets must lie in the content's own unit subtree (404-like errors name the field)."""
    for i, screen_id in enumerate(targets.get("screens") or []):
        screen = screen_repo.find(screen_id)
        owner = unit_repo.find(screen.unit_id) if screen is not None else None
        if owner is None or not owner.path.startswith(unit.path):
            raise BadRequest(f"no screen {screen_id} in this unit", field=f"targets.screens.{i}")
    for i, unit_id in enumerate(targets.get("units") or []):
        target = unit_repo.find(unit_id)
        if target is None or not target.path.startswith(unit.path):
            raise BadRequest(f"no unit {unit_id} under this unit", field=f"targets.units.{i}")


def resolve_screens(content: Content) -> set[str]:
    """The concrete screens the targets name today (resolved at publish, stored in ``screen_ids``)."""
    unit = Unit.get(content.unit_id)
    targets = _targets(content)
    found: set[str] = set()
    for screen_id in targets["screens"]:
        screen = screen_repo.find(screen_id)
        if screen is None:
            continue
        if Unit.get(screen.unit_id).path.startswith(unit.path):
            found.add(screen_id)
    for unit_id in targets["units"]:
        target = unit_repo.find(unit_id)
        if target is None:
            continue
        if target.path.startswith(unit.path):
            found |= {s.screen_id for s in screens_in(target)}
    if targets["tags"]:
        wanted = set(targets["tags"])
        found |= {s.screen_id for s in screens_in(unit) if wanted & set(s.tags or ())}
    return found


def _prepare(data: dict[str, Any]) -> dict[str, Any]:
    """Sanitise and expand request data into model attributes."""
    out = dict(data)
    if out.get("kind") == "article" and out.get("body"):
        out["body"] = article_html.stored(out["body"])
    elif out.get("body"):
        try:
            plain(out["body"], multiline=True)  # notices and captions are plain text
        except ValueError as exc:
            raise BadRequest(str(exc), field="body") from None
    if "media" in out and out["media"] is not None:
        items = []
        for i, m in enumerate(out["media"]):
            try:
                items.append(media.verify(m["sha256"], m["size"], m["type"]))
            except media.MediaError as exc:
                raise BadRequest(str(exc), field=f"media.{i}") from None
        out["media"] = items or None
    if out.get("body") and not out.get("summary"):
        out["summary"] = summary_of(out["body"])
    return out


def create(principal: Principal, data: dict[str, Any]) -> Content:
    unit = principal.unit(data["unit_id"], EDIT)
    _check_targets(principal, unit, data.get("targets") or {})
    attrs = _prepare(data)
    content = Content(new_id("c"), status=DRAFT, created_by=principal.user_id, updated_by=principal.user_id, **attrs)
    _check_shape(content)
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
    status = effective_status(content)
    if status not in EDITABLE:
        raise Conflict(f"{status} content cannot be edited", code="invalid_transition")
    if "targets" in changes:
        _check_targets(principal, unit, changes["targets"] or {})
    if "body" in changes and "summary" not in changes:
        changes["summary"] = None  # recomputed from the new body
    changes = _prepare(dict(changes, kind=content.kind))
    changes.pop("kind")
    before = snap(public(content))
    for k, v in changes.items():
        setattr(content, k, v)
    _check_shape(content)
    end = urgent_default_end(content, now()) if status == PUBLISHED else None
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
        new_screens = resolve_screens(content)
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
    sources, target, permission = TRANSITIONS[action]
    content, unit = _visible(principal, content_id, READ)
    principal.require(permission, unit)
    status = effective_status(content)
    if status == target and action in ("publish", "withdraw"):
        outbox.flush(content)  # a retry: finish sending what the first attempt owed, enqueue nothing new
        return content
    check_if_match(if_match, content.revision)
    refuse_transition(principal.user_id, content, action, status, sources, review_required(unit), reason)
    before = snap(public(content))
    actions, messages = _transition_writes(principal.user_id, content, action, reason, now())
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


def refuse_transition(
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


def _transition_writes(
    user_id: str, content: Content, action: str, reason: str | None, at: datetime
) -> tuple[list, list[dict[str, Any]]]:
    """The update actions and outbox messages of one allowed action (besides the status itself)."""
    if action == "submit":
        return [Content.submitted_by.set(user_id), Content.reject_reason.remove()], []
    if action in ("approve", "reject"):
        actions = [Content.reviewed_by.set(user_id), Content.reviewed_at.set(at)]
        return actions + ([Content.reject_reason.set(reason)] if reason else []), []
    if action == "publish":
        return _publish_writes(content, at)
    if action == "withdraw":
        return [Content.withdrawn_at.set(at)], outbox.manifest_messages(
            content.screen_ids or (), "content_withdrawn", content.content_id
        )
    return [], []


def _publish_writes(content: Content, at: datetime) -> tuple[list, list[dict[str, Any]]]:
    """Publishing: the screens it reaches now, its validity, the manifests and (with ``push``) the push job."""
    if content.valid_until and content.valid_until <= at:
        raise Conflict("the validity window has ended", code="expired", field="valid_until")
    screens = resolve_screens(content)
    if not screens:
        raise Unprocessable("the targets match no screen", field="targets", code="no_screens")
    content.screen_ids, content.published_at = screens, at
    actions = [Content.screen_ids.set(screens), Content.published_at.set(at)]
    end = urgent_default_end(content, at)
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
