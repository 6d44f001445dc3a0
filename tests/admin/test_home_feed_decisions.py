"""The home feed's decisions over loaded records, without the emulator (the stream and rebuild tests cover the I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from chalicelib.models.content import PENDING, PUBLISHED
from chalicelib.services.analytics.home_feed_rebuild import content_entries, screen_entries
from chalicelib.services.analytics.presence import LONG_OFFLINE, OFFLINE, ONLINE, presence_changes, presence_writes

PATHS = {"root": "root/", "city": "root/city/"}


def scopes_of(image: dict) -> list[str]:
    return {"city": ["tree#root", "tree#city"], "root": ["tree#root"]}.get(image.get("unit_id"), [])


def test_a_screen_going_long_offline_moves_its_count_and_gains_an_entry_in_every_ancestor():
    old = {"screen_id": "NJ1", "unit_id": "city", "presence": ONLINE}
    new = {"screen_id": "NJ1", "unit_id": "city", "presence": LONG_OFFLINE, "name": "大屏"}
    counters, entries = presence_changes([(old, new)], scopes_of)
    assert counters == {"tree#root": {ONLINE: -1, LONG_OFFLINE: 1}, "tree#city": {ONLINE: -1, LONG_OFFLINE: 1}}
    assert entries == {("tree#root", "NJ1"): new, ("tree#city", "NJ1"): new}
    writes = presence_writes(counters, entries, "home")
    assert [next(iter(w)) for w in writes] == ["Update", "Update", "Put", "Put"]


def test_a_long_offline_screen_moving_to_another_unit_leaves_the_old_scopes_only():
    old = {"screen_id": "NJ1", "unit_id": "city", "presence": LONG_OFFLINE}
    new = {"screen_id": "NJ1", "unit_id": "root", "presence": LONG_OFFLINE}
    counters, entries = presence_changes([(old, new)], scopes_of)
    assert counters == {"tree#root": {LONG_OFFLINE: 0}, "tree#city": {LONG_OFFLINE: -1}}
    assert entries == {("tree#root", "NJ1"): new, ("tree#city", "NJ1"): None}
    writes = presence_writes(counters, entries, "home")  # a counter netting to zero is no write
    assert [next(iter(w)) for w in writes] == ["Update", "Delete", "Put"]  # sorted by scope


def test_the_rebuild_counts_screens_per_scope_and_lists_only_recent_publishes():
    now = datetime(2026, 12, 1, tzinfo=UTC)
    screens = [
        SimpleNamespace(screen_id="A", unit_id="city", presence=OFFLINE, name="a", last_seen=None),
        SimpleNamespace(screen_id="B", unit_id="gone", presence=ONLINE, name="b", last_seen=None),
    ]
    wanted, presence = screen_entries(screens, PATHS)
    assert wanted == {} and presence == {"tree#root": {OFFLINE: 1}, "tree#city": {OFFLINE: 1}}

    def item(content_id: str, status: str, days_ago: int) -> SimpleNamespace:
        return SimpleNamespace(
            content_id=content_id,
            unit_id="city",
            status=status,
            title=content_id,
            published_at=now - timedelta(days=days_ago),
            updated_at=now,
            screen_ids=set(),
            valid_until=None,
            push=False,
            push_job_id=None,
        )

    entries = content_entries(
        [item("new", PUBLISHED, 3), item("old", PUBLISHED, 400), item("draft", PENDING, 0)], PATHS, now
    )
    keys = sorted(key for _scope, key in entries)
    assert [k for k in keys if k.startswith("review#")] == ["review#draft", "review#draft"]
    assert sum(k.endswith("#new") for k in keys) == 2 and not any(k.endswith("#old") for k in keys)
