"""The batch record as a ledger: durable progress per wave, and counts flushed to the hot counters once.

Two kinds of write, and why they are apart:

* **Progress** (``PushBatch`` only, plus the wave's own fans): ``done``,
  ``pending``, and ``counts`` -- everything the batch owes the job, quota and
  daily-stat counters, kept *in the batch record*, in the same conditional
  write as the ``done`` set it counts.  It touches nothing another batch
  touches, so concurrent senders cannot make it conflict.  Written after every
  wave of sends (``pacing.SendWindow``), so a crash leaves at most one wave
  unrecorded.
* **Flush**: one transaction that moves ``counts - flushed`` into the hot
  items (``PushJob`` totals, ``PushQuota``, ``DailyStat`` of content, account
  and screens, the receipts' ``PushMsgRoute``) and sets ``flushed = counts``,
  conditional on the record's ``version``: exactly once, however often it is
  retried.  It may conflict with other senders' flushes (the items are hot);
  it is then retried with back-off, and if it still cannot go through, the
  progress is written alone and any later processing of the batch flushes
  (counts wait, they are never lost or doubled).

Version conflicts (two deliveries of one batch at once) re-read the record
and count only the recipients the other writer had not recorded.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError

from chalicelib.dal.items import find
from chalicelib.logs import logger
from chalicelib.models.fans import Fan
from chalicelib.models.push import PushBatch
from chalicelib.models.unit_of_work import MAX_TRANSACTION_ITEMS, TransactionConflict, UnitOfWork
from chalicelib.services.push import metrics
from chalicelib.services.push.entries import Entry
from chalicelib.services.push.flush import RECORD_TTL, BatchIds, flush_into

WRITE_ATTEMPTS = 8
FLUSH_ATTEMPTS = 3  # conflicts on the hot items: after these, progress is written alone
BACKOFF_START = 0.05
BACKOFF_MAX = 2.0
RETRYABLE = {
    "TransactionConflict",
    "ThrottlingError",
    "ThrottlingException",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceeded",
    "ProvisionedThroughputExceededException",
    "InternalServerError",
}


class LedgerWriteFailed(RuntimeError):
    """The batch record could not be written after every retry (the message goes back to SQS)."""


def _plain_map(value: Any) -> dict[str, int]:
    if value is None:
        return {}
    raw = value.as_dict() if hasattr(value, "as_dict") else dict(value)
    return {str(k): int(v) for k, v in raw.items()}


def _codes(exc: Exception) -> set[str]:
    reasons = (exc.cancellation_reasons or []) if isinstance(exc, TransactWriteError) else []
    return {r.code for r in reasons if r is not None and r.code not in (None, "None")}


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, TransactWriteError):
        codes = _codes(exc)
        if codes and codes <= RETRYABLE | {"ConditionalCheckFailed"} and codes & RETRYABLE:
            return True
        return getattr(exc, "cause_response_code", None) in RETRYABLE
    return getattr(exc, "cause_response_code", None) in RETRYABLE


class BatchLedger:
    """One batch's record, in memory and in DynamoDB; see the module docstring."""

    def __init__(
        self,
        job_id: str,
        batch_id: str,
        appid: str,
        content_id: str,
        record: PushBatch | None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.job_id, self.batch_id, self.appid, self.content_id = job_id, batch_id, appid, content_id
        self._ids = BatchIds(job_id, appid, content_id)
        self._sleep = sleep
        self._load(record)

    def _load(self, record: PushBatch | None) -> None:
        self.exists = record is not None
        self.version = int(record.version or 0) if record else 0
        self.done: set[str] = set(record.done or ()) if record else set()
        self.retry_attempt = int(record.retry_attempt or 0) if record else 0
        attempts = _plain_map(record.pending_attempts if record else None)
        listed = (record.pending or ()) if record else ()
        # records written before pending_attempts: every pending recipient belongs to retry_attempt
        self.pending_attempts: dict[str, int] = {o: attempts.get(o, self.retry_attempt) for o in listed}
        self.counts: Counter[str] = Counter(_plain_map(record.counts if record else None))
        self.flushed: Counter[str] = Counter(_plain_map(record.flushed if record else None))
        self.routes: set[str] = set(record.routes or ()) if record else set()

    def reload(self) -> None:
        self._load(find(PushBatch, self.job_id, self.batch_id, consistent=True))

    def owned_by(self, openid: str, attempt: int) -> bool:
        """Whether a message of ``attempt`` should send to ``openid``: not done, and not handed to a newer one.

        Per recipient: overlapping deliveries of one batch hand different
        recipients to retry messages of different attempts, and each stays with
        the message that carries him (a batch-wide "newest attempt owns every
        pending recipient" orphaned recipients whose carrier was older).
        """
        return openid not in self.done and self.pending_attempts.get(openid, -1) <= attempt

    def next_attempt(self, attempt: int) -> int:
        """The attempt of a retry message handed on by a message of ``attempt``: newer than any handed out yet."""
        return max(attempt, self.retry_attempt) + 1

    @property
    def unflushed(self) -> bool:
        return bool(self.routes) or any(self.counts[k] > self.flushed[k] for k in self.counts)

    # ------------------------------------------------------------ writing

    def write(
        self, entries: Iterable[Entry], now: datetime, *, flush: bool, retry: tuple[set[str], int] | None = None
    ) -> None:
        """Record ``entries`` (recipients finished) and, with ``flush``, move the counts to the hot items.

        ``retry`` = (openids handed to a retry message, its attempt): they
        become ``pending`` for that attempt.  Raises ``LedgerWriteFailed``.
        """
        entries = list(entries)
        delay = BACKOFF_START
        for attempt in range(WRITE_ATTEMPTS):
            flushing = flush and attempt < FLUSH_ATTEMPTS
            try:
                self._write_once(entries, now, flushing, retry)
                if flush and not flushing:
                    metrics.count("PushFlushDeferred")
                return
            except TransactionConflict as conflict:
                if not conflict.failed_on("batch"):
                    raise
                logger.info("push batch recorded concurrently; merging", job_id=self.job_id, batch=self.batch_id)
                self.reload()
            except Exception as exc:  # conflicts on hot items, throttling: back off and try again
                if not _retryable(exc):
                    raise
                metrics.count("PushCommitRetried")
                if _codes(exc) & {"ConditionalCheckFailed"}:
                    self.reload()  # the record moved on as well
                self._sleep(delay * (0.5 + random.random()))  # noqa: S311 - jitter
                delay = min(BACKOFF_MAX, delay * 2)
        raise LedgerWriteFailed(f"could not record batch {self.job_id}/{self.batch_id}")

    def _write_once(self, entries: list[Entry], now: datetime, flush: bool, retry: tuple[set[str], int] | None) -> None:
        fresh = {}
        for entry in entries:
            if entry.openid not in self.done and entry.openid not in fresh:
                fresh[entry.openid] = entry
        counts = Counter(self.counts)
        routes = set(self.routes)
        for entry in fresh.values():
            counts.update(entry.counts)
            routes |= entry.routes
        done = self.done | set(fresh)
        pending = merge_pending(self.pending_attempts, done, retry)
        retry_attempt = max(self.retry_attempt, retry[1]) if retry is not None else self.retry_attempt

        core = UnitOfWork()
        fans = [(Fan(self.appid, e.openid), e.fan_actions) for e in fresh.values() if e.fan_actions]
        flushed, routes_left = Counter(self.flushed), set(routes)
        if flush:
            flushed, routes_left = flush_into(
                core, self._ids, counts, self.flushed, routes, now, room=MAX_TRANSACTION_ITEMS - 1
            )
        if len(core) + 1 + len(fans) > MAX_TRANSACTION_ITEMS:
            # Fan marks (set ADD, absolute SET) are safe to write twice: sent first, apart.
            for start in range(0, len(fans), MAX_TRANSACTION_ITEMS):
                chunk = UnitOfWork()
                for model, actions in fans[start : start + MAX_TRANSACTION_ITEMS]:
                    chunk.update(model, actions)
                chunk.commit()
            fans = []
        for model, actions in fans:
            core.update(model, actions)

        actions = [
            PushBatch.appid.set(self.appid),
            PushBatch.version.add(1),
            PushBatch.expires_at.set(now + RECORD_TTL),
            PushBatch.retry_attempt.set(retry_attempt),
        ]
        actions.append(PushBatch.done.set(done) if done else PushBatch.done.remove())
        actions.append(PushBatch.pending.set(set(pending)) if pending else PushBatch.pending.remove())
        actions.append(PushBatch.pending_attempts.set(pending) if pending else PushBatch.pending_attempts.remove())
        actions.append(PushBatch.counts.set(dict(counts)) if counts else PushBatch.counts.remove())
        actions.append(PushBatch.flushed.set(dict(flushed)) if flushed else PushBatch.flushed.remove())
        actions.append(PushBatch.routes.set(routes_left) if routes_left else PushBatch.routes.remove())
        condition = PushBatch.version.does_not_exist() if not self.exists else (PushBatch.version == self.version)
        core.update(PushBatch(self.job_id, self.batch_id), actions, condition=condition, tag="batch")
        core.commit()
        self.exists, self.version = True, self.version + 1
        self.done, self.pending_attempts, self.retry_attempt = done, pending, retry_attempt
        self.counts, self.flushed, self.routes = counts, flushed, routes_left


def merge_pending(pending: dict[str, int], done: set[str], retry: tuple[set[str], int] | None) -> dict[str, int]:
    """The pending recipients after a write: minus the done, plus those handed to the retry message ``retry``.

    A recipient handed on twice (two overlapping processings both failed him)
    keeps the higher attempt: that message carries him and no older one owns him.
    """
    merged = {openid: attempt for openid, attempt in pending.items() if openid not in done}
    if retry is not None:
        handed, attempt = retry
        for openid in handed - done:
            merged[openid] = max(merged.get(openid, attempt), attempt)
    return merged
