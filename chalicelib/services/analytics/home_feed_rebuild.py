"""Rebuilding the home page's feed from the records (first deploy, repairs): an operator's tool.

``home_feed`` keeps the feed in step write by write; this module rewrites it
whole from scans of units, screens, content and accounts.  The entries each
record justifies are pure functions of the loaded records (tested without
the emulator); ``rebuild`` loads, asks them, and replaces the feed.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from chalicelib.models.accounts import Account
from chalicelib.models.content import PENDING, PUBLISHED, WITHDRAWN, Content
from chalicelib.models.home import HomeEntry
from chalicelib.models.screens import Screen
from chalicelib.services.analytics.home_feed import PUBLISH_ENTRY_DAYS, lacks_channel, publish_entry, tree_scopes
from chalicelib.services.analytics.presence import LONG_OFFLINE, PRESENCE_KEY, PRESENCE_STATES


def rebuild(now: datetime | None = None) -> dict[str, int]:
    """Rewrite every feed entry from the records (scans: an operator's tool, never on a request's path).

    Presence counters are set, not added; entries the records no longer
    justify are deleted.  ``python -m tools.rebuild_home_feed`` runs it.
    """
    from chalicelib.models.units import Unit

    now = now or datetime.now(UTC)
    paths = {u.unit_id: u.path for u in Unit.scan(attributes_to_get=["unit_id", "path"])}
    wanted, presence = screen_entries(Screen.scan(), paths)
    wanted.update(content_entries(Content.scan(), paths, now))
    wanted.update(account_entries(Account.scan(), paths))
    for path in paths.values():
        for scope in tree_scopes(path):
            presence.setdefault(scope, Counter())
    removed = _replace_feed(wanted, presence)
    return {"entries": len(wanted), "removed": removed, "scopes": len(presence)}


FeedEntries = dict[tuple[str, str], HomeEntry]


def screen_entries(screens: Iterable[Screen], paths: dict[str, str]) -> tuple[FeedEntries, dict[str, Counter]]:
    """The long-offline entries and the presence counts of every scope, as the screens justify them."""
    wanted: FeedEntries = {}
    presence: dict[str, Counter] = defaultdict(Counter)
    for screen in screens:
        state = screen.presence
        path = paths.get(screen.unit_id)
        if state not in PRESENCE_STATES or path is None:
            continue
        for scope in tree_scopes(path):
            presence[scope][state] += 1
            if state == LONG_OFFLINE:
                wanted[(scope, f"lo#{screen.screen_id}")] = HomeEntry(
                    scope,
                    f"lo#{screen.screen_id}",
                    ident=screen.screen_id,
                    unit_id=screen.unit_id,
                    name=screen.name,
                    at=screen.last_seen,
                )
    return wanted, presence


def content_entries(contents: Iterable[Content], paths: dict[str, str], now: datetime) -> FeedEntries:
    """The pending-review and recent-publish entries the content justifies."""
    wanted: FeedEntries = {}
    recent_since = now - timedelta(days=PUBLISH_ENTRY_DAYS)
    for item in contents:
        path = paths.get(item.unit_id)
        if path is None:
            continue
        recent = (
            item.status in (PUBLISHED, WITHDRAWN) and item.published_at is not None and item.published_at > recent_since
        )
        for scope in tree_scopes(path):
            if item.status == PENDING:
                wanted[(scope, f"review#{item.content_id}")] = HomeEntry(
                    scope,
                    f"review#{item.content_id}",
                    ident=item.content_id,
                    unit_id=item.unit_id,
                    name=item.title,
                    at=item.updated_at,
                )
            if recent:
                entry = publish_entry(scope, item, item.status)
                wanted[(entry.scope, entry.key)] = entry
    return wanted


def account_entries(accounts: Iterable[Account], paths: dict[str, str]) -> FeedEntries:
    """The "no push channel" alerts the accounts justify."""
    wanted: FeedEntries = {}
    for account in accounts:
        path = paths.get(account.unit_id)
        if path is None or not lacks_channel(account):
            continue
        for scope in tree_scopes(path):
            wanted[(scope, f"nochan#{account.appid}")] = HomeEntry(
                scope,
                f"nochan#{account.appid}",
                ident=account.appid,
                unit_id=account.unit_id,
                name=account.name,
                status=account.account_type,
            )
    return wanted


def _replace_feed(wanted: FeedEntries, presence: dict[str, Counter]) -> int:
    """Write the wanted entries and counts, delete the rest; returns how many were deleted."""
    removed = 0
    with HomeEntry.batch_write() as batch:
        for existing in HomeEntry.scan(attributes_to_get=["scope", "key"]):
            if existing.key != PRESENCE_KEY and (existing.scope, existing.key) not in wanted:
                batch.delete(existing)
                removed += 1
        for entry in wanted.values():
            batch.save(entry)
        for scope, counts in presence.items():
            batch.save(_presence_entry(scope, counts))
    return removed


def _presence_entry(scope: str, counts: Mapping[str, int]) -> HomeEntry:
    """A scope's presence counters as one item (pynamodb's keyword constructor is not typed per attribute)."""
    entry = HomeEntry(scope, PRESENCE_KEY)
    for state in PRESENCE_STATES:
        setattr(entry, state, counts[state])
    return entry
