"""The sender: one batch of recipients of one account → WeChat, each once, with durable progress.

Per batch message:

1. **One read** (BatchGetItem, consistent): the batch record, the account's
   quota day and every recipient's ``Fan`` (98 + 2 = 100 keys; more only if a
   re-plan grew the batch).  Recipients in ``done`` are skipped; recipients
   ``pending`` for a newer retry message of the batch than this one are left
   to it (per recipient: ``BatchLedger.owned_by``).  A paused account defers
   the whole batch.
2. **Waves.**  Recipients that need no WeChat call (unread list, suppressed)
   are recorded with the first write.  The others are sent in waves: a wave
   takes places in the invocation's ``SendWindow`` (20), is sent (each call
   ``SEND_TIMEOUT`` s, paced by the account's rate), and is **recorded** in the
   batch record (``ledger.BatchLedger``) before its places are given back.  So
   at any moment at most 20 sends of an invocation are unrecorded: a crash
   re-sends at most those 20, never a batch or an invocation.
3. A wave starts only while the invocation has time to send and record it
   (``pacing.Deadline``); a batch stopped by the deadline goes back unchanged
   (``invocation`` re-enqueues it as it is, or reports it in ``batchItemFailures``).
4. Transient failures or a pause → **one retry message** with the same batch
   id, a newer attempt, only those recipients, and an SQS delay (back-off; a minute after 45011, China
   midnight after 45009), enqueued *before* the last write, so a crash cannot
   lose it.  After ``MAX_TRIES`` transient rounds the message is reported
   failed: SQS redelivers it and, after ``maxReceiveCount`` receives, moves it
   to the DLQ.
5. The last write also **flushes** the batch's counts into the job, quota,
   daily-stat and receipt-route items (exactly once; conflicts there are
   retried and never hold back the sends; see ``ledger``).

Late answers: a call that times out after reaching WeChat is retried; if
WeChat had in fact sent it, the fan gets it twice.  Counted as the
``PushSendAmbiguous`` metric (docs/push.md explains the trade-off).
"""

from __future__ import annotations

import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib import observability
from chalicelib.aws import send_json
from chalicelib.dal import accounts as account_repo
from chalicelib.logs import logger
from chalicelib.models.fans import Fan
from chalicelib.models.push import PushBatch, PushQuota
from chalicelib.services.push import channels, lookups, policy
from chalicelib.services.push.channels import RetryLater
from chalicelib.services.push.ledger import BatchLedger
from chalicelib.services.push.lookups import AccountMissing, read_batch
from chalicelib.services.push.messages import Recipient, SendMessage
from chalicelib.services.push.pacing import DEFAULT_SENDS_IN_FLIGHT, Deadline, SendWindow, sends_in_flight
from chalicelib.services.push.waves import MINUTE_PAUSE, Batch, Tally, Waves, pause_until
from chalicelib.settings import get_settings

CONCURRENCY = DEFAULT_SENDS_IN_FLIGHT  # PUSH_SENDS_IN_FLIGHT: calls in flight per invocation = the duplicate bound
MAX_TRIES = 6
BACKOFF_BASE = 5
MAX_DELAY = 900  # SQS's longest DelaySeconds

__all__ = [
    "MINUTE_PAUSE",
    "AccountMissing",
    "DeadlineReached",
    "RetryLater",
    "Tally",
    "pause_until",
    "process",
    "read_batch",
    "reset_caches",
]


class DeadlineReached(Exception):
    """The invocation has no time left to start (and record) another wave: the message goes back."""


def reset_caches() -> None:
    """Forget cached accounts, clients, the link key and rate buckets (tests; after a secret changes)."""
    account_repo.clear()
    channels.reset()


def _backoff(tries: int) -> int:
    return int(min(MAX_DELAY, BACKOFF_BASE * 2**tries + random.uniform(0, BACKOFF_BASE)))  # noqa: S311


def _record_pause(appid: str, day: str, until: float, code: int, now: datetime) -> None:
    """The account's pause, at once and apart from any batch (other batches must see it)."""
    try:
        PushQuota(appid, day).update(
            actions=[
                PushQuota.paused_until.set(int(until)),
                PushQuota.pause_code.set(code),
                PushQuota.expires_at.set(now + timedelta(days=3)),
            ]
        )
    except Exception:  # the retry message carries the delay anyway
        logger.warning("could not record the account's pause", appid=appid)


# ------------------------------------------------------------------ the batch


