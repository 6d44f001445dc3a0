"""A resident's personal data (PIPL): everything stored about one ``appid`` + ``openid``, and its erasure.

``collect`` gathers it as plain JSON for the 我的数据 page's download and the
admin API.  ``erase`` removes every record keyed by (or listing) the openid,
the same day, in two steps:

1. **Fan and subscriptions** — read, then one transaction per round: every
   subscription row deleted through ``subscriptions.add_erase`` (an active one
   counts exactly as an unsubscribe: ``fan_count`` −1 and the day's ``unsubs``
   +1, so the daily net keeps summing to the fan count, and the analytics
   stream consumer sees a lost fan, and a lost distinct fan when it was his
   last in a scope, and then deletes his now empty membership items), and the
   fan item deleted with them.  At most 30 active subscriptions × 3 items + the
   fan fit in one transaction; inactive rows go in further rounds.  Conditions
   on what was read make a concurrent change fail the round, which reads and
   decides again.
2. **Everything else that names him** — read marks, delivery receipts, the
   ``done``/``pending`` lists of push batches, push-job cursors and the
   callback records (event keys and cached reply XML name him).  These tables
   all have a TTL; they are searched with filtered scans/queries, which is the
   price of not indexing personal data by openid.

Both steps are idempotent: a retry finds nothing left and changes nothing,
so a retried erasure never counts a lost fan twice.  Aggregates
(``daily_stats``, roll-ups) hold no openid and keep every count.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pynamodb.expressions.update import Action

from chalicelib.dal.items import find
from chalicelib.models.callbacks import CallbackRecord
from chalicelib.models.fans import Fan
from chalicelib.models.push import PushBatch, PushJob
from chalicelib.models.reads import ReadMark
from chalicelib.models.receipts import DeliveryReceipt
from chalicelib.models.rollups import FanScope
from chalicelib.models.subscriptions import Subscription, fan_key
from chalicelib.models.unit_of_work import TransactionConflict, UnitOfWork
from chalicelib.services.subscriptions import subscribing as subscriptions
from chalicelib.tracing import capture_method

logger = logging.getLogger(__name__)
MAX_ROUNDS = 8
ROUND_ITEMS = 90  # transaction items per round, inside DynamoDB's 100


@dataclass
class ErasureResult:
    lost_subscriptions: int = 0  # active subscriptions erased: counted as unsubscribes
    removed: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, n: int = 1) -> None:
        if n:
            self.removed[table] = self.removed.get(table, 0) + n

    def as_json(self) -> dict[str, Any]:
        return {"lost_subscriptions": self.lost_subscriptions, "removed": dict(sorted(self.removed.items()))}


def subject_ref(appid: str, openid: str) -> str:
    """How audit entries and logs name an erased resident: a digest, never the openid itself."""
    return hashlib.sha256(f"{appid}#{openid}".encode()).hexdigest()[:16]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _subscription_rows(appid: str, openid: str) -> list[Subscription]:
    return list(Subscription.query(fan_key(appid, openid), consistent_read=True))


def _fan(appid: str, openid: str) -> Fan | None:
    return find(Fan, appid, openid, consistent=True)


def _read_marks(appid: str, openid: str) -> list[ReadMark]:
    suffix = f"#{appid}#{openid}"
    return [m for m in ReadMark.scan(ReadMark.key.contains(suffix)) if m.key.endswith(suffix)]


def _receipts(appid: str, openid: str) -> list[DeliveryReceipt]:
    return list(DeliveryReceipt.query(appid, filter_condition=DeliveryReceipt.openid == openid))


def _batches(appid: str, openid: str) -> list[PushBatch]:
    found = PushBatch.scan(PushBatch.done.contains(openid) | PushBatch.pending.contains(openid))
    return [b for b in found if b.appid in (None, appid) and openid in (set(b.done or ()) | set(b.pending or ()))]


def _jobs(appid: str, openid: str) -> list[PushJob]:
    return list(PushJob.scan(PushJob.cursor == fan_key(appid, openid)))


def _callbacks(appid: str, openid: str) -> list[CallbackRecord]:
    found = CallbackRecord.scan(CallbackRecord.key.contains(openid) | CallbackRecord.reply.contains(openid))
    return [r for r in found if r.key.startswith(f"{appid}#") and (openid in r.key or openid in (r.reply or ""))]


def collect(appid: str, openid: str) -> dict[str, Any]:
    """Everything stored about him, as JSON-ready data (the export)."""
    fan = _fan(appid, openid)
    subs = _subscription_rows(appid, openid)
    return {
        "appid": appid,
        "openid": openid,
        "exported_at": datetime.now(UTC).isoformat(),
        "fan": None
        if fan is None
        else {
            "following": fan.following,
            "first_source": fan.first_source,
            "followed_at": _iso(fan.followed_at),
            "unfollowed_at": _iso(fan.unfollowed_at),
            "created_at": _iso(fan.created_at),
            "last_interaction_at": _iso(fan.last_interaction_at),
            "last_message_at": _iso(fan.last_message_at),
            "active_screens": sorted(fan.active_screens or ()),
            "suspended_screens": sorted(fan.suspended_screens or ()),
            "stopped_channels": sorted(fan.stopped_channels or ()),
            "unread_content": sorted(fan.unread_content or ()),
        },
        "subscriptions": [
            {
                "screen_id": s.screen_id,
                "status": s.status,
                "source": s.source,
                "subscribed_at": _iso(s.subscribed_at),
                "updated_at": _iso(s.updated_at),
            }
            for s in subs
        ],
        "reads": [
            dict(zip(("day", "source", "content_id"), m.key.split("#")[:3], strict=True))
            for m in _read_marks(appid, openid)
        ],
        "delivery_receipts": [
            {"msg_id": r.msg_id, "status": r.status, "received_at": _iso(r.received_at)}
            for r in _receipts(appid, openid)
        ],
        "push_deliveries": [{"push": b.job_id, "batch": b.batch_id} for b in _batches(appid, openid)],
    }


def summary(data: dict[str, Any]) -> dict[str, int]:
    """Counts per kind, for the page's "what is stored" list."""
    return {
        "subscriptions": len(data["subscriptions"]),
        "reads": len(data["reads"]),
        "delivery_receipts": len(data["delivery_receipts"]),
        "push_deliveries": len(data["push_deliveries"]),
        "unread": len((data["fan"] or {}).get("unread_content") or ()),
    }


