"""The sender: one batch of recipients of one account → WeChat, each once, with durable progress.

Per batch message:

1. **One read** (BatchGetItem, consistent): the batch record, the account's
   quota day and every recipient's ``Fan`` (98 + 2 = 100 keys; more only if a
   re-plan grew the batch).  Recipients in ``done`` are skipped; recipients in
   ``pending`` belong to a newer retry message of the batch
   (``attempt < retry_attempt``) and are skipped too.  A paused account
   defers the whole batch.
2. **Waves.**  Recipients that need no WeChat call (unread list, suppressed)
   are recorded with the first write.  The others are sent in waves: a wave
   takes places in the invocation's ``SendWindow`` (20), is sent (each call
   ``SEND_TIMEOUT`` s, paced by the account's rate), and is **recorded** in the
   batch record (``ledger.BatchLedger``) before its places are given back.  So
   at any moment at most 20 sends of an invocation are unrecorded: a crash
   re-sends at most those 20, never a batch or an invocation.
3. A wave starts only while the invocation has time to send and record it
   (``pacing.Deadline``); a batch stopped by the deadline goes back unchanged
   (re-enqueued as it is, or reported in ``batchItemFailures``).
4. Transient failures or a pause → **one retry message** with the same batch
   id, ``attempt + 1`` and an SQS delay (back-off; a minute after 45011, China
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
from botocore.exceptions import BotoCoreError, ClientError
from cachetools import TTLCache
from wechatpy.exceptions import WeChatClientException

from chalicelib import links, observability
from chalicelib.aws import client, send_json, send_json_batch
from chalicelib.logs import logger
from chalicelib.models.accounts import Account
from chalicelib.models.fans import Fan
from chalicelib.models.push import PushBatch, PushQuota
from chalicelib.page_tokens import sign_link
from chalicelib.secrets import app_signing_key
from chalicelib.services import push_policy as policy
from chalicelib.services.push import metrics
from chalicelib.services.push.ledger import BatchLedger, Entry, LedgerWriteFailed
from chalicelib.services.push.pacing import (
    DEFAULT_SENDS_IN_FLIGHT,
    SEND_TIMEOUT,
    AccountRate,
    Deadline,
    SendWindow,
    sends_in_flight,
)
from chalicelib.services.push_messages import Recipient, SendMessage
from chalicelib.services.tokens import TokenUnavailable, client_for
from chalicelib.settings import get_settings
from chalicelib.wechat.errors import Errcode

CONCURRENCY = DEFAULT_SENDS_IN_FLIGHT  # PUSH_SENDS_IN_FLIGHT: calls in flight per invocation = the duplicate bound
BATCHES_IN_PARALLEL = 5
MAX_TRIES = 6
BACKOFF_BASE = 5
MAX_DELAY = 900  # SQS's longest DelaySeconds
MINUTE_PAUSE = 65  # 45011: WeChat's per-minute frequency limit; a little over a minute
KEY_ATTEMPTS = 6
READ_KEYS = 100

PATHS = {
    policy.TEMPLATE: "message/template/send",
    policy.NOTICE: "message/subscribe/bizsend",
    policy.CUSTOM: "message/custom/send",
}
STAT_FOR_CHANNEL = {policy.TEMPLATE: "pushes_template", policy.NOTICE: "pushes_notice",
                    policy.CUSTOM: "pushes_custom"}
PLANNED_FOR_CHANNEL = {policy.TEMPLATE: "template", policy.NOTICE: "notice", policy.CUSTOM: "custom",
                       policy.UNREAD: "unread"}
JOB_FOR_CHANNEL = {policy.TEMPLATE: "sent_template", policy.NOTICE: "sent_notice", policy.CUSTOM: "sent_custom"}

_accounts: TTLCache = TTLCache(maxsize=1024, ttl=60)
_accounts_lock = threading.Lock()
_account_loads: dict[str, threading.Lock] = {}
_rate = AccountRate()


class RetryLater(Exception):
    """The message itself must be redelivered by SQS (reported in ``batchItemFailures``)."""


class AccountMissing(Exception):
    """The batch names an account that does not exist (deleted after planning)."""


class DeadlineReached(Exception):
    """The invocation has no time left to start (and record) another wave: the message goes back."""


@dataclass
class Outcome:
    openid: str
    channel: str  # channel tried, or unread / none
    result: str  # policy.SENT | STOPPED | PAUSED | TRANSIENT | FAILED, or "queued" / "suppressed"
    errcode: int | None = None
    msgid: str | None = None
    window: policy.Window | None = None
    fallback_unread: bool = False
    ambiguous: bool = False  # timed out after reaching WeChat: it may have been sent
    sent_at: float = 0.0
    reason: str | None = None  # why suppressed, or cross_unit_policy for an unread entry the policy chose


@dataclass
class Tally:
    """What one processing of a batch did."""

    finished: set[str] = field(default_factory=set)
    retry: list[Recipient] = field(default_factory=list)
    paused_until: float | None = None
    pause_code: int | None = None
    outcomes: list[Outcome] = field(default_factory=list)
    stopped_by_deadline: bool = False
    unrecorded: list[Outcome] = field(default_factory=list)  # finished, to record in the last write
    held: int = 0  # places in the send window still held (given back after the last write)
    window: SendWindow | None = None


# ------------------------------------------------------------------ lookups

def _account(appid: str, min_revision: int = 0) -> Account:
    """The account, cached; re-read when the planner saw a newer revision (an edit applies to the next job)."""
    with _accounts_lock:
        hit = _accounts.get(appid)
        loading = _account_loads.setdefault(appid, threading.Lock())
    if hit is None or int(hit.revision or 0) < min_revision:
        with loading:  # the invocation's parallel batches of one account share one read
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
_link_key: list[str] = []
_link_key_lock = threading.Lock()


def link_key(sleep: Callable[[float], None] = time.sleep) -> str:
    """The push-link signing key, read from SSM once per process (with back-off on throttling).

    Called before a batch's first send: an SSM throttle then delays the batch
    or sends it back whole, never aborts it between sends.
    """
    if _link_key:
        return _link_key[0]
    with _link_key_lock:
        if _link_key:
            return _link_key[0]
        delay = 0.1
        for attempt in range(KEY_ATTEMPTS):
            try:
                _link_key.append(app_signing_key())
                return _link_key[0]
            except (ClientError, BotoCoreError, Exception) as exc:  # powertools wraps SSM errors
                if attempt == KEY_ATTEMPTS - 1:
                    raise RetryLater(f"push-link key unavailable: {type(exc).__name__}") from exc
                sleep(delay * (0.5 + random.random()))  # noqa: S311 - jitter
                delay = min(2.0, delay * 2)
    raise AssertionError("unreachable")


def reset_caches() -> None:
    """Forget cached accounts, clients, the link key and rate buckets (tests; after a secret changes)."""
    forget_accounts()
    _clients.clear()
    _rate.reset()
    with _link_key_lock:
        _link_key.clear()


def _key_names(model_cls: type) -> tuple[str, str | None]:
    attrs = model_cls.get_attributes()
    hash_name = next(a.attr_name for a in attrs.values() if a.is_hash_key)
    range_name = next((a.attr_name for a in attrs.values() if a.is_range_key), None)
    return hash_name, range_name


def read_batch(requests: list[tuple[type, str, str | None]]) -> list[Any]:
    """Strongly consistent read of items of several tables, 100 keys per BatchGetItem.

    Half the read cost of TransactGetItems and, unlike it, 100 items in the
    local emulator too (moto caps TransactGetItems at the old limit of 25).
    Unprocessed keys (throttling) are read again, with a short back-off.
    """
    found: dict[tuple[str, str, str | None], Any] = {}
    models = {m.Meta.table_name: m for m, _h, _r in requests}
    unique = list(dict.fromkeys(requests))
    for start in range(0, len(unique), READ_KEYS):
        request_items: dict[str, dict[str, Any]] = {}
        for model_cls, hash_key, range_key in unique[start:start + READ_KEYS]:
            hash_name, range_name = _key_names(model_cls)
            key = {hash_name: {"S": hash_key}}
            if range_name:
                key[range_name] = {"S": range_key}
            request_items.setdefault(model_cls.Meta.table_name, {"Keys": [], "ConsistentRead": True})["Keys"].append(
                key)
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

def _call(appid: str, channel: str, body: dict[str, Any]) -> tuple[str, int | None, str | None, bool]:
    """(result, errcode, msgid, ambiguous) of one WeChat call."""
    _rate.wait(appid)
    try:
        api = _clients.acquire(appid)  # a new client reads the account's secret (SSM): may be throttled
    except Exception:
        logger.warning("no WeChat client for this send; retried later", appid=appid)
        return policy.TRANSIENT, None, None, False  # nothing was sent
    try:
        answer = api.post(PATHS[channel], data=body)
    except WeChatClientException as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        code = exc.errcode if exc.errcode is not None else None
        observability.count("WeChatErrors", errcode=code if code is not None else f"http_{status}")
        return policy.classify(code, status), code, None, False
    except requests.ReadTimeout:
        return policy.TRANSIENT, None, None, True  # WeChat had the request: it may have sent it
    except requests.ConnectTimeout:
        return policy.TRANSIENT, None, None, False  # never connected: nothing was sent
    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
        return policy.TRANSIENT, None, None, _maybe_sent(exc)
    except (requests.RequestException, TokenUnavailable):
        return policy.TRANSIENT, None, None, False
    finally:
        _clients.release(appid, api)
    msgid = answer.get("msgid") if isinstance(answer, dict) else None
    return policy.SENT, 0, str(msgid) if msgid else None, False


def _maybe_sent(exc: Exception) -> bool:
    """Whether a connection error came after the request went out (a reset or an unanswered close).

    Only a failure to connect proves WeChat never had the request; anything
    later (``Connection aborted``, a broken answer) may follow a send, so it
    counts as a late answer (``PushSendAmbiguous``) like a read timeout.
    """
    from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return not isinstance(reason, NewConnectionError | ConnectTimeoutError)


@dataclass
class _Planned:
    """One recipient's send, prepared before any wave starts (so nothing can fail between sends)."""

    recipient: Recipient
    channel: str
    body: dict[str, Any] | None = None
    window: policy.Window | None = None
    reason: str | None = None  # see Outcome.reason


