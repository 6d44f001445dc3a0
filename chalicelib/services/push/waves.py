"""A batch's sends in waves, each recorded before its places in the send window are given back.

The window (``pacing.SendWindow``) is shared by the invocation's batches: a
wave takes up to ``size`` places, its sends run on the invocation's send
pool, and the wave is written to the batch record (``ledger``) before the
next wave starts -- so a crash re-sends at most one window of sends.  The
last wave of a batch is recorded by the sender's last write, with the flush.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib import observability
from chalicelib.models.accounts import Account
from chalicelib.models.fans import Fan
from chalicelib.services.push import channels, metrics, policy
from chalicelib.services.push.channels import Outcome, Planned, TemplateBudget
from chalicelib.services.push.entries import Entry, entry_for
from chalicelib.services.push.ledger import BatchLedger
from chalicelib.services.push.messages import Recipient, SendMessage
from chalicelib.services.push.pacing import Deadline, SendWindow
from chalicelib.wechat.errors import Errcode

MINUTE_PAUSE = 65  # 45011: WeChat's per-minute frequency limit; a little over a minute


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


def pause_until(code: int | None, now: datetime) -> float:
    """How long a pause answer stops the account: 45011 about a minute, 45009 until China midnight."""
    if code == Errcode.MINUTE_QUOTA:
        return now.timestamp() + MINUTE_PAUSE
    return policy.next_quota_reset(now).timestamp()


@dataclass
class Batch:
    """One processing of one send message: what it read and where it stands."""

    message: SendMessage
    account: Account
    ledger: BatchLedger
    fans: dict[str, Fan | None]
    now: datetime
    day: str
    tally: Tally = field(default_factory=Tally)

    def entries(self, outcomes: list[Outcome]) -> list[Entry]:
        return [entry_for(self.message, self.fans.get(o.openid), o, self.now, self.day) for o in outcomes]


class Waves:
    """Send in waves that are each recorded before their places in the window are given back."""

    def __init__(
        self, batch: Batch, window: SendWindow, deadline: Deadline, pool: ThreadPoolExecutor | None, quota_sent: int
    ) -> None:
        self.batch, self.window, self.deadline, self.pool = batch, window, deadline, pool
        self.budget = TemplateBudget(policy.template_quota(batch.account) - quota_sent)
        self.paused = threading.Event()
        self.correlation = observability.correlation_id()  # the send threads are shared by the invocation's batches
        self.held = 0
        self.unrecorded: list[Outcome] = []

    def run(self, planned: list[Planned]) -> None:
        tally = self.batch.tally
        self.unrecorded = [p.local_outcome() for p in planned if not p.calls_wechat]
        tally.outcomes += self.unrecorded
        calls = [p for p in planned if p.calls_wechat]
        own_pool = self.pool is None
        self.pool = self.pool or ThreadPoolExecutor(max_workers=self.window.size)
        try:
            calls = self._send_all(calls)
            if self.paused.is_set():  # not started: paused (or out of time, then the message goes back)
                tally.retry += [p.recipient for p in calls]
            tally.finished |= {o.openid for o in self.unrecorded}
            tally.unrecorded, tally.held, tally.window = self.unrecorded, self.held, self.window
        except BaseException:
            self.window.give(self.held)
            raise
        finally:
            if own_pool:
                self.pool.shutdown(wait=False)

    def _send_all(self, calls: list[Planned]) -> list[Planned]:
        """Waves until everything is sent, the account pauses or time runs out; returns what was not started."""
        while calls and not self.paused.is_set():
            if not self.deadline.can_start_wave():
                self.batch.tally.stopped_by_deadline = True
                break
            if not self._places(min(self.window.size, len(calls))):
                continue  # no place yet; the deadline is checked again
            wave, calls = calls[: self.held], calls[self.held :]
            self._send_wave(wave, more_to_come=bool(calls))
        return calls

    def _places(self, wanted: int) -> bool:
        """Hold exactly ``wanted`` places of the window (fewer if others hold them); False if none came."""
        if self.held == 0:
            self.held = self.window.take(wanted, timeout=max(0.0, min(5.0, self.deadline.seconds_left() - 12)))
        elif self.held < wanted:
            self.held += self.window.take_more(wanted - self.held)
        elif self.held > wanted:
            self.window.give(self.held - wanted)
            self.held = wanted
        return self.held > 0

    def _send_wave(self, wave: list[Planned], *, more_to_come: bool) -> None:
        batch, tally = self.batch, self.batch.tally
        appid = batch.account.appid
        pool = self.pool
        assert pool is not None
        futures = [
            pool.submit(channels.send_correlated, self.correlation, appid, p, self.paused, self.budget) for p in wave
        ]
        outcomes = [f.result() for f in futures]
        tally.outcomes += outcomes
        finished = [o for o in outcomes if o.result not in (policy.TRANSIENT, policy.PAUSED)]
        note_outcomes(outcomes, tally, batch.now)
        if more_to_come and not self.paused.is_set() and self.deadline.can_start_wave():
            # Record this wave before the next starts: the window's places are released only after it.
            recorded = self.unrecorded + finished
            batch.ledger.write(batch.entries(recorded), batch.now, flush=False)
            tally.finished |= {o.openid for o in recorded}
            self.unrecorded = []
        else:
            self.unrecorded += finished


def note_outcomes(outcomes: list[Outcome], tally: Tally, now: datetime) -> None:
    for o in outcomes:
        if o.result == policy.TRANSIENT:
            metrics.count("PushSendRetried")
            if o.ambiguous:
                metrics.count("PushSendAmbiguous")
        if o.result == policy.PAUSED and o.errcode in policy.PAUSE_CODES:
            until = pause_until(o.errcode, now)
            if tally.paused_until is None or until > tally.paused_until:
                tally.paused_until, tally.pause_code = until, o.errcode
