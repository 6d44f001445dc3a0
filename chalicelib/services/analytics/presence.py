"""A screen's presence (online, offline, offline over an hour) and what its changes mean for the home feed.

The home page counts its subtree's screens by presence instead of looking at
every screen (``home_feed``), so the state is kept on the screen itself: a
heartbeat sets ``online``, and the ``screen_health`` schedule sets the rest
(``mark_presence``: going offline is the absence of an event, so a schedule
must notice it).  The screens stream then reports each change as an old and
a new image; ``changed_sides``, ``presence_changes`` and ``presence_writes``
turn those into per-scope counter deltas and ``lo#`` (long offline) entries,
as pure functions of the images.  ``home_feed.apply_screen_records`` finds
the scopes and writes the result.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from pynamodb.exceptions import UpdateError

from chalicelib.dal.items import condition_failed
from chalicelib.models.screens import Screen

ONLINE, OFFLINE, LONG_OFFLINE = "online", "offline", "long_offline"
PRESENCE_STATES = (ONLINE, OFFLINE, LONG_OFFLINE)
LONG_OFFLINE_AFTER = timedelta(hours=1)
PRESENCE_KEY = "presence"  # the feed item of a scope that holds its counters, one attribute per state
_deserializer = TypeDeserializer()


def presence_of(last_seen: datetime | None, interval: int, now: datetime) -> str | None:
    """online within two heartbeat intervals (as ``screen_reports.screen_status``), then offline, then long."""
    if last_seen is None:
        return None
    gap = now - last_seen
    if gap <= timedelta(seconds=2 * (interval or 30)):
        return ONLINE
    return OFFLINE if gap <= LONG_OFFLINE_AFTER else LONG_OFFLINE


def mark_presence(screens: Iterable[Screen], now: datetime | None = None) -> Counter:
    """Set each screen's ``presence`` to what its last heartbeat says now (the schedule's half of the job).

    Conditional on ``last_seen`` being what was read, so a heartbeat arriving
    meanwhile (which sets ``online`` itself) is never overwritten.
    """
    now = now or datetime.now(UTC)
    changed: Counter = Counter()
    for screen in screens:
        wanted = presence_of(screen.last_seen, int(screen.heartbeat_interval or 30), now)
        if wanted is None or wanted == screen.presence:
            continue
        try:
            screen.update(actions=[Screen.presence.set(wanted)], condition=Screen.last_seen == screen.last_seen)
            changed[wanted] += 1
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
    return changed


def _image(record: dict[str, Any], which: str) -> dict[str, Any]:
    raw = (record.get("dynamodb") or {}).get(which) or {}
    return {k: _deserializer.deserialize(v) for k, v in raw.items()}


ScreenImage = dict[str, Any]
LongOffline = dict[tuple[str, str], ScreenImage | None]  # (scope, screen) -> the entry's screen, None = delete


def changed_sides(records: list[dict[str, Any]]) -> list[tuple[ScreenImage, ScreenImage]]:
    """The (old, new) images whose unit or presence changed, or a long-offline screen's name."""
    sides = []
    for record in records:
        old, new = _image(record, "OldImage"), _image(record, "NewImage")
        before = (old.get("unit_id"), old.get("presence"))
        after = (new.get("unit_id"), new.get("presence"))
        if before == after and not (after[1] == LONG_OFFLINE and old.get("name") != new.get("name")):
            continue
        sides.append((old, new))
    return sides


def presence_changes(
    sides: list[tuple[ScreenImage, ScreenImage]], scopes_of: Callable[[ScreenImage], list[str]]
) -> tuple[dict[str, Counter], LongOffline]:
    """What the changes mean per scope: counter deltas, and long-offline entries to write or delete."""
    counters: dict[str, Counter] = defaultdict(Counter)
    entries: LongOffline = {}
    for old, new in sides:
        for image, delta in ((old, -1), (new, 1)):
            state = image.get("presence")
            if state not in PRESENCE_STATES:
                continue
            for scope in scopes_of(image):
                counters[scope][state] += delta
                if state == LONG_OFFLINE:
                    entries[(scope, image["screen_id"])] = image if delta > 0 else None
    return counters, entries


def presence_writes(counters: dict[str, Counter], entries: LongOffline, table: str) -> list[dict[str, Any]]:
    """The TransactWriteItems items for those changes (counter ADDs, entry puts and deletes), in a stable order."""
    items: list[dict[str, Any]] = []
    for scope, counts in sorted(counters.items()):
        nonzero = {k: v for k, v in sorted(counts.items()) if v}
        if nonzero:
            items.append(
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"scope": {"S": scope}, "key": {"S": PRESENCE_KEY}},
                        "UpdateExpression": "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(nonzero))),
                        "ExpressionAttributeNames": {f"#c{i}": k for i, k in enumerate(nonzero)},
                        "ExpressionAttributeValues": {f":c{i}": {"N": str(v)} for i, v in enumerate(nonzero.values())},
                    }
                }
            )
    for (scope, screen_id), image in sorted(entries.items()):
        key = {"scope": {"S": scope}, "key": {"S": f"lo#{screen_id}"}}
        if image is None:
            items.append({"Delete": {"TableName": table, "Key": key}})
            continue
        item = {
            **key,
            "ident": {"S": screen_id},
            "unit_id": {"S": image["unit_id"]},
            "name": {"S": str(image.get("name") or screen_id)},
        }
        if image.get("last_seen"):
            item["at"] = {"S": str(image["last_seen"])}
        items.append({"Put": {"TableName": table, "Item": item}})
    return items
