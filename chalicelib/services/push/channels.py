"""One recipient's send on its channel: the prepared body, the WeChat call, and what its answer means.

The push channel *rules* (which channel a fan gets, the bodies, error-code
classes) are ``policy``'s; this module carries them out with wechatpy's send
calls (``message.send_template``, ``message.send_subscribe_message``).  They
keep our semantics exactly: each is a thin wrapper over the client's
``_request`` (our token retry included), with the client's timeout, and
lets ``requests``' own exceptions through -- so a connection that never
opened (nothing sent: retry freely) is still told apart from one that broke
after the request went out (it may have been sent: ``PushSendAmbiguous``),
and WeChat's error codes still arrive as ``WeChatClientException``.  The
customer-service card stays a plain ``post`` of its body: wechatpy's
``send_articles`` adds ``"picurl": null`` to every article, a change of the
wire format we have no way to check against WeChat here.

Everything that can fail before a send (the link key from SSM, the fan's
window, the body) happens in ``prepare``, before any wave starts, so nothing
fails *between* sends of a batch.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from botocore.exceptions import BotoCoreError, ClientError
from wechatpy.exceptions import WeChatClientException

from chalicelib import links, observability
from chalicelib.logs import logger
from chalicelib.models.accounts import Account
from chalicelib.models.fans import Fan
from chalicelib.page_tokens import sign_link
from chalicelib.secrets import app_signing_key
from chalicelib.services.gateway.tokens import TokenUnavailable, client_for
from chalicelib.services.push import bodies, policy
from chalicelib.services.push.messages import Recipient, SendMessage
from chalicelib.services.push.pacing import SEND_TIMEOUT, AccountRate
from chalicelib.wechat.errors import Errcode

KEY_ATTEMPTS = 6
PATHS = {
    policy.TEMPLATE: "message/template/send",
    policy.NOTICE: "message/subscribe/bizsend",
    policy.CUSTOM: "message/custom/send",
}

_rate = AccountRate()


class RetryLater(Exception):
    """The message itself must be redelivered by SQS (reported in ``batchItemFailures``)."""


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
class Planned:
    """One recipient's send, prepared before any wave starts (so nothing can fail between sends)."""

    recipient: Recipient
    channel: str
    body: dict[str, Any] | None = None
    window: policy.Window | None = None
    reason: str | None = None  # see Outcome.reason

    @property
    def calls_wechat(self) -> bool:
        return self.channel not in (policy.NONE, policy.UNREAD)

    def local_outcome(self) -> Outcome:
        """The outcome of a recipient who needs no WeChat call (listed as unread, or suppressed)."""
        result = "suppressed" if self.channel == policy.NONE else "queued"
        return Outcome(self.recipient.openid, self.channel, result, reason=self.reason)


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


def reset() -> None:
    """Forget the pooled clients, the link key and the rate buckets (tests; after a secret changes)."""
    _clients.clear()
    _rate.reset()
    with _link_key_lock:
        _link_key.clear()


def prepare(
    account: Account, message: SendMessage, recipient: Recipient, fan: Fan | None, now: datetime, key: str
) -> Planned:
    """The channel ``policy`` chooses for this fan now, and the body to send on it."""
    channel = policy.choose_channel(account, fan, now, message.reach)
    planned = Planned(recipient, channel)
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
        planned.body = bodies.template_body(account, recipient.openid, content, url, now)
    elif channel == policy.NOTICE:
        planned.body = bodies.notice_body(account, recipient.openid, content, url, now)
    else:
        planned.window = policy.open_windows(fan, now)[0]
        planned.body = bodies.custom_body(recipient.openid, content, url)
    return planned


def call(appid: str, channel: str, body: dict[str, Any]) -> tuple[str, int | None, str | None, bool]:
    """(result, errcode, msgid, ambiguous) of one WeChat call."""
    _rate.wait(appid)
    try:
        api = _clients.acquire(appid)  # a new client reads the account's secret (SSM): may be throttled
    except Exception:
        logger.warning("no WeChat client for this send; retried later", appid=appid)
        return policy.TRANSIENT, None, None, False  # nothing was sent
    try:
        answer = _SENDS[channel](api, body)
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
        return policy.TRANSIENT, None, None, maybe_sent(exc)
    except (requests.RequestException, TokenUnavailable):
        return policy.TRANSIENT, None, None, False
    finally:
        _clients.release(appid, api)
    msgid = answer.get("msgid") if isinstance(answer, dict) else None
    return policy.SENT, 0, str(msgid) if msgid else None, False


def _send_template(api: Any, body: dict[str, Any]) -> Any:
    return api.message.send_template(body["touser"], body["template_id"], body["data"], url=body.get("url"))


def _send_notice(api: Any, body: dict[str, Any]) -> Any:
    return api.message.send_subscribe_message(body["touser"], body["template_id"], body["data"], page=body.get("page"))


def _send_custom(api: Any, body: dict[str, Any]) -> Any:
    return api.post(PATHS[policy.CUSTOM], data=body)


_SENDS: dict[str, Callable[[Any, dict[str, Any]], Any]] = {
    policy.TEMPLATE: _send_template,
    policy.NOTICE: _send_notice,
    policy.CUSTOM: _send_custom,
}


def maybe_sent(exc: Exception) -> bool:
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


class TemplateBudget:
    """The account's template sends left today, shared by a batch's send threads.

    A place is taken before a template send and given back when the send did
    not go out, so a batch never sends past the daily quota (45009 avoided).
    """

    def __init__(self, left: int) -> None:
        self._left = left
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self._left <= 0:
                return False
            self._left -= 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self._left += 1


def send(appid: str, planned: Planned, paused: threading.Event, budget: TemplateBudget) -> Outcome:
    """Send one prepared recipient, unless the account is paused or out of template quota."""
    openid, channel = planned.recipient.openid, planned.channel
    if paused.is_set():
        return Outcome(openid, channel, policy.PAUSED)
    if channel == policy.TEMPLATE and not budget.take():
        return Outcome(openid, channel, policy.PAUSED, errcode=Errcode.DAILY_QUOTA)
    sent_at = time.time()
    result, code, msgid, ambiguous = call(appid, channel, planned.body or {})
    if result == policy.PAUSED:
        paused.set()
    if channel == policy.TEMPLATE and result != policy.SENT:
        budget.give_back()
    outcome = Outcome(openid, channel, result, code, msgid, planned.window, ambiguous=ambiguous, sent_at=sent_at)
    if channel == policy.CUSTOM and result == policy.STOPPED and code in policy.WINDOW_CODES:
        outcome.fallback_unread = True  # the window closed under us: the item waits in his unread list
    return outcome


def send_correlated(
    correlation: str | None, appid: str, planned: Planned, paused: threading.Event, budget: TemplateBudget
) -> Outcome:
    """``send`` in a pool thread, under the batch's correlation id (the thread served other batches before)."""
    observability.correlate(correlation)
    return send(appid, planned, paused, budget)
