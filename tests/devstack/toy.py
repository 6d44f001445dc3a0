"""Toy pynamodb models and Chalice apps for the devstack tests.

Built by factories so every test gets its own table and queue names: moto's
state lives as long as the session's server.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.resources import QueueSpec


class ByUnit(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_unit"
        projection = AllProjection()

    unit_id = UnicodeAttribute(hash_key=True)
    created = NumberAttribute(range_key=True)


def toy_models(suffix: str) -> list[Any]:
    """A model with a GSI and a TTL attribute, and a plain hash+range model."""

    class Screen(Model):
        class Meta:
            table_name = f"toy-screens-{suffix}"

        screen_id = UnicodeAttribute(hash_key=True)
        unit_id = UnicodeAttribute()
        created = NumberAttribute()
        expires_at = TTLAttribute(null=True)
        by_unit = ByUnit()

    class Stat(Model):
        class Meta:
            table_name = f"toy-stats-{suffix}"

        key = UnicodeAttribute(hash_key=True)
        day = UnicodeAttribute(range_key=True)

    return [Screen, Stat]


def toy_spec(
    key: str, suffix: str, *, max_receive_count: int = 3, batch_size: int = 5, consumer_timeout: int = 10
) -> QueueSpec:
    return QueueSpec(
        key, f"toy-{key}-{suffix}", consumer_timeout, max_receive_count=max_receive_count, batch_size=batch_size
    )
