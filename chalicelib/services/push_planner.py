"""The planner: a publish job → send batches of ≤ 100 recipients, each fan once.

How fans are de-duplicated without remembering them: the sparse
``active_by_screen`` index returns each screen's subscribers sorted by
``fan`` (``appid#openid``).  The planner merges the targeted screens' streams
in that order (``heapq.merge``), so all subscriptions of one fan arrive
together and are emitted once, with the list of targeted screens he follows
(for per-screen counts).  Because ``appid`` leads the key, the merged stream
is also grouped by account: a batch never mixes accounts.

The cursor is therefore one string: the last fan key planned.  A large
audience is planned over several invocations — each plans up to
``BATCHES_PER_RUN`` batches or until its time runs short, saves the cursor and
re-enqueues ``{"type": "plan"}`` for itself; the next one queries every
screen with ``fan > cursor``.

Idempotency: the job item (``job_id`` = ``content_id:revision``) is created
once; a lease (conditional write) lets one planner work on a job at a time;
batch ids are the job's sequence numbers, so a planner that dies after
enqueueing but before saving the cursor re-emits the *same* batch ids and the
sender's per-batch record skips recipients already done.
"""

from __future__ import annotations

import heapq
import itertools
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.aws import send_json, send_json_batch
from chalicelib.logs import logger
from chalicelib.models.accounts import Account
from chalicelib.models.base import utcnow
from chalicelib.models.content import Content
from chalicelib.models.push import PLANNED, PLANNING, PushJob
from chalicelib.models.subscriptions import Subscription
from chalicelib.models.units import Unit
from chalicelib.resources import CONSUMER_TIMEOUT_SECONDS
from chalicelib.services.push_messages import PublishMessage
from chalicelib.services.push_outcomes import JobAccounts
from chalicelib.settings import get_settings

SERVICE_BATCH = 98  # + the batch record + the quota day = 100 items: one TransactGetItems in the sender
SUBSCRIPTION_BATCH = 40  # subscription accounts update every fan: they must fit the sender's one transaction
BATCHES_PER_RUN = 200
MIN_REMAINING_MS = 15_000
LEASE_SECONDS = CONSUMER_TIMEOUT_SECONDS["push"] + 30
JOB_TTL = timedelta(days=60)
SQS_CHUNK = 10

_owner = f"planner-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass
class PlanResult:
    status: str  # "planned" | "continued" | "done" | "busy"
    recipients: int = 0
    batches: int = 0


@dataclass
class _Batch:
    appid: str
    size: int
    recipients: list[tuple[str, list[str]]] = field(default_factory=list)


def batch_size_for(account: Account | None) -> int:
    if account is not None and not account.is_service:
        return SUBSCRIPTION_BATCH
    return SERVICE_BATCH


def _unit_name(unit_id: str | None) -> str:
    if not unit_id:
        return ""
    try:
        return Unit.get(unit_id).name
    except Unit.DoesNotExist:
        return ""


def _ensure_job(message: PublishMessage) -> PushJob:
    try:
        return PushJob.get(message.job_id, consistent_read=True)
    except PushJob.DoesNotExist:
        if message.type != "publish":
            raise ValueError(f"plan message for unknown job {message.job_id}") from None
    content_id, revision = message.job_id.rsplit(":", 1)
    job = PushJob(
        message.job_id, content_id=message.content_id or content_id, revision=int(revision),
        screen_ids=message.screen_ids,
        message={**message.content_fields(_unit_name(message.unit_id)), "unit_id": message.unit_id or ""},
        expires_at=utcnow() + JOB_TTL,
    )
    try:
        job.save(condition=PushJob.job_id.does_not_exist())
    except PutError:
        return PushJob.get(message.job_id, consistent_read=True)  # a concurrent delivery created it
    return job


def _take_lease(job: PushJob) -> bool:
    now = time.time()
    try:
        job.update(
            actions=[PushJob.lease_owner.set(_owner), PushJob.lease_until.set(now + LEASE_SECONDS)],
            condition=(PushJob.status == PLANNING) & (PushJob.lease_until < now),
        )
        return True
    except UpdateError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise


def _stream(index: int, screen_id: str, after: str) -> Iterator[tuple[str, int, str, str]]:
    condition = Subscription.fan > after if after else None
    for sub in Subscription.active_by_screen.query(screen_id, range_key_condition=condition):
        yield sub.fan, index, sub.appid, sub.openid


