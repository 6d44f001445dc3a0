"""Analytics roll-ups: per unit (own screens) and per subtree, per day, kept from the tables' streams.

``AnalyticsRollup`` holds one item per scope per China day (``unit#<id>``,
``tree#<id>``), with the same counter names as ``DailyStat`` plus the
scope-only ones (``fans_moved``, ``distinct_new``, ``distinct_lost``), and one
``~live`` item per scope with the running levels (``fans``, ``screens``,
``distinct``).  ``~`` sorts after every date, so one Query on a scope returns
a day range *and* the levels: a series costs one request whatever the
subtree's size.  Counters are added with ``ADD`` by the stream consumer only;
attribute names are dynamic, so the consumer and readers use the low-level
client (pynamodb describes the table's keys for provisioning and the template).

``FanScope`` counts, per scope and person (``appid#openid``: openids are per
account), his active subscriptions to the scope's screens.  The person's
first one increments the scope's distinct fans, his last decrements it: exact
distinct counts with one conditional-free ``ADD`` per person and scope.
Never leaves the service: only counts do.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.models.base import region, table_name

LIVE = "~live"  # range key of a scope's running levels; sorts after every YYYY-MM-DD
ATTRS = "~attrs"  # range key of a scope's fan attributes, written by the daily job


def scope_key(kind: str, ident: str) -> str:
    """``unit#<id>`` (the unit's own screens) or ``tree#<id>`` (its subtree)."""
    return f"{kind}#{ident}"


class AnalyticsRollup(Model):
    class Meta:
        table_name = table_name("analytics_rollups")
        region = region()

    scope = UnicodeAttribute(hash_key=True)
    day = UnicodeAttribute(range_key=True)


class FanScope(Model):
    class Meta:
        table_name = table_name("analytics_fan_scopes")
        region = region()

    scope = UnicodeAttribute(hash_key=True)
    person = UnicodeAttribute(range_key=True)  # appid#openid
    n = NumberAttribute(default=0)  # his active subscriptions within the scope
    since = UTCDateTimeAttribute(null=True)  # when n last went from 0 to 1
