"""WeChat's push rules in one place: which channel may reach which fan, and what an answer means.

Service accounts (服务号)
    Template message (``message/template/send``) to any follower: every data
    value at most 20 characters and free of line breaks (2023 rules), a link
    to the content's phone page.  Subscription notice (``subscribe/bizsend``)
    is used where the template channel is unavailable (no ``template_id``
    configured, or the fan's template channel is stopped) and the account has
    a ``subscribe_template_id``: WeChat itself refuses (43101) fans who have
    not accepted that notice, which then stops the notice channel for them.

Subscription accounts (订阅号)
    Customer-service messages only, inside the windows WeChat opens:
    3 messages within 1 minute after a follow, QR scan or menu click
    (``Fan.last_interaction_at``), 5 messages within 48 hours after the fan
    sent a message (``Fan.last_message_at``).  Sends are counted per fan
    against the window start they belong to (``cs_event_*``/``cs_msg_*``).
    Outside a window the content id joins ``Fan.unread_content`` (capped),
    shown first in the reply to his next interaction and on the phone page.

Content of other units (``Account.cross_unit``)
    A fan of account A may follow screens of unit B.  Content of B then
    travels through A's account and quota only if A's owner says so:
    ``push`` (sent like A's own content), ``unread`` (the default: listed in
    the fan's 最新 reply and on the phone pages, never pushed, never in the
    digest) or ``none``.  "Other" means outside A's unit subtree, as
    shared/CLARIFICATIONS.md reads it: a superior unit's content included.  A
    superior administers A's unit, so it can switch A's policy to ``push``
    itself; until it does, A's quota is A's own.

Answers
    ``STOP_CODES`` stop that channel for that fan (``Fan.stopped_channels``):
    43004 not following (lifted when he follows again), 43019 blacklisted,
    43101 refused the notice, 40003 invalid openid; 45015/45047 (customer
    service window closed / used up) close the current window instead, which
    the fan's next interaction reopens.  ``PAUSE_CODES`` (45009 daily quota,
    45011 frequency) pause the account until the quota resets at China
    midnight.  -1, HTTP 5xx, timeouts and connection errors are transient.
    Anything else (e.g. 47003 a malformed template, 40037 a wrong template
    id) is a permanent failure for that send: retrying cannot help.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.models.accounts import Account
from chalicelib.models.fans import Fan
from chalicelib.models.stats import CHINA_TZ
from chalicelib.wechat import errors

TEMPLATE, NOTICE, CUSTOM = "template", "subscribe", "custom"  # channel names as stored in Fan.stopped_channels
UNREAD, NONE = "unread", "none"
PUSH = "push"  # reach of a job's content through one account: push | unread | none
CROSS_UNIT_POLICIES = (PUSH, UNREAD, NONE)
DEFAULT_CROSS_UNIT = UNREAD
# Why a fan is skipped (counted per reason on the job, shown in the content's push status)
SKIP_NOT_FOLLOWING, SKIP_NO_CHANNEL, SKIP_CHANNEL_STOPPED, SKIP_CROSS_UNIT = (
    "not_following",
    "no_channel",
    "channel_stopped",
    "cross_unit_policy",
)
SKIP_REASONS = (SKIP_NOT_FOLLOWING, SKIP_NO_CHANNEL, SKIP_CHANNEL_STOPPED, SKIP_CROSS_UNIT)
UNFOLLOWED_SUFFIX = ":unfollowed"  # a stop caused by 43004; the gateway clears it on follow

STOP_CODES = errors.FAN_UNREACHABLE
WINDOW_CODES = errors.WINDOW_ERRORS
PAUSE_CODES = errors.QUOTA_ERRORS
TRANSIENT_CODES = errors.BUSY_ERRORS
RECEIPT_BLOCK = "failed:user block"

DEFAULT_TEMPLATE_QUOTA = 100_000
EVENT_WINDOW = timedelta(minutes=1)
EVENT_WINDOW_SENDS = 3
MESSAGE_WINDOW = timedelta(hours=48)
MESSAGE_WINDOW_SENDS = 5
UNREAD_CAP = 30


# ------------------------------------------------------------------ outcomes

SENT, STOPPED, PAUSED, TRANSIENT, FAILED = "sent", "stopped", "paused", "transient", "failed"


def classify(errcode: int | None, http_status: int | None = None) -> str:
    """What a WeChat answer means for the pipeline (``errcode`` None = no JSON answer at all)."""
    if errcode is None or (http_status is not None and http_status >= 500) or errcode in TRANSIENT_CODES:
        return TRANSIENT
    if errcode == 0:
        return SENT
    if errcode in PAUSE_CODES:
        return PAUSED
    if errcode in STOP_CODES:
        return STOPPED
    if errcode in errors.TOKEN_ERRORS:
        return TRANSIENT  # the client already refreshed once; the next attempt gets a fresh token
    return FAILED


def stop_entry(channel: str, errcode: int) -> str:
    """The ``Fan.stopped_channels`` value a stop code leaves behind."""
    return f"{channel}{UNFOLLOWED_SUFFIX}" if errcode == errors.Errcode.REQUIRE_SUBSCRIBE else channel


def unfollow_stops() -> set[str]:
    """Entries to clear when the fan follows again."""
    return {f"{c}{UNFOLLOWED_SUFFIX}" for c in (TEMPLATE, NOTICE, CUSTOM)}


def is_stopped(fan: Fan | None, channel: str) -> bool:
    stopped = (fan.stopped_channels or set()) if fan else set()
    return channel in stopped or f"{channel}{UNFOLLOWED_SUFFIX}" in stopped


# ------------------------------------------------------------------ quota days


def quota_day(moment: datetime) -> str:
    return moment.astimezone(CHINA_TZ).strftime("%Y-%m-%d")


def next_quota_reset(moment: datetime) -> datetime:
    """WeChat's daily quotas reset at midnight China Standard Time."""
    local = moment.astimezone(CHINA_TZ)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.astimezone(UTC)


