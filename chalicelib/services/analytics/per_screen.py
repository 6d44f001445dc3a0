"""The admin API's original per-screen views: a screen's daily series, and rankings computed screen by screen.

Both read the ``DailyStat`` counters the gateway and the push pipeline bump
(one Query per screen over a day range) and the screens' live fan counts.
The ranking's cost grows with the screens of the subtree; the roll-up views
(``analytics.rankings``) do not.  Lost fans count both causes: the 退订
command or page (``unsubs``) and unfollowing the account (``suspended``); a
re-follow's restored subscriptions count as new.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from chalicelib.models import DailyStat, Screen, Unit
from chalicelib.models.stats import subject
from chalicelib.services.access.grants import READ, Principal
from chalicelib.services.analytics import days
from chalicelib.services.screens.registry import get as get_screen
from chalicelib.services.screens.registry import screens_in

SOURCES = ("qr", "menu", "text", "page")
METRICS = ("fans", "growth", "plays", "reads")


def day_range(start: date | None, end: date | None) -> tuple[str, str]:
    """``days.day_range`` as the ISO strings the per-screen queries compare."""
    first, last = days.day_range(start, end)
    return first.isoformat(), last.isoformat()


def _series(screen_id: str, start: str, end: str) -> list[DailyStat]:
    return list(DailyStat.query(subject("screen", screen_id), DailyStat.day.between(start, end)))


def _row(stat: DailyStat) -> dict[str, Any]:
    subs = {source: stat.counter(f"subs_{source}") for source in SOURCES}
    restored = stat.counter("restored")
    lost = {"unsubscribe": stat.counter("unsubs"), "unfollow": stat.counter("suspended")}
    new_fans = sum(subs.values()) + restored
    return {
        "day": stat.day,
        "subscriptions": subs,
        "restored": restored,
        "new_fans": new_fans,
        "unsubscriptions": lost["unsubscribe"],
        "lost_by_cause": lost,
        "lost": sum(lost.values()),
        "net": new_fans - sum(lost.values()),
        "plays": stat.counter("plays"),
        "play_seconds": stat.counter("play_seconds"),
        "reads": sum(stat.counter(n) for n in ("reads_push", "reads_mirror", "reads_menu", "reads_link")),
        "pushes_sent": stat.counter("pushes_sent"),
        "pushes_delivered": stat.counter("receipts_success"),
    }


def screen_stats(principal: Principal, screen_id: str, start: date | None, end: date | None) -> dict[str, Any]:
    screen = get_screen(principal, screen_id)
    first, last = day_range(start, end)
    rows = [_row(s) for s in _series(screen_id, first, last)]
    totals = {
        k: sum(r[k] for r in rows)
        for k in (
            "new_fans",
            "unsubscriptions",
            "lost",
            "net",
            "restored",
            "plays",
            "reads",
            "pushes_sent",
            "pushes_delivered",
        )
    }
    totals["by_source"] = {src: sum(r["subscriptions"][src] for r in rows) for src in SOURCES}
    return {
        "screen_id": screen_id,
        "fan_count": int(screen.fan_count or 0),
        "from": first,
        "to": last,
        "days": rows,
        "totals": totals,
    }


def _metric(screens: list[Screen], metric: str, first: str, last: str) -> int:
    if metric == "fans":
        return sum(int(s.fan_count or 0) for s in screens)
    total = 0
    for screen in screens:
        for row in (_row(s) for s in _series(screen.screen_id, first, last)):
            total += {"growth": row["net"], "plays": row["plays"], "reads": row["reads"]}[metric]
    return total


def ranking(principal: Principal, unit_id: str, metric: str, start: date | None, end: date | None) -> dict[str, Any]:
    """The unit's direct subordinates (each with its subtree), best first."""
    unit = principal.unit(unit_id, READ)
    first, last = day_range(start, end)
    children = list(
        Unit.subtree.query(
            unit.root_id, Unit.path.startswith(unit.path), filter_condition=Unit.parent_id == unit.unit_id
        )
    )
    rows = []
    for child in children:
        screens = screens_in(child)
        rows.append(
            {
                "unit_id": child.unit_id,
                "name": child.name,
                "screens": len(screens),
                "value": _metric(screens, metric, first, last),
            }
        )
    rows.sort(key=lambda r: (-r["value"], r["name"]))
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
    return {"unit_id": unit_id, "metric": metric, "from": first, "to": last, "items": rows}
