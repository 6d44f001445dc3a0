"""Series of any subject over a date range, in day, week or month buckets, from the roll-ups.

A subject's days come from one Query: the screen's, content item's or
account's ``DailyStat`` items, or a unit's / subtree's ``AnalyticsRollup``
items, which end with the ``~live`` levels.  Levels at the end of a past day
are the current level minus the changes of the days after it — exact,
because every change of a level is a counted event (the invariant the
property test checks) — so the query runs from ``from`` to today.  Nothing
here reads more than the one subject it was asked for.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from chalicelib.models.rollups import LIVE, scope_key
from chalicelib.models.stats import COUNTERS, DailyStat
from chalicelib.services.access.grants import READ, Principal
from chalicelib.services.analytics import first_reads, metrics, store
from chalicelib.services.analytics.days import day_range
from chalicelib.services.shared.errors import NotFound

Kind = Literal["screen", "unit", "subtree", "account", "content"]
Bucket = Literal["day", "week", "month"]
KINDS = ("screen", "unit", "subtree", "account", "content")


@dataclass
class Days:
    """One subject's raw material: counters per day (``from``..today) and its levels now."""

    kind: str
    ident: str
    name: str
    counters: dict[str, dict[str, Any]]
    live: dict[str, float]


def _stat_days(subject: str, first: str) -> dict[str, dict[str, Any]]:
    out = {}
    for stat in DailyStat.query(subject, DailyStat.day >= first):
        out[stat.day] = {name: stat.counter(name) for name in COUNTERS}
    return out


def load(principal: Principal, kind: str, ident: str, first: str) -> Days:
    """The subject's days from ``first`` on, after checking the caller may see it (else 404)."""
    if kind == "screen":
        from chalicelib.services.screens.registry import get as get_screen

        screen = get_screen(principal, ident.upper())
        return Days(
            kind,
            screen.screen_id,
            screen.name,
            _stat_days(f"screen#{screen.screen_id}", first),
            {"fans": int(screen.fan_count or 0), "distinct": int(screen.fan_count or 0), "screens": 1},
        )
    if kind in ("unit", "subtree"):
        unit = principal.unit(ident, READ)
        items = store.scope_items(scope_key("unit" if kind == "unit" else "tree", unit.unit_id), first)
        live = items.pop(LIVE, {})
        items = {d: v for d, v in items.items() if not d.startswith("~")}
        return Days(kind, unit.unit_id, unit.name, items, live)
    if kind == "account":
        from chalicelib.services.gateway.accounts import get as get_account

        account = get_account(principal, ident)
        return Days(kind, account.appid, account.name, _stat_days(f"account#{account.appid}", first), {})
    if kind == "content":
        from chalicelib.services.content.workflow import get as get_content

        content = get_content(principal, ident)
        days = store.stat_items(f"content#{content.content_id}", first)  # low-level: the first-read buckets too
        extras = store.scope_items(f"content#{content.content_id}", first)
        live = extras.pop(LIVE, {})
        for day, extra in extras.items():
            if not day.startswith("~"):
                days.setdefault(day, {}).update(extra)
        return Days(kind, content.content_id, content.title, days, {"played_on": int(live.get("distinct", 0) or 0)})
    raise NotFound()


def level_changes(kind: str, counters: Mapping[str, Any]) -> dict[str, int]:
    """How a day's counters changed each level (fans, distinct, screens).

    ``*_corrected``: what a rebuild found the counted changes missed, so that
    every closed day's level is the one frozen at its close (closing.py).
    """
    net = metrics.net_of(counters)

    def n(name: str) -> int:
        return int(counters.get(name, 0) or 0)

    if kind in ("unit", "subtree"):
        return {
            "fans": net + n("fans_moved") + n("fans_corrected"),
            "distinct": n("distinct_new") - n("distinct_lost") + n("distinct_corrected"),
            "screens": n("screens_added") + n("screens_corrected"),
        }
    return {"fans": net, "distinct": net, "screens": 0}


