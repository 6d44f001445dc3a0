"""The rules content must meet, decided apart from the workflow's writes: shape, targets, validity, sanitising.

Shared by the workflow (create, edit, publish) and the editor's preview
(``content.preview``), which checks targets and resolves screens the same way
before anything is saved.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.contracts import article_html
from chalicelib.dal import screens as screen_repo
from chalicelib.dal import units as unit_repo
from chalicelib.models import Content, Unit
from chalicelib.models.content import EXPIRED, PUBLISHED, URGENT, URGENT_HOLD
from chalicelib.services.access.grants import Principal
from chalicelib.services.content import media
from chalicelib.services.content.text import plain, summary_of
from chalicelib.services.screens.registry import screens_in
from chalicelib.services.shared.errors import BadRequest


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


def check_shape(content: Content) -> None:
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
    targets = content.target_lists()
    if not any(targets.values()):
        raise BadRequest("choose screens, tags or units to show this on", field="targets")


def check_targets(principal: Principal, unit: Unit, targets: dict[str, list[str]]) -> None:
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
    targets = content.target_lists()
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


def prepare(data: dict[str, Any]) -> dict[str, Any]:
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
