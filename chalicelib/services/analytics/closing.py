"""The daily job (close yesterday), the rebuild of roll-ups from the source records, and the check.

These are batch jobs, run once a day at China midnight or by an operator: they
may read every unit and screen (requests never do).

* ``close_day`` writes the levels at the end of the day (``fans_eod``,
  ``distinct_eod``, ``screens_eod``) on every scope's day item and every
  screen's ``DailyStat`` day, then the fan attributes.
* ``rebuild`` recomputes unit and subtree days from the screens' ``DailyStat``
  days (written in the same transactions as the facts they count), the
  levels from the screens' fan counts, and the distinct-fan memberships from
  the active subscriptions.
* ``check`` proves roll-ups equal the sum of their parts, and every screen's
  daily nets sum to its fan count; it returns the differences it found.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from uuid import uuid4

from chalicelib.models.rollups import LIVE, FanScope, scope_key
from chalicelib.models.screens import Screen
from chalicelib.models.stats import COUNTERS, DailyStat
from chalicelib.models.subscriptions import Subscription
from chalicelib.models.units import Unit
from chalicelib.services.analytics import metrics, scopes, series, store

SCOPE_COUNTERS = (*COUNTERS,)


@dataclass
class World:
    """Every unit and screen, and each screen's days in a range: what the batch jobs sum."""

    units: dict[str, Unit]
    screens: dict[str, Screen]
    days: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)  # screen -> day -> counters

    def unit_screens(self, unit_id: str) -> list[Screen]:
        return [s for s in self.screens.values() if s.unit_id == unit_id]

    def subtree(self, unit_id: str) -> list[Unit]:
        path = self.units[unit_id].path
        return [u for u in self.units.values() if u.path.startswith(path)]


def load_world(first: str | None = None, last: str | None = None) -> World:
    world = World({u.unit_id: u for u in Unit.scan()}, {s.screen_id: s for s in Screen.scan()})
    if first and last:
        for screen_id in world.screens:
            world.days[screen_id] = {
                stat.day: {name: stat.counter(name) for name in COUNTERS}
                for stat in DailyStat.query(f"screen#{screen_id}", DailyStat.day.between(first, last))
            }
    return world


def _dates(first: date, last: date) -> list[str]:
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def expected_counters(world: World, scope: str, day: str) -> Counter:
    kind, _, unit_id = scope.partition("#")
    units = [world.units[unit_id]] if kind == "unit" else world.subtree(unit_id)
    total: Counter = Counter()
    for unit in units:
        for screen in world.unit_screens(unit.unit_id):
            total.update(world.days.get(screen.screen_id, {}).get(day, {}))
    return +total


def expected_memberships(world: World) -> dict[str, dict[str, set[str]]]:
    """scope -> person -> his active screens in it, from the subscriptions themselves."""
    out: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for sub in Subscription.scan(Subscription.status == "active"):
        screen = world.screens.get(sub.screen_id)
        unit = world.units.get(screen.unit_id) if screen else None
        if unit is None:
            continue
        for scope in scopes.scopes_of_unit(unit.unit_id, unit.path):
            out[scope][sub.fan].add(sub.screen_id)
    return out


def all_scopes(world: World) -> list[str]:
    return sorted({scope_key(kind, u) for u in world.units for kind in ("unit", "tree")})


def expected_levels(world: World, scope: str, members: dict[str, dict[str, set[str]]]) -> dict[str, int]:
    kind, _, unit_id = scope.partition("#")
    units = [world.units[unit_id]] if kind == "unit" else world.subtree(unit_id)
    screens = [s for u in units for s in world.unit_screens(u.unit_id)]
    return {
        "fans": sum(int(s.fan_count or 0) for s in screens),
        "screens": len(screens),
        "distinct": len(members.get(scope, {})),
    }


