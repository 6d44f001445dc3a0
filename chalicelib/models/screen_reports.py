"""Bookkeeping behind the screen API: proof-of-play de-duplication and rate windows.

Both are short-lived and expire by TTL.
- ``play#<screen>#<play id>``: this play was counted; written in the same
  transaction as the counters it adds, so a retried batch never counts twice.
- ``rate#<screen>#<minute>``: requests of one screen in one minute, raised with
  a conditional ``ADD`` so the limit holds across concurrent Lambdas.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.models.base import region, table_name


class ScreenReportRecord(Model):
    class Meta:
        table_name = table_name("screen_reports")
        region = region()

    key = UnicodeAttribute(hash_key=True)
    # stored as ``count``; named ``reports`` here because ``count`` would hide pynamodb's ``Model.count()``
    reports = NumberAttribute(null=True, attr_name="count")
    expires_at = TTLAttribute()
