"""What the phone pages read from the tables: the visiting fan, screens, units and his unread items.

The handlers in ``handlers/phone_pages.py`` only parse, call these and shape
HTML; a missing row is a normal answer here (an unknown screen, an anonymous
reader), never an exception the handler has to know the model for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from chalicelib.dal.items import find
from chalicelib.models.content import PUBLISHED, Content
from chalicelib.models.fans import Fan
from chalicelib.models.screens import Screen
from chalicelib.models.units import Unit

MAX_UNREAD_SHOWN = 50


@dataclass(frozen=True)
class FanState:
    """The visiting fan's screens and waiting items; empty (openid None) for an anonymous or new reader."""

    openid: str | None = None
    active_screens: frozenset[str] = field(default_factory=frozenset)
    unread_content: frozenset[str] = field(default_factory=frozenset)


def fan_state(appid: str, openid: str | None) -> FanState:
    """The fan's state, read consistently: a page right after a subscribe must show it."""
    fan = find(Fan, appid, openid, consistent=True) if openid is not None else None
    if fan is None:
        return FanState()
    return FanState(fan.openid, frozenset(fan.active_screens or ()), frozenset(fan.unread_content or ()))


def screen(screen_id: str | None) -> Screen | None:
    """The screen with this (normalised) code, or None when there is none."""
    return find(Screen, screen_id) if screen_id else None


def screen_name(screen_id: str) -> str:
    """What a notice calls a screen: its name, or the code itself when it is unknown."""
    found = screen(screen_id)
    return found.name if found is not None else screen_id


def follow_qr_url(screen_id: str) -> str | None:
    """The screen's own WeChat QR code URL (following through it also subscribes), when it has one."""
    found = screen(screen_id)
    return found.qr_url if found is not None and found.qr_url else None


def unit_name(unit_id: str | None) -> str:
    """The name a page shows for a unit; empty when the unit is gone."""
    unit = find(Unit, unit_id) if unit_id else None
    return unit.name if unit is not None else ""


def unread_items(fan: FanState, now: datetime | None = None) -> list[Content]:
    """The fan's waiting items that are still readable, newest first (subscription accounts)."""
    ids = sorted(fan.unread_content)[:MAX_UNREAD_SHOWN]
    if not ids:
        return []
    now = now or datetime.now(UTC)
    items = [
        c for c in Content.batch_get(ids) if c.status == PUBLISHED and (c.valid_until is None or c.valid_until > now)
    ]
    return sorted(items, key=lambda c: c.published_at or c.created_at, reverse=True)