def _prepare(account: Account, message: SendMessage, recipient: Recipient, fan: Fan | None, now: datetime,
             key: str) -> _Planned:
    channel = policy.choose_channel(account, fan, now, message.reach)
    planned = _Planned(recipient, channel)
    if channel == policy.NONE:
        planned.reason = policy.skip_reason(account, fan, message.reach)
        return planned
    if channel == policy.UNREAD:
        planned.reason = policy.SKIP_CROSS_UNIT if message.reach == policy.UNREAD else None
        return planned
    content = message.content
    token = sign_link(account.appid, recipient.openid, content["content_id"], key=key)
    url = links.content_page(account.appid, content["content_id"], src="push", t=token)
    if channel == policy.TEMPLATE:
        planned.body = policy.template_body(account, recipient.openid, content, url, now)
    elif channel == policy.NOTICE:
        planned.body = policy.notice_body(account, recipient.openid, content, url, now)
    else:
        planned.window = policy.open_windows(fan, now)[0]
        planned.body = policy.custom_body(recipient.openid, content, url)
    return planned


def _send(account: Account, planned: _Planned, paused: threading.Event, budget: list[int],
          budget_lock: threading.Lock) -> Outcome:
    openid, channel = planned.recipient.openid, planned.channel
    if paused.is_set():
        return Outcome(openid, channel, policy.PAUSED)
    if channel == policy.TEMPLATE:
        with budget_lock:
            if budget[0] <= 0:
                return Outcome(openid, channel, policy.PAUSED, errcode=Errcode.DAILY_QUOTA)
            budget[0] -= 1
    sent_at = time.time()
    result, code, msgid, ambiguous = _call(account.appid, channel, planned.body or {})
    if result == policy.PAUSED:
        paused.set()
    if channel == policy.TEMPLATE and result != policy.SENT:
        with budget_lock:
            budget[0] += 1
    outcome = Outcome(openid, channel, result, code, msgid, planned.window, ambiguous=ambiguous, sent_at=sent_at)
    if channel == policy.CUSTOM and result == policy.STOPPED and code in policy.WINDOW_CODES:
        outcome.fallback_unread = True  # the window closed under us: the item waits in his unread list
    return outcome


