"""Everything the stand-in remembers, as plain dataclasses under one :class:`State`.

Why one object: all of it is guarded by one lock and ``reset`` is a single
assignment, so no test can see a half-forgotten stand-in.
"""

from __future__ import annotations

import itertools
import random
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

TOKEN_TTL = 7200

# Customer-service windows: what opens them, for how long, how many sends.
WINDOW_RULES: dict[str, tuple[str, float, int]] = {
    "message": ("message", 48 * 3600, 5),
    "follow": ("event", 60, 3),
    "scan": ("event", 60, 3),
    "click": ("event", 60, 3),
}
INTERACTION_KINDS = set(WINDOW_RULES)


def beijing_day(now: float) -> str:
    """WeChat quotas (and its data cube) count days at midnight Beijing time (UTC+8)."""
    return time.strftime("%Y-%m-%d", time.gmtime(now + 8 * 3600))


def new_token() -> str:
    return secrets.token_urlsafe(96)


@dataclass
class Window:
    """One customer-service window: opened by an interaction, limited in time and sends."""

    opened_at: float
    duration: float
    limit: int
    used: int = 0

    def usable(self, now: float) -> bool:
        return self.opened_at <= now < self.opened_at + self.duration and self.used < self.limit


@dataclass
class Fan:
    """What WeChat knows about one openid of one account."""

    openid: str
    subscribed: bool = False
    subscribe_time: int = 0
    scene: str = "ADD_SCENE_OTHERS"
    qr_scene: int = 0
    qr_scene_str: str = ""
    tags: set[int] = field(default_factory=set)
    windows: dict[str, Window] = field(default_factory=dict)
    # template_id -> remaining sends; None means a long-term subscription.
    subscribe_credits: dict[str, int | None] = field(default_factory=dict)

    def open_window(self, kind: str, at: float) -> None:
        """An interaction of ``kind`` opens (or reopens) its customer-service window."""
        slot, duration, limit = WINDOW_RULES[kind]
        self.windows[slot] = Window(at, duration, limit)


@dataclass
class Account:
    """One official account (appid) and everything WeChat stores for it."""

    appid: str
    secret: str
    account_type: str
    fans: dict[str, Fan] = field(default_factory=dict)
    legacy_token: str | None = None
    stable_token: str | None = None
    menu: dict[str, Any] | None = None
    permanent_qr: dict[tuple[str, str], str] = field(default_factory=dict)
    clientmsgids: dict[str, float] = field(default_factory=dict)
    # datacube: Beijing day -> [new_user, cancel_user], and seeded cumulate_user figures
    user_days: dict[str, list[int]] = field(default_factory=dict)
    cumulate: dict[str, int] = field(default_factory=dict)

    def fan(self, openid: str) -> Fan:
        """Return the fan record, creating it: an openid becomes known once seen."""
        return self.fans.setdefault(openid, Fan(openid))


@dataclass
class Token:
    """An access token; ``state`` distinguishes 'not latest' (40001) from expired (42001)."""

    value: str
    appid: str
    expires_at: float
    state: str = "ok"  # "ok" | "superseded" | "expired"


@dataclass
class QRCode:
    appid: str
    ticket: str
    url: str
    action_name: str
    scene: str
    expires_at: float | None


@dataclass
class OAuthCode:
    appid: str
    openid: str
    scope: str
    expires_at: float
    used: bool = False


@dataclass
class FailureRule:
    """An injected failure; ``count`` None means until cleared."""

    errcode: int
    path: str | None
    count: int | None
    probability: float | None
    openid: str | None
    http_status: int


@dataclass
class State:
    """All mutable state, so ``reset`` is a single assignment."""

    seed: int
    accounts: dict[str, Account] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    qrcodes: dict[str, QRCode] = field(default_factory=dict)  # by ticket and by url
    oauth_codes: dict[str, OAuthCode] = field(default_factory=dict)
    inboxes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)
    failures: list[FailureRule] = field(default_factory=list)
    latency: dict[str | None, float] = field(default_factory=dict)
    answer_delay: dict[str | None, float] = field(default_factory=dict)  # processed at once, answered late
    dropped_answers: dict[str | None, int] = field(default_factory=dict)  # processed, connection then closed
    quotas: dict[tuple[str, str], int] = field(default_factory=dict)
    usage: dict[tuple[str, str, str], int] = field(default_factory=dict)
    window_enforcement: bool = True
    clock_offset: float = 0.0
    msgids: Iterator[int] = field(default_factory=lambda: itertools.count(1000000001))
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
