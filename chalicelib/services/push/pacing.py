"""How fast and how far a sender may go: the unrecorded-send window, the per-account rate, the deadline.

``SendWindow`` is what makes the duplicate bound true.  A send holds one of
the invocation's ``size`` places from the moment it is started until its
result is *durably recorded* in its batch record -- not merely until WeChat
answers.  So at any moment at most ``size`` sends of one invocation are
unrecorded, and a crash (Lambda killed, process gone) re-sends at most that
many on redelivery.

``AccountRate`` spreads an account's configured sends per second over the
sender functions that may run at once (the send queue's maximum
concurrency), so together they stay under WeChat's rate without talking to
each other.

``Deadline`` is one per invocation: a wave of sends is started only while
there is time to finish it and record it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

SEND_TIMEOUT = 4  # seconds per WeChat call
COMMIT_RESERVE = 8  # seconds kept for recording a wave's results (retries with back-off included)


class SendWindow:
    """At most ``size`` sends started and not yet recorded, across all batches of one invocation."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._free = size
        self._cond = threading.Condition()

    def take(self, wanted: int, *, timeout: float | None = None) -> int:
        """Block until ``wanted`` places (at most ``size``) are free and take them; 0 on timeout.

        Whole waves, not scraps: a batch that took the two places another left
        over would record every two sends (a write each) instead of every 20.
        """
        wanted = max(1, min(wanted, self.size))
        with self._cond:
            if not self._cond.wait_for(lambda: self._free >= wanted, timeout=timeout):
                return 0
            self._free -= wanted
            return wanted

    def take_more(self, wanted: int) -> int:
        """Up to ``wanted`` more places without waiting."""
        with self._cond:
            got = min(wanted, self._free)
            self._free -= got
            return got

    def give(self, count: int) -> None:
        if count <= 0:
            return
        with self._cond:
            self._free += count
            self._cond.notify_all()

    @property
    def unrecorded(self) -> int:
        with self._cond:
            return self.size - self._free


DEFAULT_SENDS_IN_FLIGHT = 20
MAX_SENDS_IN_FLIGHT = 200  # a batch holds at most 200 recipients; more places could never be used


def sends_in_flight() -> int:
    """WeChat calls one sender invocation keeps in flight = its ``SendWindow`` = the duplicate bound.

    ``PUSH_SENDS_IN_FLIGHT`` (default 20).  It is the one knob that trades the
    two: a crash re-sends at most this many, and progress is written once per
    this many sends (docs/push.md, "Cost").  Read per invocation, so an
    environment change applies to the next one.
    """
    try:
        value = int(os.environ.get("PUSH_SENDS_IN_FLIGHT", "") or DEFAULT_SENDS_IN_FLIGHT)
    except ValueError:
        value = DEFAULT_SENDS_IN_FLIGHT
    return max(1, min(MAX_SENDS_IN_FLIGHT, value))


def account_rate_per_process() -> float:
    """Sends per second one sender process may make per account (0 = unlimited).

    ``PUSH_ACCOUNT_RATE`` is the account's budget in sends per second (all
    senders together); ``PUSH_SENDER_CONCURRENCY`` the most sender functions
    that run at once (the event source's maximum concurrency, set in infra).
    """
    rate = float(os.environ.get("PUSH_ACCOUNT_RATE", "100") or 0)
    senders = max(1, int(os.environ.get("PUSH_SENDER_CONCURRENCY", "5") or 1))
    return rate / senders if rate > 0 else 0.0


class AccountRate:
    """A token bucket per appid for this process (burst of one second's worth)."""

    def __init__(
        self,
        per_second: Callable[[], float] = account_rate_per_process,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._per_second = per_second
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def wait(self, appid: str) -> None:
        rate = self._per_second()
        if rate <= 0:
            return
        while True:
            with self._lock:
                now = self._clock()
                tokens, at = self._buckets.get(appid, (max(1.0, rate), now))
                tokens = min(max(1.0, rate), tokens + (now - at) * rate)
                if tokens >= 1 - 1e-9:  # float sums of (1 - t) + t may stop one ulp short of 1
                    self._buckets[appid] = (max(0.0, tokens - 1), now)
                    return
                self._buckets[appid] = (tokens, now)
                pause = max((1 - tokens) / rate, 0.001)
            self._sleep(pause)

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()


class Deadline:
    """The invocation's end, from Lambda's remaining time; ``None`` remaining = no limit (tests, tools)."""

    def __init__(self, remaining_ms: Callable[[], int] | None) -> None:
        self._remaining_ms = remaining_ms

    def seconds_left(self) -> float:
        return float("inf") if self._remaining_ms is None else self._remaining_ms() / 1000

    def can_start_wave(self) -> bool:
        """A wave may start only if it can finish (one send timeout) and be recorded."""
        return self.seconds_left() > SEND_TIMEOUT + COMMIT_RESERVE

    def can_commit(self) -> bool:
        return self.seconds_left() > 1