def _send_correlated(correlation: str | None, account: Account, planned: _Planned, paused: threading.Event,
                     budget: list[int], budget_lock: threading.Lock) -> Outcome:
    """``_send`` in a pool thread, under the batch's correlation id (the thread served other batches before)."""
    observability.correlate(correlation)
    return _send(account, planned, paused, budget, budget_lock)


def _backoff(tries: int) -> int:
    return int(min(MAX_DELAY, BACKOFF_BASE * 2 ** tries + random.uniform(0, BACKOFF_BASE)))  # noqa: S311


def pause_until(code: int | None, now: datetime) -> float:
    """How long a pause answer stops the account: 45011 about a minute, 45009 until China midnight."""
    if code == Errcode.MINUTE_QUOTA:
        return now.timestamp() + MINUTE_PAUSE
    return policy.next_quota_reset(now).timestamp()


# ------------------------------------------------------------------ recording

def _entry(message: SendMessage, fan: Fan | None, o: Outcome, now: datetime, day: str) -> Entry:
    """What recording one outcome adds to the batch record (counts, fan marks, routes)."""
    entry = Entry(o.openid)
    c = entry.counts
    c[f"stat.planned_{PLANNED_FOR_CHANNEL.get(o.channel, 'none')}"] += 1  # analytics: pushes planned by channel
    reached = False
    if o.result == policy.SENT:
        c["stat.pushes_sent"] += 1
        c[f"stat.{STAT_FOR_CHANNEL[o.channel]}"] += 1
        c[f"job.{JOB_FOR_CHANNEL[o.channel]}"] += 1
        reached = True
        if o.channel == policy.TEMPLATE:
            c[f"quota.{day}.template_sent"] += 1
            if o.msgid and o.msgid.isdigit():
                entry.routes.add(f"{int((o.sent_at or now.timestamp()) // 60)}:{o.msgid}")
        if o.channel == policy.CUSTOM and o.window is not None:
            entry.fan_actions += policy.window_actions(o.window, o.window.used + 1)
    elif o.result == "queued" or o.fallback_unread:
        added, dropped = policy.unread_update(fan, message.content["content_id"])
        if added:
            entry.fan_actions.append(Fan.unread_content.add(added))
        if dropped:
            _drop_unread_later(message.appid, o.openid, dropped)
        if o.fallback_unread and fan is not None:
            entry.fan_actions += policy.close_window_actions(fan, now)
        c["stat.pushes_unread"] += 1
        c["job.queued_unread"] += 1
        if o.reason:  # the cross-unit policy: listed, never pushed, so not in this account's digest either
            c[f"job.unread_{o.reason}"] += 1
        else:
            c[f"quota.{day}.digest"] = 1
        reached = True
    elif o.result == policy.STOPPED:
        entry.fan_actions.append(Fan.stopped_channels.add({policy.stop_entry(o.channel, o.errcode or 0)}))
        c["stat.pushes_stopped"] += 1
        c["job.stopped"] += 1
    elif o.result == "suppressed":
        c["stat.pushes_suppressed"] += 1
        c["job.suppressed"] += 1
        c[f"job.skipped_{o.reason or policy.SKIP_CHANNEL_STOPPED}"] += 1
    else:
        c["stat.pushes_failed"] += 1
        c["job.failed"] += 1
    if reached:
        by_openid = {r.openid: r for r in message.recipients}
        recipient = by_openid.get(o.openid)
        for i in recipient.screens if recipient else []:
            if i < len(message.screens):
                c[f"screen.{message.screens[i]}"] += 1
    return entry