def merged_fans(screen_ids: list[str], after: str) -> Iterator[tuple[str, str, str, list[str]]]:
    """(fan key, appid, openid, targeted screens he follows) for each fan once, in fan-key order."""
    streams = [_stream(i, sid, after) for i, sid in enumerate(screen_ids)]
    merged = heapq.merge(*streams, key=lambda row: row[0])
    for key, rows in itertools.groupby(merged, key=lambda row: row[0]):
        rows = list(rows)
        yield key, rows[0][2], rows[0][3], [screen_ids[r[1]] for r in rows]


def _plain(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    return value.as_dict() if hasattr(value, "as_dict") else dict(value)


def _send_payload(job: PushJob, seq: int, batch: _Batch, accounts: JobAccounts) -> dict[str, Any]:
    screens = sorted({s for _openid, ss in batch.recipients for s in ss})
    position = {s: i for i, s in enumerate(screens)}
    return {
        "type": "send", "job_id": job.job_id, "batch_id": f"b{seq:06d}", "appid": batch.appid,
        "attempt": 0, "tries": 0, "screens": screens, "content": _plain(job.message),
        "recipients": [{"openid": openid, "screens": [position[s] for s in ss]} for openid, ss in batch.recipients],
        **accounts.send_fields(batch.appid),  # this run's fresh view of the account and the content's reach
    }


def _content_unit(job: PushJob) -> str | None:
    unit_id = _plain(job.message).get("unit_id")
    if unit_id:
        return unit_id
    try:  # jobs planned before the unit was kept on the job
        return Content.get(job.content_id).unit_id
    except Content.DoesNotExist:
        return None


def plan(body: dict[str, Any], remaining_ms: Callable[[], int] = lambda: 60_000) -> PlanResult:
    """Handle one push-queue message; see the module docstring."""
    message = PublishMessage.model_validate(body)
    job = _ensure_job(message)
    if job.status == PLANNED:
        return PlanResult("done")
    if not _take_lease(job):
        # Another planner holds the job; its own message stays in flight until it finishes or dies.
        return PlanResult("busy")

    settings = get_settings()
    seq, cursor, emitted, planned = int(job.next_seq), job.cursor, 0, 0
    pending: list[dict[str, Any]] = []
    current: _Batch | None = None
    finished = True
    accounts = JobAccounts(_content_unit(job))  # read once per run: an account edit applies to the next job

    def flush() -> None:
        nonlocal current, seq, emitted, planned
        if current and current.recipients:
            pending.append(_send_payload(job, seq, current, accounts))
            seq, emitted, planned = seq + 1, emitted + 1, planned + len(current.recipients)
        current = None
        if len(pending) >= SQS_CHUNK:
            send_json_batch(settings.send_queue_name, pending)
            pending.clear()

    last_key = cursor
    for key, appid, openid, screens in merged_fans(list(job.screen_ids), cursor):
        if current is not None and current.appid != appid:
            flush()
            cursor = last_key
            if emitted >= BATCHES_PER_RUN or remaining_ms() < MIN_REMAINING_MS:
                finished = False
                break
        if current is None:
            current = _Batch(appid, batch_size_for(accounts.get(appid)[0]))
        current.recipients.append((openid, screens))
        last_key = key
        if len(current.recipients) >= current.size:
            flush()
            cursor = last_key
            if emitted >= BATCHES_PER_RUN or remaining_ms() < MIN_REMAINING_MS:
                finished = False
                break
    if finished:
        flush()
        cursor = last_key
    if pending:
        send_json_batch(settings.send_queue_name, pending)

    actions = [
        PushJob.cursor.set(cursor), PushJob.next_seq.set(seq), PushJob.planned.add(planned),
        PushJob.batches.add(emitted), PushJob.lease_until.set(0), PushJob.updated_at.set(utcnow()),
    ]
    if finished:
        actions.append(PushJob.status.set(PLANNED))
    # Conditional on still holding the lease: a planner that overran its lease must not move the cursor back.
    job.update(actions=actions, condition=PushJob.lease_owner == _owner)
    logger.info("push planned", job_id=job.job_id, recipients=planned, batches=emitted, finished=finished)
    if finished:
        return PlanResult("planned", planned, emitted)
    send_json(settings.push_queue_name, {"type": "plan", "job_id": job.job_id})
    return PlanResult("continued", planned, emitted)
