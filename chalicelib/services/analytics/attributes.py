"""Fan attributes as aggregates per screen, unit (own screens) and subtree; no person ever leaves this module.

Dormancy is a matter of time passing, not of events, so attributes are not
kept from the streams: the daily job computes them from the active
subscriptions and the fans' last interactions (one pass over each table, a
batch job) and stores one ``~attrs`` item per scope, which the API reads in
one request.

* tenure — the subscription (screen) or the person's earliest active
  subscription in the scope (unit, subtree) began within 7 days, 30 days, or earlier;
* activity — he interacted with the account (message, menu, scan, page) in the last 30 days, or is dormant;
* screens per fan — his active subscriptions in the scope (for a screen: all his screens);
* via other accounts — he subscribed through an official account other than the screen's own;
* source mix — active subscriptions by how they began.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.models.fans import Fan
from chalicelib.models.rollups import ATTRS
from chalicelib.models.stats import china_day
from chalicelib.models.subscriptions import ACTIVE, SOURCES, Subscription
from chalicelib.services.access.grants import READ, Principal
from chalicelib.services.analytics import scopes, store
from chalicelib.services.shared.errors import NotFound

ACTIVE_DAYS = 30


def _empty() -> dict[str, Any]:
    return {
        "fans": 0,
        "tenure": {"week": 0, "month": 0, "older": 0},
        "activity": {"active_30d": 0, "dormant": 0},
        "screens_per_fan": {"1": 0, "2": 0, "3+": 0},
        "via_other_accounts": 0,
        "source_mix": {source: 0 for source in SOURCES},
    }


def _tenure(since: datetime, now: datetime) -> str:
    age = now - since
    return "week" if age <= timedelta(days=7) else "month" if age <= timedelta(days=30) else "older"


def compute(now: datetime | None = None) -> dict[str, dict[str, Any]]:
    """scope key -> attributes, for every screen, unit and subtree with active subscriptions."""
    now = now or datetime.now(UTC)
    subs = list(Subscription.scan(Subscription.status == ACTIVE))
    placed = scopes.placements({s.screen_id for s in subs}) if subs else {}
    recent = now - timedelta(days=ACTIVE_DAYS)
    active_people = {
        f"{f.appid}#{f.openid}" for f in Fan.scan((Fan.last_interaction_at >= recent) | (Fan.last_message_at >= recent))
    }
    per_person_all = Counter(s.fan for s in subs)
    # scope -> person -> [subscriptions]
    members: dict[str, dict[str, list[Subscription]]] = defaultdict(lambda: defaultdict(list))
    for sub in subs:
        placement = placed.get(sub.screen_id)
        if placement is None:
            continue
        for scope in (f"screen#{sub.screen_id}", *placement.scopes):
            members[scope][sub.fan].append(sub)
    out = {}
    for scope, people in members.items():
        attrs = _empty()
        is_screen = scope.startswith("screen#")
        for person, own in people.items():
            attrs["fans"] += 1
            attrs["tenure"][_tenure(min(s.subscribed_at for s in own), now)] += 1
            attrs["activity"]["active_30d" if person in active_people else "dormant"] += 1
            n = per_person_all[person] if is_screen else len(own)
            attrs["screens_per_fan"]["1" if n == 1 else "2" if n == 2 else "3+"] += 1
            if any(s.appid != placed[s.screen_id].appid for s in own):
                attrs["via_other_accounts"] += 1
            for s in own:
                attrs["source_mix"][s.source if s.source in SOURCES else "qr"] += 1
        out[scope] = attrs
    return out


def refresh(now: datetime | None = None) -> int:
    """Compute and store every scope's attributes (the daily job); returns scopes written."""
    now = now or datetime.now(UTC)
    as_of = china_day(now)
    computed = compute(now)
    for scope, attrs in computed.items():
        store.put_item(scope, ATTRS, {"as_of": as_of, "attrs": json.dumps(attrs, separators=(",", ":"))})
    return len(computed)


def fan_attributes(principal: Principal, kind: str, ident: str) -> dict[str, Any]:
    """The stored attributes of a subject the caller may see (else 404)."""
    if kind == "screen":
        from chalicelib.services.screens.registry import get as get_screen

        subject_id = get_screen(principal, ident.upper()).screen_id
        scope = f"screen#{subject_id}"
    elif kind in ("unit", "subtree"):
        subject_id = principal.unit(ident, READ).unit_id
        scope = f"{'unit' if kind == 'unit' else 'tree'}#{subject_id}"
    else:
        raise NotFound()
    item = store.get_item(scope, ATTRS) or {}
    attrs = json.loads(item["attrs"]) if item.get("attrs") else _empty()
    return {"kind": kind, "id": subject_id, "as_of": item.get("as_of"), **attrs}