def _drop_unread_later(appid: str, openid: str, dropped: set[str]) -> None:
    """Trim a full unread list (a set cannot be added to and trimmed in one update); best effort."""
    try:
        Fan(appid, openid).update(actions=[Fan.unread_content.delete(dropped)])
    except Exception:  # the cap is a nicety, never a reason to fail a batch
        logger.warning("could not trim unread list", appid=appid)


def _record_pause(appid: str, day: str, until: float, code: int, now: datetime) -> None:
    """The account's pause, at once and apart from any batch (other batches must see it)."""
    try:
        PushQuota(appid, day).update(actions=[
            PushQuota.paused_until.set(int(until)), PushQuota.pause_code.set(code),
            PushQuota.expires_at.set(now + timedelta(days=3))])
    except Exception:  # the retry message carries the delay anyway
        logger.warning("could not record the account's pause", appid=appid)


# ------------------------------------------------------------------ the batch

def process(body: dict[str, Any], *, now: datetime | None = None, slots: SendWindow | None = None,
            deadline: Deadline | None = None, pool: ThreadPoolExecutor | None = None) -> dict[str, int]:
    """Handle one send-queue message; returns counts by result.  Raises ``RetryLater``/``DeadlineReached``."""
    message = SendMessage.model_validate(body)
    now = now or datetime.now(UTC)
    window = slots if isinstance(slots, SendWindow) else SendWindow(sends_in_flight())
    deadline = deadline or Deadline(None)
    try:
        account = _account(message.appid, message.account_revision)
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
    owner = record is None or message.attempt >= ledger.retry_attempt
    todo = [r for r in message.recipients
            if r.openid not in ledger.done and (owner or r.openid not in ledger.pending)]
    if not todo:
        if ledger.unflushed:
            ledger.write([], now, flush=True)
            _unless_flushed(ledger)
        return {"skipped": len(message.recipients)}

    tally = Tally()
    paused_until = float(quota.paused_until) if quota and quota.paused_until else 0.0
    if paused_until > now.timestamp():
        tally.retry = list(todo)
        tally.paused_until = paused_until
    else:
        key = link_key()  # before any send: an SSM failure sends the batch back whole, nothing sent
        planned = [_prepare(account, message, r, fans[r.openid], now, key) for r in todo]
        _run_waves(account, message, planned, fans, ledger, tally, window, deadline, now, day, pool,
                   int(quota.template_sent or 0) if quota else 0)

    return _finish(message, account, ledger, fans, tally, now, day)