def _erase_fan_and_subscriptions(appid: str, openid: str, now: datetime, result: ErasureResult) -> None:
    for _round in range(MAX_ROUNDS):
        fan, rows = _fan(appid, openid), _subscription_rows(appid, openid)
        if fan is None and not rows:
            return
        rows.sort(key=lambda s: (s.status != subscriptions.ACTIVE, s.screen_id))  # active ones first, with the fan
        uow, lost, used, taken = UnitOfWork(), 0, 1, 0
        for row in rows:
            cost = 3 if row.status == subscriptions.ACTIVE else 1
            if used + cost > ROUND_ITEMS:
                break
            lost += subscriptions.add_erase(uow, existing=row, now=now)
            used += cost
            taken += 1
        rest_active = any(r.status == subscriptions.ACTIVE for r in rows[taken:])
        if fan is not None and not rest_active:
            uow.delete(Fan(appid, openid), tag="fan")
        try:
            uow.commit()
        except TransactionConflict as conflict:
            logger.info("resident's subscriptions changed meanwhile; erasing again", extra={"codes": conflict.codes})
            continue
        result.lost_subscriptions += lost
        result.add("subscriptions", taken)
        if fan is not None and not rest_active:
            result.add("fans")
    raise RuntimeError("erasure could not be committed after repeated conflicts")


@capture_method
def erase(appid: str, openid: str, now: datetime | None = None) -> ErasureResult:
    """Remove every record keyed by or listing ``openid`` of ``appid``; safe to repeat (see the module docstring)."""
    now = now or datetime.now(UTC)
    result = ErasureResult()
    _erase_fan_and_subscriptions(appid, openid, now, result)
    for mark in _read_marks(appid, openid):
        mark.delete()
        result.add("read_marks")
    for receipt in _receipts(appid, openid):
        receipt.delete()
        result.add("receipts")
    for batch in _batches(appid, openid):
        actions: list[Action] = []
        if openid in (batch.done or ()):
            actions.append(PushBatch.done.delete({openid}))
        if openid in (batch.pending or ()):
            actions.append(PushBatch.pending.delete({openid}))
            actions.append(PushBatch.pending_attempts[openid].remove())
        actions.append(PushBatch.version.add(1))  # a sender's write in progress re-reads instead of restoring him
        batch.update(actions=actions)
        result.add("push_batches")
    for job in _jobs(appid, openid):
        # the planner resumes after the cursor: a prefix of his key sorts just before it and names nobody
        job.update(
            actions=[PushJob.cursor.set(fan_key(appid, openid)[:-1])],
            condition=PushJob.cursor == fan_key(appid, openid),
        )
        result.add("push_jobs")
    for member in FanScope.scan(FanScope.person == fan_key(appid, openid)):
        if not member.n:  # an empty membership kept by older code; live ones end through the stream consumer
            member.delete(condition=FanScope.n == 0)
            result.add("analytics_fan_scopes")
    for record in _callbacks(appid, openid):
        record.delete()
        result.add("callbacks")
    logger.info("resident's data erased", extra={"subject": subject_ref(appid, openid), **result.as_json()})
    return result
