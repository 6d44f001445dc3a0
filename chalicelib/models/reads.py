"""One record per (day, source, content, reader): makes a read count once.

The phone content page adds a ``ReadMark`` with a does-not-exist condition in
the same transaction as the day's ``reads_*`` counters, so opening an article
ten times in a day counts once per source, whatever the retries.  Records
expire by TTL two days later: the key already carries the China-time day, the
TTL only keeps the table small.
"""

from __future__ import annotations

from pynamodb.attributes import TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.models.base import region, table_name


class ReadMark(Model):
    class Meta:
        table_name = table_name("read_marks")
        region = region()

    key = UnicodeAttribute(hash_key=True)  # <day>#<source>#<content_id>#<appid>#<reader>
    expires_at = TTLAttribute()