def _run_waves(account: Account, message: SendMessage, planned: list[_Planned], fans: dict[str, Fan | None],
               ledger: BatchLedger, tally: Tally, window: SendWindow, deadline: Deadline, now: datetime, day: str,
               pool: ThreadPoolExecutor | None, quota_sent: int) -> None:
    """Send in waves that are each recorded before their places in the window are given back."""
    local = [p for p in planned if p.channel in (policy.NONE, policy.UNREAD)]
    calls = [p for p in planned if p.channel not in (policy.NONE, policy.UNREAD)]
    unrecorded: list[Outcome] = [Outcome(p.recipient.openid, p.channel,
                                         "suppressed" if p.channel == policy.NONE else "queued", reason=p.reason)
                                 for p in local]
    tally.outcomes += unrecorded
    budget = [policy.template_quota(account) - quota_sent]
    paused, lock = threading.Event(), threading.Lock()
    correlation = observability.correlation_id()  # the send threads are shared by the invocation's batches
    held = 0
    own_pool = pool is None
    pool = pool or ThreadPoolExecutor(max_workers=window.size)
    try:
        while calls and not paused.is_set():
            if not deadline.can_start_wave():
                tally.stopped_by_deadline = True
                break
            wanted = min(window.size, len(calls))
            if held == 0:
                held = window.take(wanted, timeout=max(0.0, min(5.0, deadline.seconds_left() - 12)))
                if held == 0:
                    continue  # no place yet; the deadline is checked again
            elif held < wanted:
                held += window.take_more(wanted - held)
            elif held > wanted:
                window.give(held - wanted)
                held = wanted
            wave, calls = calls[:held], calls[held:]
            futures = [pool.submit(_send_correlated, correlation, account, p, paused, budget, lock) for p in wave]
            outcomes = [f.result() for f in futures]
            tally.outcomes += outcomes
            finished = [o for o in outcomes if o.result not in (policy.TRANSIENT, policy.PAUSED)]
            _note_outcomes(outcomes, tally, now)
            if calls and not paused.is_set() and deadline.can_start_wave():
                # Record this wave before the next starts: the window's places are released only after it.
                ledger.write([_entry(message, fans.get(o.openid), o, now, day) for o in unrecorded + finished],
                             now, flush=False)
                tally.finished |= {o.openid for o in unrecorded + finished}
                unrecorded = []
            else:
                unrecorded += finished
        for p in calls:  # not started: paused, or out of time
            if paused.is_set():
                tally.retry.append(p.recipient)
        tally.finished |= {o.openid for o in unrecorded}
        tally.unrecorded, tally.held, tally.window = unrecorded, held, window
    except BaseException:
        window.give(held)
        raise
    finally:
        if own_pool:
            pool.shutdown(wait=False)


