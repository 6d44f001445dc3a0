"""The roll-up consumer: DynamoDB stream records in, one update per roll-up item per batch out.

Three streams feed it (``NEW_AND_OLD_IMAGES``):

* ``daily_stats`` — every counter any event adds to a screen's day (the
  gateway, the phone pages, the push pipeline and the players write those in
  the same transaction as the facts they count).  The new − old image is the
  delta; it is added to the screen's unit scope and each ancestor's subtree
  scope for that day, and the net fan change to each scope's ``~live`` level.
  Content reads also count by hour of day (China time) for the content item.
* ``subscriptions`` — a subscription becoming active or inactive changes the
  person's membership in each scope (``FanScope``); his first active
  subscription in a scope is a distinct fan gained, his last one a distinct
  fan lost.
* ``screens`` — a screen created, deleted or moved to another unit moves one
  screen and its fans between scopes.

A content item's first play on a screen (its ``content#<id>@<screen>`` day
going from no plays to some) makes that screen a member of the item's scope,
with the same membership machinery: the item's distinct screens played on.

A batch's deltas are summed per item first, so a burst of events on one
subtree costs one update per (scope, day), not one per event.  Nothing here is
on the WeChat callback's path: the callback keeps its two requests.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from chalicelib.models.rollups import LIVE
from chalicelib.models.screens import Screen
from chalicelib.models.stats import CHINA_TZ, COUNTERS, DailyStat, china_day
from chalicelib.models.subscriptions import ACTIVE, Subscription
from chalicelib.services.analytics import home_feed, scopes, store
from chalicelib.services.analytics.metrics import net_of

logger = logging.getLogger(__name__)
READ_COUNTERS = ("reads_push", "reads_mirror", "reads_menu", "reads_link")
MAX_MEMBERSHIP_ATTEMPTS = 4
_deserializer = TypeDeserializer()


@dataclass
class BatchResult:
    records: int = 0
    items_updated: int = 0
    requests: int = 0
    skipped: int = 0
    counters: dict[tuple[str, str], Counter] = field(default_factory=dict)


def _image(record: dict[str, Any], which: str) -> dict[str, Any]:
    raw = (record.get("dynamodb") or {}).get(which) or {}
    return {k: _deserializer.deserialize(v) for k, v in raw.items()}


def _table(record: dict[str, Any]) -> str:
    arn = record.get("eventSourceARN") or ""
    return arn.split(":table/", 1)[-1].split("/stream/", 1)[0]


def _moment(record: dict[str, Any], image: dict[str, Any]) -> datetime:
    raw = image.get("updated_at")
    if isinstance(raw, str):
        try:
            return datetime.strptime(raw, "%Y-%m-%dT%H:%M:%S.%f%z")
        except ValueError:
            pass
    approx = (record.get("dynamodb") or {}).get("ApproximateCreationDateTime")
    if isinstance(approx, (int, float)):
        return datetime.fromtimestamp(approx, UTC)
    if isinstance(approx, datetime):
        return approx if approx.tzinfo else approx.replace(tzinfo=UTC)
    return datetime.now(UTC)


def batch_id(records: list[dict[str, Any]]) -> str:
    ids = "|".join(str(r.get("eventID") or (r.get("dynamodb") or {}).get("SequenceNumber") or "") for r in records)
    return hashlib.sha256(ids.encode()).hexdigest()


def apply_batch(records: list[dict[str, Any]]) -> BatchResult:
    """Apply one stream batch (any mix of the three tables); see the module docstring."""
    result = BatchResult(records=len(records))
    tables: dict[str, list[dict[str, Any]]] = {
        DailyStat.Meta.table_name: [],
        Subscription.Meta.table_name: [],
        Screen.Meta.table_name: [],
    }
    for record in records:
        bucket = tables.get(_table(record))
        if bucket is None:
            result.skipped += 1
        else:
            bucket.append(record)
    stats, subs, screens = (
        tables[DailyStat.Meta.table_name],
        tables[Subscription.Meta.table_name],
        tables[Screen.Meta.table_name],
    )
    counters: dict[tuple[str, str], Counter] = defaultdict(Counter)
    wanted = set()
    for record in stats:
        subject = _image(record, "NewImage").get("subject") or _image(record, "OldImage").get("subject") or ""
        if subject.startswith("screen#"):
            wanted.add(subject[len("screen#") :])
    for record in subs:
        image = _image(record, "NewImage") or _image(record, "OldImage")
        if image.get("screen_id"):
            wanted.add(image["screen_id"])
    placed = scopes.placements(wanted) if wanted else {}
    first_plays: dict[tuple[str, str], list] = defaultdict(list)
    for record in stats:
        result.skipped += _add_stat(record, placed, counters, first_plays)
    _add_screen_moves(screens, counters)
    token = batch_id(records)
    items = store.rollup_adds(counters)
    result.requests += store.commit(items, f"{token}#counters")
    result.items_updated += len(items)
    result.requests += home_feed.apply_screen_records(screens, token)  # the home page's presence counters
    transitions = _transitions(subs, placed)
    for key, found in first_plays.items():  # screens played on: a membership that never ends
        transitions[key].extend(found)
    if transitions:
        done, requests = _apply_memberships(transitions, token)
        result.items_updated += done
        result.requests += requests
    result.counters = dict(counters)
    return result


def _add_stat(
    record: dict[str, Any],
    placed: dict[str, scopes.Placement],
    counters: dict[tuple[str, str], Counter],
    first_plays: dict[tuple[str, str], list] | None = None,
) -> int:
    new, old = _image(record, "NewImage"), _image(record, "OldImage")
    subject, day = (new or old).get("subject", ""), (new or old).get("day", "")
    delta = {name: int(new.get(name, 0) or 0) - int(old.get(name, 0) or 0) for name in COUNTERS}
    delta = {k: v for k, v in delta.items() if v}
    if not delta or not day:
        return 0
    kind, _, ident = subject.partition("#")
    if kind == "screen":
        placement = placed.get(ident)
        if placement is None:
            logger.warning("roll-up: counters of an unknown screen skipped", extra={"screen_id": ident})
            return 1
        net = net_of(delta)
        for scope in placement.scopes:
            counters[(scope, day)].update(delta)
            if net:
                counters[(scope, LIVE)]["fans"] += net
    elif kind == "content" and "@" in ident:  # content@screen: the item's first play on that screen
        played = int(old.get("plays", 0) or 0) == 0 and int(new.get("plays", 0) or 0) > 0
        if played and first_plays is not None:
            content_id, _, screen_id = ident.partition("@")
            since = _moment(record, {}).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")
            first_plays[(f"content#{content_id}", f"screen#{screen_id}")].append((day, since, "played", True))
    elif kind == "content":
        reads = sum(delta.get(name, 0) for name in READ_COUNTERS)
        if reads > 0:
            hour = _moment(record, {}).astimezone(CHINA_TZ).hour
            counters[(subject, day)][f"reads_h{hour:02d}"] += reads
    return 0


def _add_screen_moves(records: list[dict[str, Any]], counters: dict[tuple[str, str], Counter]) -> None:
    moves = []
    for record in records:
        new, old = _image(record, "NewImage"), _image(record, "OldImage")
        if new.get("unit_id") == old.get("unit_id"):
            continue
        day = china_day(_moment(record, new or old))
        if old.get("unit_id"):
            moves.append((old["unit_id"], day, -1, -int(old.get("fan_count", 0) or 0)))
        if new.get("unit_id"):
            moves.append((new["unit_id"], day, +1, int(new.get("fan_count", 0) or 0)))
    if not moves:
        return
    by_unit = scopes.units({m[0] for m in moves})
    for unit_id, day, screens, fans in moves:
        unit = by_unit.get(unit_id)
        if unit is None:
            continue
        for scope in scopes.scopes_of_unit(unit.unit_id, unit.path):
            counters[(scope, day)]["screens_added"] += screens
            counters[(scope, LIVE)]["screens"] += screens
            if fans:
                counters[(scope, day)]["fans_moved"] += fans
                counters[(scope, LIVE)]["fans"] += fans


Transition = tuple[str, str, str, bool]  # (day, iso moment, screen, now active)


def _transitions(
    records: list[dict[str, Any]], placed: dict[str, scopes.Placement]
) -> dict[tuple[str, str], list[Transition]]:
    out: dict[tuple[str, str], list[Transition]] = defaultdict(list)
    for record in records:
        new, old = _image(record, "NewImage"), _image(record, "OldImage")
        was, now = old.get("status") == ACTIVE, new.get("status") == ACTIVE
        if was == now:
            continue
        image = new or old
        placement = placed.get(image.get("screen_id", ""))
        if placement is None:
            continue
        moment = _moment(record, image)
        for scope in placement.scopes:
            since = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")  # pynamodb's UTCDateTime form
            out[(scope, image["fan"])].append((china_day(moment), since, image["screen_id"], now))
    return out


def _chunks(
    transitions: dict[tuple[str, str], list[Transition]], limit: int = store.MAX_ITEMS
) -> list[list[tuple[str, str]]]:
    """(scope, person) keys in chunks whose writes fit one transaction.

    A chunk writes one membership item per key plus one roll-up item per
    (scope, day) and (scope, level) its keys may touch.  Keys are sorted by
    scope, so a burst's keys share a few roll-up items and a chunk holds
    up to ~97 people (a fixed 30 per chunk made three times the transactions).
    """
    chunks: list[list[tuple[str, str]]] = []
    keys: list[tuple[str, str]] = []
    rollups: set[tuple[str, str]] = set()
    for key in sorted(transitions):
        mine = {(key[0], LIVE), *((key[0], t[0]) for t in transitions[key])}
        if keys and len(keys) + 1 + len(rollups | mine) > limit:
            chunks.append(keys)
            keys, rollups = [], set()
        keys.append(key)
        rollups |= mine
    if keys:
        chunks.append(keys)
    return chunks


def _apply_memberships(transitions: dict[tuple[str, str], list[Transition]], token: str) -> tuple[int, int]:
    """Distinct fans: read memberships, decide, write them with their counter changes in one transaction per chunk
    (``_chunks``: memberships and the roll-up items they change stay inside the 100-item limit)."""
    updated = requests = 0
    for index, keys in enumerate(_chunks(transitions)):
        for attempt in range(MAX_MEMBERSHIP_ATTEMPTS):
            current = store.memberships(keys)
            requests += 1 + len(keys) // store.MAX_READ
            writes: list[Any] = []
            distinct: defaultdict[tuple[str, str], Counter[str]] = defaultdict(Counter)
            for key in keys:
                scope, person = key
                old = current.get(key)
                screens = set(old.get("screens") or ()) if old else set()
                before_all, since = set(screens), None
                for day, moment, screen_id, active in transitions[key]:
                    was = bool(screens)
                    if active:
                        screens.add(screen_id)
                    else:
                        screens.discard(screen_id)
                    if not was and screens:
                        distinct[(scope, day)]["distinct_new"] += 1
                        distinct[(scope, LIVE)]["distinct"] += 1
                        since = moment
                    elif was and not screens:
                        distinct[(scope, day)]["distinct_lost"] += 1
                        distinct[(scope, LIVE)]["distinct"] -= 1
                if screens != before_all:
                    writes.append(store.membership_write(scope, person, old, screens, since))
            items = writes + store.rollup_adds(distinct)
            try:
                requests += store.commit(items, f"{token}#members#{index}#{attempt}")
                updated += len(items)
                break
            except store.MembershipConflict:
                logger.info("roll-up: membership changed meanwhile; deciding again")
        else:
            raise RuntimeError("memberships could not be committed after repeated conflicts")
    return updated, requests
