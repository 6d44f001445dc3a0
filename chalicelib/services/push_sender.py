"""The sender: one batch of ≤ 100 recipients of one account → WeChat, exactly once per recipient.

Per batch message, in this order:

1. **One read** (TransactGetItems, consistent): the batch record, the
   account's quota day and every recipient's ``Fan`` item (98 + 2 = 100).
   Recipients in ``done`` are skipped; recipients in ``pending`` belong to a
   newer retry message of this batch (``attempt < retry_attempt``) and are
   skipped too.  A paused account defers the whole batch.
2. **Sends** with bounded concurrency (``CONCURRENCY`` threads, each call with
   ``SEND_TIMEOUT`` seconds), channel chosen by ``push_policy``.  A pause
   answer (45009/45011) stops the sends not yet started.
3. If some recipients failed transiently (or the account paused), **one
   retry message** with the same batch id, ``attempt + 1`` and an SQS delay
   (exponential back-off, or until the quota resets) is enqueued *before* the
   commit, so a crash cannot lose them.
4. **One write** (TransactWriteItems): the batch record (new ``done`` and
   ``pending`` sets, conditional on the ``version`` read), the quota day, the
   job totals, daily stats per content / account / screen (per channel), the
   msgid routes for receipts and the fans' stop marks, window counters and
   unread lists.  Only if that exceeds DynamoDB's 100 items are the
   idempotent fan and route writes sent first, separately.

The only duplicate possible is a sender dying between 2 and 4: the batch's
sends that were not recorded are sent again on redelivery (at most the batch).
After ``MAX_TRIES`` transient rounds the message is reported failed: SQS
redelivers it and, after ``maxReceiveCount`` receives, moves it to the DLQ.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from cachetools import TTLCache
from wechatpy.exceptions import WeChatClientException

from chalicelib import links, observability
from chalicelib.aws import client, send_json
from chalicelib.logs import logger
from chalicelib.models.accounts import Account
from chalicelib.models.fans import Fan
from chalicelib.models.push import PushBatch, PushJob, PushMsgRoute, PushQuota, route_block
from chalicelib.models.stats import bump
from chalicelib.models.unit_of_work import MAX_TRANSACTION_ITEMS, TransactionConflict, UnitOfWork
from chalicelib.services import push_policy as policy
from chalicelib.services.push_messages import Recipient, SendMessage
from chalicelib.services.tokens import TokenUnavailable
from chalicelib.settings import get_settings
from chalicelib.wechat.client import client_for

CONCURRENCY = 20
BATCHES_IN_PARALLEL = 5
SEND_TIMEOUT = 4
MAX_TRIES = 6
BACKOFF_BASE = 5
MAX_DELAY = 900  # SQS's longest DelaySeconds
RECORD_TTL = timedelta(days=30)
COMMIT_ATTEMPTS = 4
MIN_REMAINING_MS = 20_000  # worst case of one batch: 98 sends / 20 at a time x 4 s timeout

PATHS = {
    policy.TEMPLATE: "message/template/send",
    policy.NOTICE: "message/subscribe/bizsend",
    policy.CUSTOM: "message/custom/send",
}
STAT_FOR_CHANNEL = {policy.TEMPLATE: "pushes_template", policy.NOTICE: "pushes_notice",
                    policy.CUSTOM: "pushes_custom"}
JOB_FOR_CHANNEL = {policy.TEMPLATE: "sent_template", policy.NOTICE: "sent_notice", policy.CUSTOM: "sent_custom"}

_accounts: TTLCache = TTLCache(maxsize=1024, ttl=60)
_accounts_lock = threading.Lock()


class RetryLater(Exception):
    """The message itself must be redelivered by SQS (reported in ``batchItemFailures``)."""


class AccountMissing(Exception):
    """The batch names an account that does not exist (deleted after planning)."""


@dataclass
class Outcome:
    openid: str
    channel: str  # channel tried, or unread / none
    result: str  # policy.SENT | STOPPED | PAUSED | TRANSIENT | FAILED, or "queued" / "suppressed"
    errcode: int | None = None
    msgid: str | None = None
    window: policy.Window | None = None
    fallback_unread: bool = False
    reason: str | None = None  # why suppressed, or cross_unit_policy for an unread entry the policy chose


@dataclass
class Tally:
    """What one processing of a batch did, ready to be committed."""

    finished: set[str] = field(default_factory=set)
    retry: list[Recipient] = field(default_factory=list)
    paused_until: float | None = None
    pause_code: int | None = None
    outcomes: list[Outcome] = field(default_factory=list)


# ------------------------------------------------------------------ lookups

def _account(appid: str, min_revision: int = 0) -> Account:
    """The account, cached; re-read when the planner saw a newer revision (an edit applies to the next job)."""
    with _accounts_lock:
        hit = _accounts.get(appid)
    if hit is None or int(hit.revision or 0) < min_revision:
        try:
            hit = Account.get(appid, consistent_read=True)
        except Account.DoesNotExist:
            raise AccountMissing(appid) from None
        with _accounts_lock:
            _accounts[appid] = hit
    return hit


def forget_accounts() -> None:
    with _accounts_lock:
        _accounts.clear()


class _ClientPool:
    """Idle WeChat clients per account, reused across batches so HTTP connections stay open.

    A client is used by one thread at a time (wechatpy's session and our
    one-retry flag are per client); the pool grows to the concurrency used.
    """

    def __init__(self) -> None:
        self._idle: dict[str, list] = {}
        self._lock = threading.Lock()

    def acquire(self, appid: str):
        with self._lock:
            idle = self._idle.get(appid)
            if idle:
                return idle.pop()
        api = client_for(appid)
        api.timeout = SEND_TIMEOUT
        return api

    def release(self, appid: str, api) -> None:
        with self._lock:
            self._idle.setdefault(appid, []).append(api)

    def clear(self) -> None:
        with self._lock:
            self._idle.clear()


_clients = _ClientPool()


def reset_caches() -> None:
    """Forget cached accounts and clients (tests; after an account's secret changes)."""
    forget_accounts()
    _clients.clear()


def _key_names(model_cls: type) -> tuple[str, str | None]:
    attrs = model_cls.get_attributes()
    hash_name = next(a.attr_name for a in attrs.values() if a.is_hash_key)
    range_name = next((a.attr_name for a in attrs.values() if a.is_range_key), None)
    return hash_name, range_name


def read_batch(requests: list[tuple[type, str, str | None]]) -> list[Any]:
    """Strongly consistent read of up to 100 items of several tables in one BatchGetItem.

    Half the read cost of TransactGetItems and, unlike it, 100 items in the
    local emulator too (moto caps TransactGetItems at the old limit of 25).
    Unprocessed keys (throttling) are read again, with a short back-off.
    """
    request_items: dict[str, dict[str, Any]] = {}
    for model_cls, hash_key, range_key in requests:
        hash_name, range_name = _key_names(model_cls)
        key = {hash_name: {"S": hash_key}}
        if range_name:
            key[range_name] = {"S": range_key}
        table = request_items.setdefault(model_cls.Meta.table_name, {"Keys": [], "ConsistentRead": True})
        if key not in table["Keys"]:
            table["Keys"].append(key)
    found: dict[tuple[str, str, str | None], Any] = {}
    models = {m.Meta.table_name: m for m, _h, _r in requests}
    pending, delay = request_items, 0.05
    for _round in range(8):
        response = client("dynamodb").batch_get_item(RequestItems=pending)
        for table, items in response.get("Responses", {}).items():
            model_cls = models[table]
            hash_name, range_name = _key_names(model_cls)
            for raw in items:
                found[(table, raw[hash_name]["S"], raw[range_name]["S"] if range_name else None)] = \
                    model_cls.from_raw_data(raw)
        pending = response.get("UnprocessedKeys") or {}
        if not pending:
            break
        time.sleep(delay)
        delay *= 2
    else:
        raise RuntimeError("BatchGetItem left keys unprocessed")
    return [found.get((m.Meta.table_name, h, r)) for m, h, r in requests]


# ------------------------------------------------------------------ sending

def _call(appid: str, channel: str, body: dict[str, Any]) -> tuple[str, int | None, str | None]:
    """(result, errcode, msgid) of one WeChat call."""
    api = _clients.acquire(appid)
    try:
        answer = api.post(PATHS[channel], data=body)
    except WeChatClientException as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        code = exc.errcode if exc.errcode is not None else None
        observability.count("WeChatErrors", errcode=code if code is not None else f"http_{status}")
        return policy.classify(code, status), code, None
    except (requests.RequestException, TokenUnavailable):
        return policy.TRANSIENT, None, None
    finally:
        _clients.release(appid, api)
    msgid = answer.get("msgid") if isinstance(answer, dict) else None
    return policy.SENT, 0, str(msgid) if msgid else None


def _send_one(account: Account, message: SendMessage, openid: str, fan: Fan | None, now: datetime,
              paused: threading.Event, template_budget: list[int], budget_lock: threading.Lock,
              slots: threading.BoundedSemaphore) -> Outcome:
    channel = policy.choose_channel(account, fan, now, message.reach)
    if channel == policy.NONE:
        return Outcome(openid, channel, "suppressed", reason=policy.skip_reason(account, fan, message.reach))
    if channel == policy.UNREAD:
        return Outcome(openid, channel, "queued", reason=policy.SKIP_CROSS_UNIT if message.reach == policy.UNREAD
                       else None)
    if paused.is_set():
        return Outcome(openid, channel, policy.PAUSED)
    if channel == policy.TEMPLATE:
        with budget_lock:
            if template_budget[0] <= 0:
                return Outcome(openid, channel, policy.PAUSED, errcode=45009)
            template_budget[0] -= 1
    content = message.content
    url = links.push_link(account.appid, openid, content["content_id"])
    window = None
    if channel == policy.TEMPLATE:
        body = policy.template_body(account, openid, content, url, now)
    elif channel == policy.NOTICE:
        body = policy.notice_body(account, openid, content, url, now)
    else:
        window = policy.open_windows(fan, now)[0]
        body = policy.custom_body(openid, content, url)
    with slots:  # ≤ CONCURRENCY WeChat calls in flight per invocation, however many batches it runs
        if paused.is_set():
            result, code, msgid = policy.PAUSED, None, None
        else:
            result, code, msgid = _call(account.appid, channel, body)
    if result == policy.PAUSED:
        paused.set()
    if channel == policy.TEMPLATE and result != policy.SENT:
        with budget_lock:
            template_budget[0] += 1
    outcome = Outcome(openid, channel, result, code, msgid, window)
    if channel == policy.CUSTOM and result == policy.STOPPED and code in policy.WINDOW_CODES:
        outcome.fallback_unread = True  # the window closed under us: the item waits in his unread list
    return outcome


def _backoff(tries: int) -> int:
    return int(min(MAX_DELAY, BACKOFF_BASE * 2 ** tries + random.uniform(0, BACKOFF_BASE)))  # noqa: S311


# ------------------------------------------------------------------ the batch

def process(body: dict[str, Any], *, now: datetime | None = None,
            slots: threading.BoundedSemaphore | None = None) -> dict[str, int]:
    """Handle one send-queue message; returns counts by result.  Raises ``RetryLater``."""
    message = SendMessage.model_validate(body)
    now = now or datetime.now(UTC)
    try:
        account = _account(message.appid, message.account_revision)
    except AccountMissing:
        logger.warning("push batch for an unknown account dropped", appid=message.appid, job_id=message.job_id)
        return {"dropped": len(message.recipients)}
    day = policy.quota_day(now)
    reads = [(PushBatch, message.job_id, message.batch_id), (PushQuota, message.appid, day)]
    reads += [(Fan, message.appid, r.openid) for r in message.recipients]
    loaded = read_batch(reads)
    batch, quota = loaded[0], loaded[1]
    fans = dict(zip([r.openid for r in message.recipients], loaded[2:], strict=True))
    done = set(batch.done or ()) if batch else set()
    pending = set(batch.pending or ()) if batch else set()
    owner = batch is None or message.attempt >= int(batch.retry_attempt or 0)
    todo = [r for r in message.recipients if r.openid not in done and (owner or r.openid not in pending)]
    if not todo:
        return {"skipped": len(message.recipients)}

    tally = Tally()
    paused_until = float(quota.paused_until) if quota and quota.paused_until else 0.0
    if paused_until > now.timestamp():
        tally.retry = list(todo)
        tally.paused_until = paused_until
    else:
        budget = [policy.template_quota(account) - int(quota.template_sent or 0) if quota else
                  policy.template_quota(account)]
        paused, lock = threading.Event(), threading.Lock()
        with ThreadPoolExecutor(max_workers=min(CONCURRENCY, len(todo))) as pool:
            slots = slots or threading.BoundedSemaphore(CONCURRENCY)
            futures = [pool.submit(_send_one, account, message, r.openid, fans[r.openid], now, paused, budget, lock,
                                   slots) for r in todo]
            tally.outcomes = [f.result() for f in futures]
        by_openid = {r.openid: r for r in todo}
        for outcome in tally.outcomes:
            if outcome.result in (policy.TRANSIENT, policy.PAUSED):
                tally.retry.append(by_openid[outcome.openid])
                if outcome.result == policy.PAUSED:
                    tally.paused_until = policy.next_quota_reset(now).timestamp()
                    tally.pause_code = outcome.errcode or tally.pause_code
            else:
                tally.finished.add(outcome.openid)

    give_up = bool(tally.retry) and tally.paused_until is None and message.tries + 1 >= MAX_TRIES
    next_attempt = max(message.attempt, int(batch.retry_attempt or 0) if batch else 0) + 1
    if tally.retry and not give_up:
        delay = (min(MAX_DELAY, max(1, int(tally.paused_until - now.timestamp())))
                 if tally.paused_until else _backoff(message.tries))
        retry_ids = {r.openid for r in tally.retry}
        keep = pending - tally.finished - retry_ids if not owner else set()
        retry = message.model_copy(update={
            "attempt": next_attempt, "tries": message.tries + (0 if tally.paused_until else 1),
            "recipients": tally.retry + [r for r in message.recipients if r.openid in keep],
        })
        send_json(get_settings().send_queue_name, retry.wire(), delay_seconds=delay)
    _commit(message, account, batch, fans, tally, now, day, next_attempt if tally.retry and not give_up else None)
    counts = Counter(o.result for o in tally.outcomes)
    for (channel, result), n in Counter((o.channel, o.result) for o in tally.outcomes).items():
        observability.count("Pushes", n, channel=channel, outcome=result)
    logger.info("push batch done", job_id=message.job_id, appid=message.appid, **{str(k): v for k, v in counts.items()})
    if tally.paused_until and not tally.outcomes:
        counts["deferred"] = len(tally.retry)
    if give_up:
        raise RetryLater(f"{len(tally.retry)} recipients still failing after {MAX_TRIES} tries")
    return dict(counts)


def _commit(message: SendMessage, account: Account, batch: PushBatch | None, fans: dict[str, Fan | None],
            tally: Tally, now: datetime, day: str, retry_attempt: int | None) -> None:
    """Record the batch's progress and everything it counts, once; see the module docstring."""
    for _attempt in range(COMMIT_ATTEMPTS):
        fresh_done = set(batch.done or ()) if batch else set()
        newly = tally.finished - fresh_done
        core = UnitOfWork()
        idempotent: list[tuple[Any, list[Any]]] = []
        _batch_write(core, message, batch, newly, tally, retry_attempt, now)
        counted = [o for o in tally.outcomes if o.openid in newly]
        _count(core, idempotent, message, account, fans, counted, tally, now, day)
        if len(core) + len(idempotent) <= MAX_TRANSACTION_ITEMS:
            for model, actions in idempotent:
                core.update(model, actions)
        else:
            # Fan marks (set ADD / absolute SET) and msgid routes (set ADD) are safe to write twice.
            for start in range(0, len(idempotent), MAX_TRANSACTION_ITEMS):
                chunk = UnitOfWork()
                for model, actions in idempotent[start:start + MAX_TRANSACTION_ITEMS]:
                    chunk.update(model, actions)
                chunk.commit()
        try:
            core.commit()
            return
        except TransactionConflict as conflict:
            if not conflict.failed_on("batch"):
                raise
            logger.info("push batch committed concurrently; merging", job_id=message.job_id, batch=message.batch_id)
            batch = PushBatch.get(message.job_id, message.batch_id, consistent_read=True)
    raise RuntimeError(f"could not record batch {message.job_id}/{message.batch_id}")


def _batch_write(uow: UnitOfWork, message: SendMessage, batch: PushBatch | None, newly: set[str], tally: Tally,
                 retry_attempt: int | None, now: datetime) -> None:
    done = set(batch.done or ()) if batch else set()
    pending = set(batch.pending or ()) if batch else set()
    done |= newly
    pending -= done
    if retry_attempt is not None:
        pending |= {r.openid for r in tally.retry}
    actions = [PushBatch.appid.set(message.appid), PushBatch.version.add(1),
               PushBatch.expires_at.set(now + RECORD_TTL)]
    actions.append(PushBatch.done.set(done) if done else PushBatch.done.remove())
    actions.append(PushBatch.pending.set(pending) if pending else PushBatch.pending.remove())
    if retry_attempt is not None:
        actions.append(PushBatch.retry_attempt.set(retry_attempt))
    version = int(batch.version or 0) if batch else 0
    condition = PushBatch.version.does_not_exist() if batch is None else (PushBatch.version == version)
    uow.update(PushBatch(message.job_id, message.batch_id), actions, condition=condition, tag="batch")


def _count(core: UnitOfWork, idempotent: list[tuple[Any, list[Any]]], message: SendMessage, account: Account,
           fans: dict[str, Fan | None], outcomes: list[Outcome], tally: Tally, now: datetime, day: str) -> None:
    appid, content_id, job_id = message.appid, message.content["content_id"], message.job_id
    stats: Counter[str] = Counter()
    job: Counter[str] = Counter()
    per_screen: Counter[str] = Counter()
    screens_of = {r.openid: [message.screens[i] for i in r.screens if i < len(message.screens)]
                  for r in message.recipients}
    routes: dict[str, set[str]] = {}
    digest = False
    template_sent = 0
    for o in outcomes:
        fan = fans.get(o.openid)
        fan_actions: list[Any] = []
        reached = False
        if o.result == policy.SENT:
            stats["pushes_sent"] += 1
            stats[STAT_FOR_CHANNEL[o.channel]] += 1
            job[JOB_FOR_CHANNEL[o.channel]] += 1
            reached = True
            if o.channel == policy.TEMPLATE:
                template_sent += 1
                if o.msgid:
                    routes.setdefault(route_block(o.msgid), set()).add(f"{o.msgid}>{job_id}")
            if o.channel == policy.CUSTOM and o.window is not None:
                fan_actions += policy.window_actions(o.window, o.window.used + 1)
        elif o.result == "queued" or o.fallback_unread:
            added, dropped = policy.unread_update(fan, content_id)
            if added:
                fan_actions.append(Fan.unread_content.add(added))
            if dropped:
                _drop_unread_later(appid, o.openid, dropped)
            if o.fallback_unread and fan is not None:
                fan_actions += policy.close_window_actions(fan, now)
            stats["pushes_unread"] += 1
            job["queued_unread"] += 1
            if o.reason:  # the cross-unit policy: listed, never pushed, so not in this account's digest either
                job[f"unread_{o.reason}"] += 1
            else:
                digest = True
            reached = True
        elif o.result == policy.STOPPED:
            fan_actions.append(Fan.stopped_channels.add({policy.stop_entry(o.channel, o.errcode or 0)}))
            stats["pushes_stopped"] += 1
            job["stopped"] += 1
        elif o.result == "suppressed":
            stats["pushes_suppressed"] += 1
            job["suppressed"] += 1
            job[f"skipped_{o.reason or policy.SKIP_CHANNEL_STOPPED}"] += 1
        else:
            stats["pushes_failed"] += 1
            job["failed"] += 1
        if reached:
            per_screen.update(screens_of.get(o.openid, []))
        if fan_actions:
            idempotent.append((Fan(appid, o.openid), fan_actions))

    quota_actions: list[Any] = [PushQuota.expires_at.set(now + timedelta(days=3))]
    if template_sent:
        quota_actions.append(PushQuota.template_sent.add(template_sent))
    if digest:
        quota_actions.append(PushQuota.digest_content.add({content_id}))
    if tally.paused_until and tally.pause_code:
        quota_actions += [PushQuota.paused_until.set(int(tally.paused_until)),
                          PushQuota.pause_code.set(tally.pause_code)]
    if len(quota_actions) > 1:
        core.update(PushQuota(appid, day), quota_actions)
    if job:
        core.update(PushJob(job_id), [getattr(PushJob, name).add(n) for name, n in job.items()])
    if stats:
        bump(core, "content", content_id, dict(stats), now)
        bump(core, "account", appid, dict(stats), now)
    for screen_id, n in per_screen.items():
        bump(core, "screen", screen_id, {"pushes_sent": n}, now)
    for block, entries in routes.items():
        idempotent.append((PushMsgRoute(appid, block), [PushMsgRoute.routes.add(entries),
                                                        PushMsgRoute.expires_at.set(now + RECORD_TTL)]))


def _drop_unread_later(appid: str, openid: str, dropped: set[str]) -> None:
    """Trim a full unread list (a set cannot be added to and trimmed in one update); best effort."""
    try:
        Fan(appid, openid).update(actions=[Fan.unread_content.delete(dropped)])
    except Exception:  # the cap is a nicety, never a reason to fail a batch
        logger.warning("could not trim unread list", appid=appid)


def handle_records(records: list[tuple[str, str]], remaining_ms: Callable[[], int] | None = None) -> list[str]:
    """Process (message id, body) pairs; returns the ids that failed (for ``batchItemFailures``).

    The batches of one invocation run side by side (their DynamoDB reads and
    writes overlap the others' sends) while WeChat calls stay bounded by the
    invocation's ``CONCURRENCY``.  A record not started because the
    invocation's time is short is re-enqueued as it is (failing it would
    count a receive towards the DLQ).
    """
    valid: list[tuple[str, dict[str, Any]]] = []
    for message_id, raw in records:
        try:
            body = json.loads(raw)
            SendMessage.model_validate(body)
        except ValueError as exc:  # pydantic's ValidationError is a ValueError too; retrying cannot help
            logger.error("invalid send message dropped", error=str(exc)[:300])
            continue
        if remaining_ms is not None and remaining_ms() < MIN_REMAINING_MS:
            send_json(get_settings().send_queue_name, body)
            continue
        valid.append((message_id, body))

    slots = threading.BoundedSemaphore(CONCURRENCY)  # shared by the invocation's batches

    def run(message_id: str, body: dict[str, Any]) -> str | None:
        observability.correlate(body)  # this worker thread's batch
        try:
            process(body, slots=slots)
            return None
        except RetryLater as exc:
            logger.warning("push batch left for SQS redelivery", reason=str(exc))
        except Exception:
            logger.exception("push batch failed; SQS will redeliver it")
        return message_id

    if not valid:
        return []
    with ThreadPoolExecutor(max_workers=min(BATCHES_IN_PARALLEL, len(valid))) as pool:
        results = list(pool.map(lambda pair: run(*pair), valid))
    return [message_id for message_id in results if message_id]
