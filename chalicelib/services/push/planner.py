"""The planner: a publish job → send batches of ≤ 100 recipients, each fan once.

The batches themselves (each fan once, never two accounts in one batch, and
the same batches again on a re-run) come from ``push.batching``.  The cursor
is one string: the last fan key planned.  A large audience is planned over
several invocations — each plans up to ``batching.BATCHES_PER_RUN`` batches or
until its time runs short, saves the cursor and re-enqueues
``{"type": "plan"}`` for itself; the next one queries every screen with
``fan > cursor``.

Idempotency: the job item (``job_id`` = ``content_id:revision``) is created
once; a lease (conditional write) lets one planner work on a job at a time
(a run that fails releases it; a delivery that finds it busy comes back when
it ends).  Batch ids are the job's sequence numbers, and a run stores its
batch boundaries (the last fan key of each batch) on the job *before* it
enqueues them: a planner that dies after enqueueing but before saving the
cursor is re-run with the same boundaries, so every batch id keeps its
recipients even if fans subscribed meanwhile (they join the batch whose
range they fall in), and the sender's per-batch record skips everyone done.
The run's totals are added once, conditional on the stored run.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import PutError, UpdateError
from pynamodb.expressions.update import Action

from chalicelib.aws import send_json, send_json_batch
from chalicelib.dal.items import find
from chalicelib.logs import logger
from chalicelib.models.base import utcnow
from chalicelib.models.content import Content
from chalicelib.models.push import PLANNED, PLANNING, PushJob
from chalicelib.models.units import Unit
from chalicelib.resources import CONSUMER_TIMEOUT_SECONDS
from chalicelib.services.push import batching
from chalicelib.services.push.batching import Batch
from chalicelib.services.push.messages import PublishMessage, Recipient, SendMessage
from chalicelib.services.push.outcomes import JobAccounts
from chalicelib.settings import get_settings

LEASE_SECONDS = CONSUMER_TIMEOUT_SECONDS["push"] + 30
JOB_TTL = timedelta(days=60)
SQS_CHUNK = 10

_owner = f"planner-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass
class PlanResult:
    status: str  # "planned" | "continued" | "done" | "busy"
    recipients: int = 0
    batches: int = 0


def _unit_name(unit_id: str | None) -> str:
    if not unit_id:
        return ""
    unit = find(Unit, unit_id)
    return unit.name if unit else ""


def _ensure_job(message: PublishMessage) -> PushJob:
    existing = find(PushJob, message.job_id, consistent=True)
    if existing is not None:
        return existing
    if message.type != "publish":
        raise ValueError(f"plan message for unknown job {message.job_id}")
    content_id, revision = message.job_id.rsplit(":", 1)
    job = PushJob(
        message.job_id,
        content_id=message.content_id or content_id,
        revision=int(revision),
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


def _plain(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    return value.as_dict() if hasattr(value, "as_dict") else dict(value)


def _send_payload(job: PushJob, seq: int, batch: Batch, accounts: JobAccounts) -> dict[str, Any]:
    screens = sorted({s for _openid, ss in batch.recipients for s in ss})
    position = {s: i for i, s in enumerate(screens)}
    return SendMessage(
        type="send",
        job_id=job.job_id,
        batch_id=f"b{seq:06d}",
        appid=batch.appid,
        attempt=0,
        tries=0,
        screens=screens,
        content=_plain(job.message),
        recipients=[Recipient(openid=openid, screens=[position[s] for s in ss]) for openid, ss in batch.recipients],
        **accounts.send_fields(batch.appid),  # this run's fresh view of the account and the content's reach
    ).wire()


def _content_unit(job: PushJob) -> str | None:
    unit_id = _plain(job.message).get("unit_id")
    if unit_id:
        return unit_id
    content = find(Content, job.content_id)  # jobs planned before the unit was kept on the job
    return content.unit_id if content else None


def _release_lease(job: PushJob) -> None:
    """A run that failed lets the next delivery in at once instead of after ``LEASE_SECONDS``."""
    try:
        job.update(actions=[PushJob.lease_until.set(0)], condition=PushJob.lease_owner == _owner)
    except Exception:  # the lease then simply runs out
        logger.warning("could not release the planner lease", job_id=job.job_id)


def _come_back_later(job: PushJob) -> None:
    """Busy: another planner holds the lease.  If it died, this message must not be the job's last."""
    wait = int(float(job.lease_until or 0) - time.time()) + 1
    send_json(
        get_settings().push_queue_name, PublishMessage.plan(job.job_id).wire(), delay_seconds=min(900, max(1, wait))
    )


