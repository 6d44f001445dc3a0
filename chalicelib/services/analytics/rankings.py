"""Rankings of a unit's direct subordinates, league tables among siblings, side-by-side comparisons.

Each subject costs one Query of its roll-up (``tree#<id>`` from the day
before the period through its levels): a ranking of 100 subordinates is 100
queries plus one for the list of subordinates, whatever their screens.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from chalicelib.models.rollups import scope_key
from chalicelib.models.units import Unit
from chalicelib.services.access.grants import MANAGE, READ, Principal
from chalicelib.services.analytics import metrics, series, store
from chalicelib.services.shared.errors import BadRequest, NotFound

LEAGUE = "~league"
MAX_COMPARE = 10


def children(unit: Unit) -> list[Unit]:
    return list(
        Unit.subtree.query(
            unit.root_id, Unit.path.startswith(unit.path), filter_condition=Unit.parent_id == unit.unit_id
        )
    )


def _subtree_days(unit: Unit, first: date) -> series.Days:
    items = store.scope_items(scope_key("tree", unit.unit_id), (first - timedelta(days=1)).isoformat())
    live = items.pop("~live", {})
    return series.Days(
        "subtree", unit.unit_id, unit.name, {d: v for d, v in items.items() if not d.startswith("~")}, live
    )


def value_of(totals: dict[str, Any], metric: str, per_screen: bool) -> float | None:
    value = totals.get(metric)
    if value is None:
        return None
    if per_screen and metric in metrics.PER_SCREEN:
        screens = totals.get("screens") or 0
        return round(value / screens, 4) if screens else None
    return float(value)


def _ranked(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows.sort(key=lambda r: (r["value"] is None, -(r["value"] or 0), r["name"]))
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
    return rows


def _check_metric(metric: str) -> None:
    if metric not in metrics.RANKABLE:
        raise BadRequest(f"metric must be one of {', '.join(metrics.RANKABLE)}", field="metric")


def _rows(units: list[Unit], metric: str, first: date, last: date, per_screen: bool) -> list[dict[str, Any]]:
    rows = []
    for child in units:
        totals = series.summarise(_subtree_days(child, first), first, last)["totals"]
        rows.append(
            {
                "unit_id": child.unit_id,
                "name": child.name,
                "screens": int(totals.get("screens") or 0),
                "value": value_of(totals, metric, per_screen),
            }
        )
    return _ranked(rows)


def ranking(
    principal: Principal, unit_id: str, metric: str, start: date | None, end: date | None, per_screen: bool = False
) -> dict[str, Any]:
    """The unit's direct subordinates, each with its subtree, best first."""
    _check_metric(metric)
    unit = principal.unit(unit_id, READ)
    first, last = series.day_range(start, end)
    return {
        "unit_id": unit.unit_id,
        "metric": metric,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "per_screen": per_screen,
        "items": _rows(children(unit), metric, first, last, per_screen),
    }


def league_enabled(unit_id: str) -> bool:
    item = store.get_item(scope_key("unit", unit_id), LEAGUE)
    return bool(item and item.get("enabled"))


def set_league(principal: Principal, unit_id: str, enabled: bool) -> dict[str, Any]:
    unit = principal.unit(unit_id, MANAGE)
    store.put_item(scope_key("unit", unit.unit_id), LEAGUE, {"enabled": 1 if enabled else 0})
    return {"unit_id": unit.unit_id, "enabled": enabled}


def get_league(principal: Principal, unit_id: str) -> dict[str, Any]:
    unit = principal.unit(unit_id, READ)
    return {"unit_id": unit.unit_id, "enabled": league_enabled(unit.unit_id)}


def league(
    principal: Principal, unit_id: str, metric: str, start: date | None, end: date | None, per_screen: bool = False
) -> dict[str, Any]:
    """The member's siblings under a parent that enabled a league table: names and values only."""
    _check_metric(metric)
    member = principal.unit(unit_id, READ)
    if not member.parent_id or not league_enabled(member.parent_id):
        raise NotFound("league")
    parent = Unit.get(member.parent_id)
    first, last = series.day_range(start, end)
    rows = _rows(children(parent), metric, first, last, per_screen)
    return {
        "parent_name": parent.name,
        "metric": metric,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "per_screen": per_screen,
        "items": [
            {"rank": r["rank"], "name": r["name"], "value": r["value"], "own": r["unit_id"] == member.unit_id}
            for r in rows
        ],
    }


def compare(principal: Principal, kind: str, ids: list[str], start: date | None, end: date | None) -> dict[str, Any]:
    """Up to ten subjects of one kind the caller may see, over one period, on every metric."""
    if kind not in ("screen", "unit", "subtree"):
        raise BadRequest("kind must be screen, unit or subtree", field="kind")
    unique = list(dict.fromkeys(i.strip() for i in ids if i.strip()))
    if not unique or len(unique) > MAX_COMPARE:
        raise BadRequest(f"give 1 to {MAX_COMPARE} ids", field="ids")
    first, last = series.day_range(start, end)
    items = []
    for ident in unique:
        days = series.load(principal, kind, ident, (first - timedelta(days=1)).isoformat())
        totals = series.summarise(days, first, last)["totals"]
        items.append({"id": days.ident, "name": days.name, "values": totals})
    return {"kind": kind, "from": first.isoformat(), "to": last.isoformat(), "items": items}