@dataclass
class CheckReport:
    scopes: int = 0
    days: int = 0
    screens: int = 0
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def check(first: date, last: date) -> CheckReport:
    """Roll-ups against the sum of their parts over ``first``..``last``, levels against now."""
    world = load_world(first.isoformat(), last.isoformat())
    report = CheckReport()
    members = expected_memberships(world)
    for scope in all_scopes(world):
        report.scopes += 1
        items = store.scope_items(scope, first.isoformat())
        live = items.get(LIVE, {})
        for name, value in expected_levels(world, scope, members).items():
            if int(live.get(name, 0) or 0) != value:
                report.differences.append(f"{scope} level {name}: roll-up {live.get(name, 0)}, parts {value}")
        for day, name, derived, closed in closed_differences(scope, items, first, last):
            report.differences.append(f"{scope} {day} closed {name}: series {derived}, closed at day end {closed}")
        for day in _dates(first, last):
            report.days += 1
            want = expected_counters(world, scope, day)
            have = {k: int(v) for k, v in (items.get(day) or {}).items() if k in SCOPE_COUNTERS and v}
            if dict(want) != have:
                diff = {
                    k: (have.get(k, 0), want.get(k, 0))
                    for k in set(want) | set(have)
                    if have.get(k, 0) != want.get(k, 0)
                }
                report.differences.append(f"{scope} {day}: (roll-up, parts) {dict(sorted(diff.items()))}")
    for screen in world.screens.values():
        report.screens += 1
        nets = sum(
            metrics.net_of({n: stat.counter(n) for n in COUNTERS})
            for stat in DailyStat.query(f"screen#{screen.screen_id}")
        )
        if nets != int(screen.fan_count or 0):
            report.differences.append(
                f"screen {screen.screen_id}: sum of daily net {nets}, fan count {screen.fan_count}"
            )
    return report


def rebuild(first: date, last: date) -> dict[str, int]:
    """Recompute the roll-ups of ``first``..``last`` and the levels from the source records."""
    world = load_world(first.isoformat(), last.isoformat())
    members = expected_memberships(world)
    written = 0
    for scope in all_scopes(world):
        items = store.scope_items(scope, first.isoformat())
        rebuilt = {d: dict(v) for d, v in items.items()}
        for day in _dates(first, last + timedelta(days=1)):
            old = items.get(day) or {}
            kept = {k: v for k, v in old.items() if k not in SCOPE_COUNTERS and k not in CORRECTIONS.values()}
            rebuilt[day] = {
                **kept,
                **(
                    expected_counters(world, scope, day)
                    if day <= last.isoformat()
                    else {k: v for k, v in old.items() if k in SCOPE_COUNTERS}
                ),
            }
        live = items.get(LIVE) or {}
        rebuilt[LIVE] = {**live, **expected_levels(world, scope, members)}
        _reconcile_with_closings(scope, rebuilt, first, last)
        for day, new in rebuilt.items():
            old = items.get(day) or {}
            if {k: v for k, v in new.items() if v} != {k: v for k, v in old.items() if v}:
                store.put_item(scope, day, new)
                written += 1
    written += _rebuild_memberships(members)
    return {"written": written, "scopes": len(all_scopes(world)), "screens": len(world.screens)}


LEVEL_CLOSINGS = {"fans": "fans_eod", "distinct": "distinct_eod", "screens": "screens_eod"}
CORRECTIONS = {"fans": "fans_corrected", "distinct": "distinct_corrected", "screens": "screens_corrected"}


def _days_of(scope: str, items: dict[str, dict]) -> series.Days:
    kind = "unit" if scope.startswith("unit#") else "subtree"
    return series.Days(
        kind,
        scope.partition("#")[2],
        "",
        {d: v for d, v in items.items() if not d.startswith("~")},
        items.get(LIVE, {}),
    )


def closed_differences(scope: str, items: dict[str, dict], first: date, last: date) -> list[tuple[str, str, int, int]]:
    """Closed days of ``first``..``last`` whose level, as the series derives it, is not the one frozen at close."""
    levels = series.levels_by_day(_days_of(scope, items), first, last)
    out = []
    for day in _dates(first, last):
        for name, closing in LEVEL_CLOSINGS.items():
            frozen = (items.get(day) or {}).get(closing)
            if frozen is not None and int(frozen) != levels[day][name]:
                out.append((day, closing, levels[day][name], int(frozen)))
    return out


