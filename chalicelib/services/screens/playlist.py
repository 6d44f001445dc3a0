"""What a screen shows at a given moment, read from its manifest.

The player evaluates validity and weekly windows on its own clock (see
``docs/messages.md``); the phone mirror must agree with it, so the same rules
live here once: an item is current when ``valid_from <= now < valid_until``
(either end open when null), an urgent item before its ``urgent_until``, and, if it has weekly windows, ``now`` in China
Standard Time falls inside one of them (``contracts.windows.contains``: a window whose end is not after its
start runs past midnight into the next day).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.contracts import windows as weekly
from chalicelib.models.stats import CHINA_TZ

Item = dict[str, Any]


def parse_instant(value: Any) -> datetime | None:
    """An aware datetime from ISO-8601 text (naive text is taken as UTC); None when absent or unreadable."""
    if not value or not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def is_current(item: Item, now: datetime) -> bool:
    """Valid now (validity window) and inside a weekly window, if it has any."""
    start, until = parse_instant(item.get("valid_from")), parse_instant(item.get("valid_until"))
    if start is not None and now < start:
        return False
    if until is not None and now >= until:
        return False
    hold = parse_instant(item.get("urgent_until")) if item.get("priority") == "urgent" else None
    if hold is not None and now >= hold:  # the player stops an urgent item at the end of its hold too
        return False
    windows = item.get("weekly_windows") or []
    if not windows:
        return True
    local = now.astimezone(CHINA_TZ)
    return any(weekly.contains(w, local) for w in windows if isinstance(w, dict))


def _published(item: Item) -> datetime:
    return parse_instant(item.get("published_at")) or datetime.min.replace(tzinfo=UTC)


def current_items(manifest: dict[str, Any] | None, now: datetime) -> list[Item]:
    """Every item valid right now, newest first."""
    items = [i for i in (manifest or {}).get("items", []) if isinstance(i, dict) and i.get("content_id")]
    return sorted((i for i in items if is_current(i, now)), key=_published, reverse=True)


def now_playing(manifest: dict[str, Any] | None, now: datetime, reported_content_id: str | None = None) -> Item | None:
    """The item on screen now: an urgent item interrupts everything; else what the player last
    reported (when still current); else the first current item in playlist order."""
    items = [i for i in (manifest or {}).get("items", []) if isinstance(i, dict) and i.get("content_id")]
    current = [i for i in items if is_current(i, now)]
    if not current:
        return None
    urgent = [i for i in current if i.get("priority") == "urgent"]
    if urgent:
        return max(urgent, key=_published)
    if reported_content_id:
        for item in current:
            if item["content_id"] == reported_content_id:
                return item
    return current[0]
