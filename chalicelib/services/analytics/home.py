"""The console's home page for one unit's subtree, from counters and the home feed: a fixed number of requests.

``summary`` reads, whatever the subtree holds (1,000 screens, 10,000 items):

1. the subtree's home feed partition (presence counters, long-offline screens,
   content waiting for review, accounts with no push channel): one Query;
2. its recent publishes: one Query, newest first, limited;
3. their push jobs: one BatchGet;
4. the analytics roll-up of the subtree from the month's first day through
   the running levels: one Query (fans, today's change, growth by source,
   push failures, the screen count).

With the caller's authentication (4) that is 8 requests, 9 when the unit is
not one the caller was granted (its record is read for the scope check).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

from pynamodb.exceptions import AttributeDeserializationError

from chalicelib.models.content import EXPIRED, PUBLISHED
from chalicelib.models.home import HomeEntry
from chalicelib.models.push import PLANNED, PushJob
from chalicelib.models.rollups import LIVE, scope_key
from chalicelib.models.stats import china_day
from chalicelib.services.access.grants import READ, Principal
from chalicelib.services.analytics import home_feed, metrics, store
from chalicelib.services.analytics.presence import PRESENCE_KEY, PRESENCE_STATES
from chalicelib.services.shared.errors import NotFound
from chalicelib.services.shared.pagination import readable

RECENT_PUBLISHES = 5
LISTED = 20  # entries listed per kind (counts are complete)


def _unit_path(principal: Principal, unit_id: str) -> str:
    """The unit's path, checked against the caller's scope; a granted unit's path is known already."""
    grant = next((g for g in principal.grants if g.unit_id == unit_id), None)
    if grant is not None:
        if not principal.roles_at(grant.path):
            raise NotFound("unit")
        return grant.path
    return principal.unit(unit_id, READ).path


def _job_status(job: PushJob | None) -> dict[str, Any]:
    if job is None:
        return {
            "state": "queued",
            "planned": 0,
            "sent": 0,
            "unread": 0,
            "delivered": 0,
            "failed": 0,
            "stopped": 0,
            "skipped": 0,
        }
    sent = int(job.sent_template or 0) + int(job.sent_notice or 0) + int(job.sent_custom or 0)
    done = sent + int(job.queued_unread or 0) + int(job.stopped or 0) + int(job.suppressed or 0) + int(job.failed or 0)
    planned = int(job.planned or 0)
    state = "planning" if job.status != PLANNED else ("done" if done >= planned else "sending")
    return {
        "state": state,
        "planned": planned,
        "sent": sent,
        "unread": int(job.queued_unread or 0),
        "delivered": int(job.receipts_success or 0),
        "failed": int(job.failed or 0),
        "stopped": int(job.stopped or 0),
        "skipped": int(job.suppressed or 0),
    }


def _recent(scope: str, now: datetime) -> list[dict[str, Any]]:
    entries, seen = [], set()
    for entry in readable(
        HomeEntry.query(home_feed.publish_scope(scope), scan_index_forward=False, limit=2 * RECENT_PUBLISHES)
    ):
        if entry.ident in seen:
            continue  # published again: the newest publish stands for it
        seen.add(entry.ident)
        entries.append(entry)
        if len(entries) == RECENT_PUBLISHES:
            break
    job_ids = [e.job_id for e in entries if e.job_id]
    jobs = {j.job_id: j for j in PushJob.batch_get(job_ids)} if job_ids else {}
    out = []
    for e in entries:
        status = e.status or PUBLISHED
        if status == PUBLISHED and e.until is not None and e.until <= now:
            status = EXPIRED
        out.append(
            {
                "content_id": e.ident,
                "unit_id": e.unit_id,
                "title": e.name or "",
                "status": status,
                "published_at": e.at,
                "push": _job_status(jobs.get(e.job_id)) if e.job_id else None,
            }
        )
    return out


def summary(principal: Principal, unit_id: str, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    path = _unit_path(principal, unit_id)
    scope = home_feed.tree_scopes(path)[-1]
    presence: Counter = Counter()
    offline: list[HomeEntry] = []
    pending: list[HomeEntry] = []
    silent: list[HomeEntry] = []
    counts: Counter[str] = Counter()
    try:
        feed = list(readable(HomeEntry.query(scope)))
    except AttributeDeserializationError:
        feed = []
    for entry in feed:
        kind = entry.key.partition("#")[0]
        if entry.key == PRESENCE_KEY:
            presence.update({s: max(0, int(getattr(entry, s) or 0)) for s in PRESENCE_STATES})
        elif kind in ("lo", "review", "nochan"):
            counts[kind] += 1
            {"lo": offline, "review": pending, "nochan": silent}[kind].append(entry)
    offline.sort(key=lambda e: e.at or datetime.min.replace(tzinfo=UTC))
    pending.sort(key=lambda e: e.at or datetime.min.replace(tzinfo=UTC), reverse=True)
    silent.sort(key=lambda e: e.name or "")

    today = china_day(now)
    days = store.scope_items(scope_key("tree", unit_id), date.fromisoformat(today).replace(day=1).isoformat(), LIVE)
    live = days.pop(LIVE, {})
    days.pop("~attrs", None)
    month: Counter[str] = Counter()
    for counters in days.values():
        month.update({k: v for k, v in counters.items() if isinstance(v, (int, float))})
    flows = metrics.flows(month)
    today_counters = days.get(today, {})
    total = int(live.get("screens", 0) or 0)
    online, off, long_off = presence["online"], presence["offline"], presence["long_offline"]
    recent = _recent(scope, now)
    return {
        "unit_id": unit_id,
        "as_of": now,
        "screens": {
            "total": total,
            "online": online,
            "offline": off + long_off,
            "offline_over_1h": long_off,
            "never_seen": max(0, total - online - off - long_off),
        },
        "fans": {
            "total": int(live.get("distinct", 0) or 0),
            "subscriptions": int(live.get("fans", 0) or 0),
            "today": int(today_counters.get("distinct_new", 0) or 0) - int(today_counters.get("distinct_lost", 0) or 0),
            "today_subscriptions": metrics.net_of(today_counters),
        },
        "growth": {name: flows[name] for name in metrics.NEW_SOURCES},
        "month_new": flows["new"],
        "month_lost": flows["lost"],
        "pending_review": {
            "count": counts["review"],
            "items": [
                {"content_id": e.ident, "unit_id": e.unit_id, "title": e.name or "", "submitted_at": e.at}
                for e in pending[:LISTED]
            ],
        },
        "recent_publishes": recent,
        "alerts": {
            "offline_screens": {
                "count": counts["lo"],
                "items": [
                    {"screen_id": e.ident, "unit_id": e.unit_id, "name": e.name or e.ident, "last_seen": e.at}
                    for e in offline[:LISTED]
                ],
            },
            "push_failures": {
                "month": flows["pushes_failed"],
                "items": [
                    {"content_id": r["content_id"], "title": r["title"], "failed": r["push"]["failed"]}
                    for r in recent
                    if r["push"] and r["push"]["failed"]
                ],
            },
            "no_push_channel": {
                "count": counts["nochan"],
                "items": [
                    {"appid": e.ident, "unit_id": e.unit_id, "name": e.name or e.ident, "account_type": e.status}
                    for e in silent[:LISTED]
                ],
            },
        },
    }