def process(
    body: dict[str, Any],
    *,
    now: datetime | None = None,
    slots: SendWindow | None = None,
    deadline: Deadline | None = None,
    pool: ThreadPoolExecutor | None = None,
) -> dict[str, int]:
    """Handle one send-queue message; returns counts by result.  Raises ``RetryLater``/``DeadlineReached``."""
    message = SendMessage.model_validate(body)
    now = now or datetime.now(UTC)
    window = slots if isinstance(slots, SendWindow) else SendWindow(sends_in_flight())
    try:
        account = lookups.account(message.appid, message.account_revision)
    except AccountMissing:
        logger.warning("push batch for an unknown account dropped", appid=message.appid, job_id=message.job_id)
        return {"dropped": len(message.recipients)}
    day = policy.quota_day(now)
    reads = [(PushBatch, message.job_id, message.batch_id), (PushQuota, message.appid, day)]
    reads += [(Fan, message.appid, r.openid) for r in message.recipients]
    loaded = read_batch(reads)
    record, quota = loaded[0], loaded[1]
    fans = dict(zip([r.openid for r in message.recipients], loaded[2:], strict=True))
    ledger = BatchLedger(message.job_id, message.batch_id, message.appid, message.content["content_id"], record)
    batch = Batch(message, account, ledger, fans, now, day)
    todo = _todo(message, ledger)
    if not todo:
        if ledger.unflushed:
            ledger.write([], now, flush=True)
            _unless_flushed(ledger)
        return {"skipped": len(message.recipients)}

    paused_until = float(quota.paused_until) if quota and quota.paused_until else 0.0
    if paused_until > now.timestamp():
        batch.tally.retry = list(todo)
        batch.tally.paused_until = paused_until
    else:
        key = channels.link_key()  # before any send: an SSM failure sends the batch back whole, nothing sent
        planned = [channels.prepare(account, message, r, fans[r.openid], now, key) for r in todo]
        quota_sent = int(quota.template_sent or 0) if quota else 0
        Waves(batch, window, deadline or Deadline(None), pool, quota_sent).run(planned)
    return _finish(batch)


def _todo(message: SendMessage, ledger: BatchLedger) -> list[Recipient]:
    """Recipients not yet done and not handed to a newer retry message than this one (``ledger.owned_by``)."""
    return [r for r in message.recipients if ledger.owned_by(r.openid, message.attempt)]


def _collect_retries(batch: Batch) -> None:
    tally = batch.tally
    by_openid = {r.openid: r for r in batch.message.recipients}
    for o in tally.outcomes:
        if o.result in (policy.TRANSIENT, policy.PAUSED) and by_openid[o.openid] not in tally.retry:
            tally.retry.append(by_openid[o.openid])


def _enqueue_retry(batch: Batch) -> tuple[set[str], int]:
    """The one retry message (same batch id, next attempt, back-off delay), sent before the last write."""
    message, ledger, tally = batch.message, batch.ledger, batch.tally
    next_attempt = ledger.next_attempt(message.attempt)
    delay = (
        min(MAX_DELAY, max(1, int(tally.paused_until - batch.now.timestamp())))
        if tally.paused_until
        else _backoff(message.tries)
    )
    retry_message = message.model_copy(
        update={
            "attempt": next_attempt,
            "tries": message.tries + (0 if tally.paused_until else 1),
            "recipients": tally.retry,  # only its own: recipients another message carries stay with it
        }
    )
    send_json(get_settings().send_queue_name, retry_message.wire(), delay_seconds=delay)
    return {r.openid for r in tally.retry}, next_attempt


def _finish(batch: Batch) -> dict[str, int]:
    """The retry message (before the last write), the last write with the flush, the result."""
    message, ledger, tally = batch.message, batch.ledger, batch.tally
    try:
        _collect_retries(batch)
        if tally.paused_until and tally.pause_code:
            _record_pause(message.appid, batch.day, tally.paused_until, tally.pause_code, batch.now)
        give_up = bool(tally.retry) and tally.paused_until is None and message.tries + 1 >= MAX_TRIES
        retry = _enqueue_retry(batch) if tally.retry and not give_up else None
        ledger.write(batch.entries(tally.unrecorded), batch.now, flush=True, retry=retry)
    finally:
        if tally.window is not None:
            tally.window.give(tally.held)
    counts = _report(message, tally)
    if tally.stopped_by_deadline:
        raise DeadlineReached(f"{message.job_id}/{message.batch_id}: out of time")
    if give_up:
        raise RetryLater(f"{len(tally.retry)} recipients still failing after {MAX_TRIES} tries")
    if retry is None:  # a retry message processes the batch again and flushes; without one, SQS must
        _unless_flushed(ledger)
    return counts


def _report(message: SendMessage, tally: Tally) -> dict[str, int]:
    """Metrics and the log line of one processing; the counts by result it returns."""
    counts = Counter(o.result for o in tally.outcomes)
    for (channel, result), n in Counter((o.channel, o.result) for o in tally.outcomes).items():
        observability.count("Pushes", n, channel=channel, outcome=result)
    logger.info(
        "push batch done",
        job_id=message.job_id,
        batch_id=message.batch_id,
        attempt=message.attempt,  # with batch_id: a batch's history across its retries, read from the logs alone
        appid=message.appid,
        extra={str(k): v for k, v in counts.items()},
    )
    if tally.paused_until and not tally.outcomes:
        counts["deferred"] = len(tally.retry)
    return dict(counts)


def _unless_flushed(ledger: BatchLedger) -> None:
    """Leave the message to SQS while the batch still owes counts to the hot items (its flush kept conflicting).

    The redelivery finds every recipient done and only flushes (exactly once: the flush is conditional on the
    record's version); after the queue's receive limit the message waits in the DLQ, counts still in the record.
    """
    if ledger.unflushed:
        raise RetryLater(f"batch {ledger.job_id}/{ledger.batch_id}: counts not yet flushed to the job and stats")