def _note_outcomes(outcomes: list[Outcome], tally: Tally, now: datetime) -> None:
    for o in outcomes:
        if o.result == policy.TRANSIENT:
            metrics.count("PushSendRetried")
            if o.ambiguous:
                metrics.count("PushSendAmbiguous")
        if o.result == policy.PAUSED and o.errcode in policy.PAUSE_CODES:
            until = pause_until(o.errcode, now)
            if tally.paused_until is None or until > tally.paused_until:
                tally.paused_until, tally.pause_code = until, o.errcode


def _finish(message: SendMessage, account: Account, ledger: BatchLedger, fans: dict[str, Fan | None], tally: Tally,
            now: datetime, day: str) -> dict[str, int]:
    """The retry message (before the last write), the last write with the flush, the result."""
    window, held, unrecorded = tally.window, tally.held, tally.unrecorded
    try:
        by_openid = {r.openid: r for r in message.recipients}
        for o in tally.outcomes:
            if o.result in (policy.TRANSIENT, policy.PAUSED) and by_openid[o.openid] not in tally.retry:
                tally.retry.append(by_openid[o.openid])
        if tally.paused_until and tally.pause_code:
            _record_pause(message.appid, day, tally.paused_until, tally.pause_code, now)
        give_up = bool(tally.retry) and tally.paused_until is None and message.tries + 1 >= MAX_TRIES
        next_attempt = max(message.attempt, ledger.retry_attempt) + 1
        retry = None
        if tally.retry and not give_up:
            delay = (min(MAX_DELAY, max(1, int(tally.paused_until - now.timestamp())))
                     if tally.paused_until else _backoff(message.tries))
            retry_ids = {r.openid for r in tally.retry}
            owner = message.attempt >= ledger.retry_attempt
            keep = ledger.pending - tally.finished - retry_ids - ledger.done if not owner else set()
            retry_message = message.model_copy(update={
                "attempt": next_attempt, "tries": message.tries + (0 if tally.paused_until else 1),
                "recipients": tally.retry + [r for r in message.recipients if r.openid in keep],
            })
            send_json(get_settings().send_queue_name, retry_message.wire(), delay_seconds=delay)
            retry = (retry_ids, next_attempt)
        entries = [_entry(message, fans.get(o.openid), o, now, day) for o in unrecorded]
        ledger.write(entries, now, flush=True, retry=retry)
    finally:
        if window is not None:
            window.give(held)
    counts = Counter(o.result for o in tally.outcomes)
    for (channel, result), n in Counter((o.channel, o.result) for o in tally.outcomes).items():
        observability.count("Pushes", n, channel=channel, outcome=result)
    logger.info("push batch done", job_id=message.job_id, appid=message.appid, **{str(k): v for k, v in counts.items()})
    if tally.paused_until and not tally.outcomes:
        counts["deferred"] = len(tally.retry)
    if tally.stopped_by_deadline:
        raise DeadlineReached(f"{message.job_id}/{message.batch_id}: out of time")
    if give_up:
        raise RetryLater(f"{len(tally.retry)} recipients still failing after {MAX_TRIES} tries")
    if retry is None:  # a retry message processes the batch again and flushes; without one, SQS must
        _unless_flushed(ledger)
    return dict(counts)


