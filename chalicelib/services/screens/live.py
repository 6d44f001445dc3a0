"""The screens table's live columns: what each screen plays now and how often it played today.

A page of up to 200 screens costs two bounded BatchGets here, never a query
per row: the day counters of the page's screens (``DailyStat`` ``screen#<id>``,
today's China day, the same counter the players' plays add to) and the titles
of the items their last heartbeats name (``Heartbeat.playing``).  Only an
online screen has a "now": an offline one's last report is history.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from chalicelib.models import Content, Screen
from chalicelib.models.stats import DailyStat, china_day, subject
from chalicelib.services.screens.reports import screen_status


def _playing(screen: Screen) -> str | None:
    beat = screen.heartbeat
    if beat is None:
        return None
    raw = beat.as_dict() if hasattr(beat, "as_dict") else dict(beat)
    value = raw.get("playing")
    return value if isinstance(value, str) and value else None


def columns(screens: Iterable[Screen], now: datetime | None = None) -> dict[str, dict[str, Any]]:
    """screen id -> ``{"now_playing": {"content_id", "title"} | None, "plays_today": int}``."""
    screens = list(screens)
    if not screens:
        return {}
    day = china_day(now)
    plays = {
        stat.subject.partition("#")[2]: stat.counter("plays")
        for stat in DailyStat.batch_get(
            [(subject("screen", s.screen_id), day) for s in screens], attributes_to_get=["subject", "day", "plays"]
        )
    }
    playing = {s.screen_id: _playing(s) for s in screens if screen_status(s, now) == "online"}
    wanted = sorted({cid for cid in playing.values() if cid})
    titles = (
        {c.content_id: c.title for c in Content.batch_get(wanted, attributes_to_get=["content_id", "title"])}
        if wanted
        else {}
    )
    out = {}
    for s in screens:
        cid = playing.get(s.screen_id)
        out[s.screen_id] = {
            "now_playing": {"content_id": cid, "title": titles.get(cid)} if cid else None,
            "plays_today": int(plays.get(s.screen_id, 0)),
        }
    return out
