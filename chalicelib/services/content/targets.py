"""Published content follows its targets when screens change: a new screen, a moved screen, a tag change.

``Content.screen_ids`` is resolved from the targets at publish.  A screen
added later to a targeted unit (or given a targeted tag) was missing from it,
so it showed only the idle slide; a screen moved away kept content its new
unit was never sent.  After a screen is created, moved or re-tagged,
:func:`follow_screen` re-decides, for that one screen, every published item
that may concern it — the items it shows now (its ``ScreenContentLink``
rows) and the published items of its unit and the units above (only they can
target it) — with the same rules as ``rules.resolve_screens``, adds the
screen to or removes it from ``screen_ids`` (set ADD/DELETE: no lost update
against a concurrent edit) and sends the manifest rebuild that names the
content, so the manifest builder refreshes the link.  No table is scanned.
"""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib.dal import screens as screen_repo
from chalicelib.dal import units as unit_repo
from chalicelib.dal.items import condition_failed
from chalicelib.models import Content, Screen, Unit
from chalicelib.models.content import PUBLISHED
from chalicelib.services.content import outbox
from chalicelib.services.screens.manifests import active_content_ids


def covers(content: Content, paths: dict[str, str], screen: Screen) -> bool:
    """Whether the content's targets name this screen today (``rules.resolve_screens`` for one screen)."""
    own, where = paths.get(content.unit_id), paths.get(screen.unit_id)
    if not own or not where or not where.startswith(own):
        return False  # only screens of the content's own subtree
    targets = content.target_lists()
    if screen.screen_id in targets["screens"]:
        return True
    if any(paths.get(u) and paths[u].startswith(own) and where.startswith(paths[u]) for u in targets["units"]):
        return True
    return bool(set(targets["tags"]) & set(screen.tags or ()))


def _candidates(screen: Screen, unit: Unit | None) -> set[str]:
    ids = set(active_content_ids(screen.screen_id))
    for unit_id in [p for p in unit.path.split("/") if p] if unit else []:
        ids |= {c.content_id for c in Content.by_unit.query(unit_id, filter_condition=Content.status == PUBLISHED)}
    return ids


def follow_screen(screen_id: str) -> list[str]:
    """Bring published content's ``screen_ids`` in line with the screen as it is now; returns changed ids."""
    screen = screen_repo.find(screen_id, consistent=True)
    if screen is None:
        return []
    unit = unit_repo.find(screen.unit_id)
    contents = [c for c in Content.batch_get(sorted(_candidates(screen, unit))) if c.status == PUBLISHED]
    targeted_units = {u for c in contents for u in c.target_lists()["units"]}
    unit_ids = {screen.unit_id} | {c.unit_id for c in contents} | targeted_units
    paths = {u.unit_id: u.path for u in Unit.batch_get(sorted(unit_ids))}
    changed: list[str] = []
    messages: list[dict[str, Any]] = []
    for content in contents:
        wanted, present = covers(content, paths, screen), screen_id in (content.screen_ids or ())
        if wanted == present:
            continue
        action = Content.screen_ids.add({screen_id}) if wanted else Content.screen_ids.delete({screen_id})
        try:
            content.update(actions=[action], condition=Content.status == PUBLISHED)
        except UpdateError as exc:  # withdrawn meanwhile: its own rebuilds take it off the screens
            if not condition_failed(exc):
                raise
            continue
        changed.append(content.content_id)
        messages += outbox.manifest_messages([screen_id], "screen_targets", content.content_id)
    outbox.send(messages)
    return changed