def _unless_flushed(ledger: BatchLedger) -> None:
    """Leave the message to SQS while the batch still owes counts to the hot items (its flush kept conflicting).

    The redelivery finds every recipient done and only flushes (exactly once: the flush is conditional on the
    record's version); after the queue's receive limit the message waits in the DLQ, counts still in the record.
    """
    if ledger.unflushed:
        raise RetryLater(f"batch {ledger.job_id}/{ledger.batch_id}: counts not yet flushed to the job and stats")


def handle_records(records: list[tuple[str, str]], remaining_ms: Callable[[], int] | None = None) -> list[str]:
    """Process (message id, body) pairs; returns the ids that failed (for ``batchItemFailures``).

    The batches of one invocation run side by side (one's DynamoDB reads and
    writes overlap another's sends) while the invocation's unrecorded sends
    stay within one ``SendWindow``.  A batch the deadline stopped, or never
    started, goes back unchanged: re-enqueued as it is (failing it would
    count a receive towards the DLQ), or reported failed if that fails too.
    """
    deadline = Deadline(remaining_ms)
    valid: list[tuple[str, dict[str, Any]]] = []
    for message_id, raw in records:
        try:
            body = json.loads(raw)
            SendMessage.model_validate(body)
        except ValueError as exc:  # pydantic's ValidationError is a ValueError too; retrying cannot help
            logger.error("invalid send message dropped", error=str(exc)[:300])
            continue
        valid.append((message_id, body))
    if not valid:
        return []

    window = SendWindow(sends_in_flight())  # shared by the invocation's batches: the duplicate bound
    back: list[tuple[str, dict[str, Any]]] = []
    back_lock = threading.Lock()

    with ThreadPoolExecutor(max_workers=window.size) as sends:
        def run(message_id: str, body: dict[str, Any]) -> str | None:
            observability.correlate(body)  # this worker thread's batch
            if not deadline.can_start_wave():
                with back_lock:
                    back.append((message_id, body))
                return None
            try:
                process(body, slots=window, deadline=deadline, pool=sends)
                return None
            except DeadlineReached:
                with back_lock:
                    back.append((message_id, body))
                return None
            except RetryLater as exc:
                logger.warning("push batch left for SQS redelivery", reason=str(exc))
            except LedgerWriteFailed as exc:
                logger.error("push batch could not be recorded; SQS will redeliver it", reason=str(exc))
            except Exception:
                logger.exception("push batch failed; SQS will redeliver it")
            return message_id

        with ThreadPoolExecutor(max_workers=min(BATCHES_IN_PARALLEL, len(valid))) as batches:
            results = list(batches.map(lambda pair: run(*pair), valid))
    failed = [message_id for message_id in results if message_id]
    if back:
        try:
            send_json_batch(get_settings().send_queue_name, [body for _id, body in back])
        except Exception:
            logger.exception("could not re-enqueue batches stopped by the deadline; SQS will redeliver them")
            failed += [message_id for message_id, _body in back]
    metrics.flush()
    return failed
