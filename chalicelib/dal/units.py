"""The units aggregate: the organisation tree's nodes, read by id.

Services ask here instead of catching ``Unit.DoesNotExist``: a unit that is
gone (deleted meanwhile, or named by a stale reference) is ``None``.
"""

from __future__ import annotations

from chalicelib.dal import items
from chalicelib.models.units import Unit


def find(unit_id: str, *, consistent: bool = False) -> Unit | None:
    """The unit, or ``None`` when there is none."""
    return items.find(Unit, unit_id, consistent=consistent)