def _reconcile_with_closings(scope: str, items: dict[str, dict], first: date, last: date) -> None:
    """Make the rebuilt levels reproduce every closed day of the range (in place).

    A past day's distinct fans cannot be recomputed from the source records:
    a subscription keeps only its latest state (a cancel then a new
    subscription, a suspension then a restore overwrite the earlier ones) and
    inactive rows expire after 180 days.  What is exact is the value frozen
    when the day closed (``close_day`` computes it from the active
    subscriptions themselves).  Levels of past days are derived as the level
    now minus the changes since; so where a closed day's derived level differs
    from its frozen one, the difference goes into ``<level>_corrected`` on
    the day after it — one pass backwards from today — and every closed value
    is reproduced, the flows of the days themselves left as counted.
    """
    level = {name: int(items.get(LIVE, {}).get(name, 0) or 0) for name in LEVEL_CLOSINGS}
    days = sorted((d for d in items if not d.startswith("~") and d >= first.isoformat()), reverse=True)
    kind = "unit" if scope.startswith("unit#") else "subtree"
    today = date.fromisoformat(max([*days, (last + timedelta(days=1)).isoformat()]))
    day = today
    while day >= first:
        key = day.isoformat()
        if day <= last:  # ``level`` is the level at the end of ``day``
            for name, closing in LEVEL_CLOSINGS.items():
                frozen = (items.get(key) or {}).get(closing)
                if frozen is not None and int(frozen) != level[name]:
                    after = items.setdefault((day + timedelta(days=1)).isoformat(), {})
                    after[CORRECTIONS[name]] = int(after.get(CORRECTIONS[name], 0) or 0) + level[name] - int(frozen)
                    level[name] = int(frozen)
        for name, change in series.level_changes(kind, items.get(key) or {}).items():
            level[name] -= change
        day -= timedelta(days=1)


def _rebuild_memberships(members: dict[str, dict[str, set[str]]]) -> int:
    """Make every (scope, person) membership match the active subscriptions."""
    existing = {(m.scope, m.person): m for m in FanScope.scan()}
    wanted = {(scope, person) for scope, people in members.items() for person in people}
    current = store.memberships(wanted | set(existing)) if (wanted or existing) else {}
    written = 0
    for key in sorted(wanted | set(existing)):
        scope, person = key
        want = members.get(scope, {}).get(person, set())
        old = current.get(key)
        if set((old or {}).get("screens") or ()) != want:
            write = store.membership_write(scope, person, old, want, None)
            store.commit([write], f"rebuild#{scope}#{person}#{uuid4()}")
            written += 1
    return written


def close_day(day: date) -> dict[str, int]:
    """Write the day's closing levels on every scope and screen (the day after it has ended)."""
    world = load_world()
    written = 0
    for scope in all_scopes(world):
        # the levels now minus what was counted since midnight: exact once the consumer (<= 60 s behind) has
        # counted every change up to midnight, as it has at 00:05; counting the source records instead would
        # also count the last minute's changes the roll-ups have not reached yet
        items = store.scope_items(scope, day.isoformat())
        level = series.levels_by_day(_days_of(scope, items), day, day)[day.isoformat()]
        store.set_attributes(
            scope,
            day.isoformat(),
            {"fans_eod": level["fans"], "distinct_eod": level["distinct"], "screens_eod": level["screens"]},
        )
        written += 1
    for screen in world.screens.values():
        days = series.Days("screen", screen.screen_id, "", {}, {"fans": int(screen.fan_count or 0)})
        days.counters = {
            stat.day: {n: stat.counter(n) for n in COUNTERS}
            for stat in DailyStat.query(f"screen#{screen.screen_id}", DailyStat.day >= day.isoformat())
        }
        level = series.levels_by_day(days, day, day)[day.isoformat()]
        DailyStat(f"screen#{screen.screen_id}", day.isoformat()).update(actions=[DailyStat.fans_eod.set(level["fans"])])
        written += 1
    return {"written": written}
