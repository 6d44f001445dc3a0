"""Which roll-up scopes a screen's events count in: its unit's own scope and every ancestor's subtree.

A unit's materialised path (``prov/city/``) names its ancestors, so a screen
in ``city`` counts in ``unit#city``, ``tree#city`` and ``tree#prov``.  Look-ups
are cached for a minute per process (Lambda reuses processes): a stream
batch touching 100 screens costs at most two BatchGets.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from chalicelib.models.rollups import scope_key
from chalicelib.models.screens import Screen
from chalicelib.models.units import Unit

CACHE_SECONDS = 60.0


@dataclass(frozen=True)
class Placement:
    screen_id: str
    unit_id: str
    path: str
    appid: str

    @property
    def scopes(self) -> list[str]:
        return scopes_of_unit(self.unit_id, self.path)


def scopes_of_unit(unit_id: str, path: str) -> list[str]:
    ancestors = [part for part in path.split("/") if part]
    return [scope_key("unit", unit_id), *(scope_key("tree", a) for a in ancestors)]


_screens: dict[str, tuple[float, Placement | None]] = {}
_units: dict[str, tuple[float, Unit | None]] = {}


def clear() -> None:
    _screens.clear()
    _units.clear()


def units(unit_ids: set[str]) -> dict[str, Unit]:
    now = time.monotonic()
    missing = [u for u in unit_ids if u not in _units or _units[u][0] < now]
    if missing:
        found = {u.unit_id: u for u in Unit.batch_get(missing)}
        for uid in missing:
            _units[uid] = (now + CACHE_SECONDS, found.get(uid))
    return {u: unit for u in unit_ids if (unit := _units.get(u, (0, None))[1]) is not None}


def placements(screen_ids: set[str]) -> dict[str, Placement]:
    """Screen id -> where it is now; unknown (deleted) screens are left out."""
    now = time.monotonic()
    missing = [s for s in screen_ids if s not in _screens or _screens[s][0] < now]
    if missing:
        found = {s.screen_id: s for s in Screen.batch_get(missing, attributes_to_get=["screen_id", "unit_id", "appid"])}
        by_unit = units({s.unit_id for s in found.values()})
        for sid in missing:
            screen = found.get(sid)
            unit = by_unit.get(screen.unit_id) if screen else None
            placement = Placement(sid, unit.unit_id, unit.path, screen.appid) if unit and screen else None
            _screens[sid] = (now + CACHE_SECONDS, placement)
    return {s: placed for s in screen_ids if (placed := _screens.get(s, (0, None))[1]) is not None}