def template_quota(account: Account) -> int:
    return int(account.template_quota or DEFAULT_TEMPLATE_QUOTA)


# ------------------------------------------------------------------ windows


@dataclass(frozen=True)
class Window:
    """An open customer-service window of one fan: which counter, since when, sends left."""

    slot: str  # "event" | "message"
    opened_at: datetime
    used: int
    limit: int

    @property
    def left(self) -> int:
        return max(0, self.limit - self.used)


def open_windows(fan: Fan | None, now: datetime) -> list[Window]:
    """The fan's windows that are open now, soonest-closing first (as WeChat spends them)."""
    if fan is None:
        return []
    windows = []
    message_at = fan.last_message_at
    event_at = fan.last_interaction_at
    if message_at and now - message_at < MESSAGE_WINDOW:
        used = int(fan.cs_msg_sent or 0) if fan.cs_msg_at == message_at else 0
        windows.append((message_at + MESSAGE_WINDOW, Window("message", message_at, used, MESSAGE_WINDOW_SENDS)))
    # A message also stamps last_interaction_at; only a follow, scan or click opens the 1-minute window.
    if event_at and event_at != message_at and now - event_at < EVENT_WINDOW:
        used = int(fan.cs_event_sent or 0) if fan.cs_event_at == event_at else 0
        windows.append((event_at + EVENT_WINDOW, Window("event", event_at, used, EVENT_WINDOW_SENDS)))
    return [w for _closes, w in sorted(windows, key=lambda pair: pair[0]) if w.left > 0]


def window_actions(window: Window, used: int) -> list[Any]:
    """Fan updates recording ``used`` sends against ``window`` (absolute values: replay-safe)."""
    if window.slot == "event":
        return [Fan.cs_event_at.set(window.opened_at), Fan.cs_event_sent.set(used)]
    return [Fan.cs_msg_at.set(window.opened_at), Fan.cs_msg_sent.set(used)]


def close_window_actions(fan: Fan, now: datetime) -> list[Any]:
    """45015/45047: WeChat says the window is gone; mark every open one used up."""
    actions: list[Any] = []
    for window in open_windows(fan, now):
        actions += window_actions(window, window.limit)
    return actions


# ------------------------------------------------------------------ channel choice


def is_own_content(account_unit_path: str, content_unit_path: str) -> bool:
    """Content of the account's unit subtree (see the module docstring: a superior's content is not)."""
    return content_unit_path.startswith(account_unit_path)


def reach(account: Account, account_unit_path: str | None, content_unit_path: str | None) -> str:
    """How a job's content may reach this account's fans: push, unread or none."""
    if not account_unit_path or not content_unit_path or is_own_content(account_unit_path, content_unit_path):
        return PUSH
    policy = getattr(account, "cross_unit", None)
    return policy if policy in CROSS_UNIT_POLICIES else DEFAULT_CROSS_UNIT


def has_channel(account: Account, content_reach: str = PUSH) -> bool:
    """Whether the account can carry the content to anyone at all (publish refuses push when none can)."""
    if content_reach == NONE:
        return False
    if content_reach == UNREAD or not account.is_service:
        return True
    return bool(account.template_id or account.subscribe_template_id)


def choose_channel(account: Account, fan: Fan | None, now: datetime, content_reach: str = PUSH) -> str:
    """The channel a push to this fan goes through now: template, subscribe, custom, unread or none."""
    if fan is not None and fan.following is False:
        return NONE
    if content_reach == NONE:
        return NONE
    if content_reach == UNREAD:
        return UNREAD
    if account.is_service:
        if account.template_id and not is_stopped(fan, TEMPLATE):
            return TEMPLATE
        if account.subscribe_template_id and not is_stopped(fan, NOTICE):
            return NOTICE
        return NONE
    if not is_stopped(fan, CUSTOM) and open_windows(fan, now):
        return CUSTOM
    return UNREAD


def skip_reason(account: Account, fan: Fan | None, content_reach: str = PUSH) -> str:
    """Why ``choose_channel`` said ``none`` for this fan."""
    if fan is not None and fan.following is False:
        return SKIP_NOT_FOLLOWING
    if content_reach == NONE:
        return SKIP_CROSS_UNIT
    if account.is_service and not (account.template_id or account.subscribe_template_id):
        return SKIP_NO_CHANNEL
    return SKIP_CHANNEL_STOPPED


def unread_update(fan: Fan | None, content_id: str) -> tuple[set[str], set[str]]:
    """(ids to add, ids to drop) so the fan's unread list stays within ``UNREAD_CAP``.

    The set keeps no order, so the drop is deterministic (lowest ids first); the
    phone page mirrors every screen's content anyway, unread is the highlight.
    """
    current = set((fan.unread_content or ()) if fan else ())
    if content_id in current:
        return set(), set()
    excess = len(current) + 1 - UNREAD_CAP
    return {content_id}, set(sorted(current)[:excess]) if excess > 0 else set()