def plan(body: dict[str, Any], remaining_ms: Callable[[], int] = lambda: 60_000) -> PlanResult:
    """Handle one push-queue message; see the module docstring."""
    message = PublishMessage.model_validate(body)
    job = _ensure_job(message)
    if job.status == PLANNED:
        return PlanResult("done")
    if not _take_lease(job):
        job = PushJob.get(job.job_id, consistent_read=True)
        if job.status != PLANNED:
            _come_back_later(job)
        return PlanResult("busy")
    try:
        return _run(job, remaining_ms)
    except Exception:
        _release_lease(job)
        raise


def _run(job: PushJob, remaining_ms: Callable[[], int]) -> PlanResult:
    settings = get_settings()
    screen_ids, cursor = [str(s) for s in job.screen_ids], job.cursor
    accounts = JobAccounts(_content_unit(job))  # read once per run: an account edit applies to the next job
    if job.run_seq is not None:
        # A run stored boundaries and did not finish: the same batches again, under the same ids.
        seq0, ends, finished = int(job.run_seq), [str(e) for e in job.run_ends or []], bool(job.run_final)
        batches = batching.replay(screen_ids, cursor, ends)
        payloads = [_send_payload(job, seq0 + i, b, accounts) for i, b in enumerate(batches) if b.recipients]
        for start in range(0, len(payloads), SQS_CHUNK):
            send_json_batch(settings.send_queue_name, payloads[start : start + SQS_CHUNK])
    else:
        seq0 = int(job.next_seq)
        batches, finished = [], False
        stored = 0
        collected = batching.collect(screen_ids, cursor, remaining_ms, accounts)
        while True:
            chunk, end_of_run, audience_ended = _next_chunk(collected)
            batches += chunk
            if chunk or end_of_run:
                # Stored before they are enqueued, so a re-run cannot shift a batch's recipients under its id.
                ends = [b.end for b in chunk]
                actions: list[Action] = [
                    PushJob.run_seq.set(seq0),
                    PushJob.run_final.set(audience_ended and end_of_run),
                ]
                actions.append(
                    PushJob.run_ends.set(PushJob.run_ends.append(ends)) if stored else PushJob.run_ends.set(ends)
                )
                job.update(actions=actions, condition=(PushJob.lease_owner == _owner) & (PushJob.next_seq == seq0))
                stored += len(chunk)
                payloads = [
                    _send_payload(job, seq0 + len(batches) - len(chunk) + i, b, accounts) for i, b in enumerate(chunk)
                ]
                if payloads:
                    send_json_batch(settings.send_queue_name, payloads)
            if end_of_run:
                finished = audience_ended
                break
        ends = [b.end for b in batches]
        payloads = [b for b in batches if b.recipients]
    planned = sum(len(b.recipients) for b in batches)
    actions = [
        PushJob.cursor.set(ends[-1] if ends else cursor),
        PushJob.next_seq.set(seq0 + len(batches)),
        PushJob.planned.add(planned),
        PushJob.batches.add(len(payloads)),
        PushJob.lease_until.set(0),
        PushJob.updated_at.set(utcnow()),
        PushJob.run_seq.remove(),
        PushJob.run_ends.remove(),
        PushJob.run_final.remove(),
    ]
    if finished:
        actions.append(PushJob.status.set(PLANNED))
    # Once per run (run_seq), and only while holding the lease: counters never count a run twice.
    job.update(actions=actions, condition=(PushJob.lease_owner == _owner) & (PushJob.run_seq == seq0))
    logger.info("push planned", job_id=job.job_id, recipients=planned, batches=len(payloads), finished=finished)
    if finished:
        return PlanResult("planned", planned, len(payloads))
    send_json(settings.push_queue_name, PublishMessage.plan(job.job_id).wire())
    return PlanResult("continued", planned, len(payloads))


def _next_chunk(collected: Iterator[Batch | bool]) -> tuple[list[Batch], bool, bool]:
    """Up to ``SQS_CHUNK`` batches; (batches, the run ends here, the audience ended)."""
    chunk: list[Batch] = []
    for item in collected:
        if isinstance(item, bool):
            return chunk, True, item
        chunk.append(item)
        if len(chunk) >= SQS_CHUNK:
            return chunk, False, False
    return chunk, True, True
