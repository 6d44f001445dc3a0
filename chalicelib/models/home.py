"""The home page's feed: per subtree, what the console's home page lists, kept as the facts change.

One partition per subtree scope (``tree#<unit_id>``, the same scope names as
the analytics roll-ups), so the home page reads a unit's whole subtree with
one Query however many screens, units and content items it holds:

* ``presence`` — counters of the subtree's screens by presence state
  (``online``, ``offline``: up to an hour, ``long_offline``: over an hour),
  added from the screens table's stream as a screen's ``presence`` changes;
* ``lo#<screen_id>`` — a screen offline for more than an hour (its name, last seen);
* ``review#<content_id>`` — content waiting for review (title, when submitted);
* ``nochan#<appid>`` — an official account that cannot push (a service
  account with neither template id), written with the account.

Recent publishes live in their own partition per scope (``pub#tree#<id>``,
sort key ``<published_at ISO>#<content_id>``), read newest first with a
limit, and expire after ``PUBLISH_ENTRY_DAYS``.  Entries are written in the
same transaction as the record they mirror (content and accounts) or from the
stream (screens), so they agree with the records; ``home_feed_rebuild.rebuild``
rewrites them from the records (first deploy, repairs).
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.models.base import region, table_name


class HomeEntry(Model):
    class Meta:
        table_name = table_name("home_feed")
        region = region()

    scope = UnicodeAttribute(hash_key=True)  # tree#<unit_id> or pub#tree#<unit_id>
    key = UnicodeAttribute(range_key=True)
    ident = UnicodeAttribute(null=True)  # the screen / content / account id
    unit_id = UnicodeAttribute(null=True)  # the owning unit
    name = UnicodeAttribute(null=True)  # screen or account name, content title
    status = UnicodeAttribute(null=True)  # content status (publish entries)
    at = UTCDateTimeAttribute(null=True)  # last seen / submitted / published
    until = UTCDateTimeAttribute(null=True)  # a publish entry's valid_until (expired is computed)
    job_id = UnicodeAttribute(null=True)  # a publish entry's push job
    online = NumberAttribute(null=True)  # presence counters
    offline = NumberAttribute(null=True)
    long_offline = NumberAttribute(null=True)
    expires_at = TTLAttribute(null=True)