_level_changes = level_changes


def levels_by_day(days: Days, first: date, last: date) -> dict[str, dict[str, int]]:
    """Levels at the end of each day ``first``..``last``: now, minus the changes of every later day."""
    level = {
        "fans": int(days.live.get("fans", 0) or 0),
        "distinct": int(days.live.get("distinct", 0) or 0),
        "screens": int(days.live.get("screens", 0) or 0),
    }
    later = sorted((d for d in days.counters if d > last.isoformat()), reverse=True)
    for d in later:
        for name, change in _level_changes(days.kind, days.counters[d]).items():
            level[name] -= change
    out = {}
    day = last
    while day >= first:
        key = day.isoformat()
        out[key] = dict(level)
        if key in days.counters:
            for name, change in _level_changes(days.kind, days.counters[key]).items():
                level[name] -= change
        day -= timedelta(days=1)
    return out


def _period(day: date, bucket: str) -> tuple[str, date, date]:
    if bucket == "week":
        year, week, _ = day.isocalendar()
        start = day - timedelta(days=day.weekday())
        return f"{year}-W{week:02d}", start, start + timedelta(days=6)
    if bucket == "month":
        start = day.replace(day=1)
        nxt = (start + timedelta(days=32)).replace(day=1)
        return f"{day:%Y-%m}", start, nxt - timedelta(days=1)
    return day.isoformat(), day, day


def _values(kind: str, counters: Mapping[str, Any], level: Mapping[str, int]) -> dict[str, Any]:
    values: dict[str, Any] = {"fans": level["fans"], "distinct_fans": level["distinct"], "screens": level["screens"]}
    values.update(metrics.flows(counters))
    if kind == "content":
        values["reads_by_hour"] = [int(counters.get(f"reads_h{h:02d}", 0) or 0) for h in range(24)]
        values.update(first_reads.summary(counters))
    return values


def _content_extras(days: Days, values: dict[str, Any], counters: Mapping[str, Any]) -> None:
    """Content items: the screens they played on (ever, to date) and their push read rate."""
    values["screens_played_on"] = int(days.live.get("played_on", 0) or 0)


def summarise(days: Days, first: date, last: date, bucket: str = "day") -> dict[str, Any]:
    """Points per bucket and the period's totals with rates."""
    levels = levels_by_day(days, first - timedelta(days=1), last)
    points: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    day = first
    while day <= last:
        label, start, end = _period(day, bucket)
        if label not in points:
            points[label] = {"start": max(start, first), "end": min(end, last), "counters": Counter()}
            order.append(label)
        points[label]["counters"].update(
            {k: v for k, v in days.counters.get(day.isoformat(), {}).items() if isinstance(v, (int, float))}
        )
        day += timedelta(days=1)
    out_points = []
    total: Counter[str] = Counter()
    for label in order:
        p = points[label]
        total.update(p["counters"])
        out_points.append(
            {
                "period": label,
                "start": p["start"].isoformat(),
                "end": p["end"].isoformat(),
                **_values(days.kind, p["counters"], levels[p["end"].isoformat()]),
            }
        )
    totals = _values(days.kind, total, levels[last.isoformat()])
    if days.kind == "content":
        _content_extras(days, totals, total)
    minutes = ((last - first).days + 1) * 1440
    totals.update(
        metrics.rates(totals, fans_at_start=levels[(first - timedelta(days=1)).isoformat()]["fans"], minutes=minutes)
    )
    return {"points": out_points, "totals": totals}


def series(
    principal: Principal, kind: str, ident: str, start: date | None, end: date | None, bucket: str = "day"
) -> dict[str, Any]:
    first, last = day_range(start, end)
    days = load(principal, kind, ident, (first - timedelta(days=1)).isoformat())
    return {
        "kind": kind,
        "id": days.ident,
        "name": days.name,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "bucket": bucket,
        **summarise(days, first, last, bucket),
    }
