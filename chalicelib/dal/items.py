"""What every repository shares: a get that answers ``None``, and the revision lock.

Two idioms were written out in each service: ``try: Model.get(...) except
Model.DoesNotExist`` and the optimistic lock on an item's ``revision`` (bump
it and stamp ``updated_at``, on condition that it is still the revision that
was read).  They live here once; repositories and services build on them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model

M = TypeVar("M", bound=Model)


def find(model_cls: type[M], hash_key: Any, range_key: Any = None, *, consistent: bool = False) -> M | None:
    """The item with this key, or ``None`` when there is none."""
    try:
        return model_cls.get(hash_key, range_key, consistent_read=consistent)
    except model_cls.DoesNotExist:
        return None


def unchanged(item: Model) -> Condition:
    """The condition that ``item`` still has the revision it was read at (a concurrent edit fails it)."""
    return type(item).revision == item.revision  # type: ignore[attr-defined]


def next_revision(item: Model, at: datetime) -> list[Action]:
    """The actions every revised write adds: the revision bumped, ``updated_at`` stamped."""
    model_cls: Any = type(item)
    return [model_cls.revision.add(1), model_cls.updated_at.set(at)]


def condition_failed(exc: Exception) -> bool:
    """Whether a pynamodb write error means its condition did not hold (and not throttling or a fault)."""
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"
