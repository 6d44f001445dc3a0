"""The audience of a push → batches, deterministically: each fan once, never two accounts in one batch.

How fans are de-duplicated without remembering them: the sparse
``active_by_screen`` index returns each screen's subscribers sorted by
``fan`` (``appid#openid``).  ``merged_fans`` merges the targeted screens'
streams in that order (``heapq.merge``), so all subscriptions of one fan
arrive together and are emitted once, with the list of targeted screens he
follows (for per-screen counts).  Because ``appid`` leads the key, the merged
stream is also grouped by account.

``collect`` cuts a fresh run's batches; ``replay`` rebuilds a stored run's
batches from their boundaries (the last fan key of each), so a re-run keeps
every batch id's recipients whoever subscribed since.  The planner
(``push.planner``) stores, enqueues and counts them.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from chalicelib.logs import logger
from chalicelib.models.accounts import Account
from chalicelib.models.subscriptions import Subscription
from chalicelib.services.push.messages import MAX_RECIPIENTS
from chalicelib.services.push.outcomes import JobAccounts

SERVICE_BATCH = 98  # + the batch record + the quota day = 100 items: one TransactGetItems in the sender
SUBSCRIPTION_BATCH = 40  # subscription accounts update every fan: they must fit the sender's one transaction
BATCHES_PER_RUN = 200
MIN_REMAINING_MS = 15_000


@dataclass
class Batch:
    appid: str
    size: int
    end: str = ""  # the last fan key: the batch's stored boundary
    recipients: list[tuple[str, list[str]]] = field(default_factory=list)


def batch_size_for(account: Account | None) -> int:
    if account is not None and not account.is_service:
        return SUBSCRIPTION_BATCH
    return SERVICE_BATCH


def _stream(index: int, screen_id: str, after: str) -> Iterator[tuple[str, int, str, str]]:
    condition = Subscription.fan > after if after else None
    for sub in Subscription.active_by_screen.query(screen_id, range_key_condition=condition):
        yield sub.fan, index, sub.appid, sub.openid


def merged_fans(screen_ids: list[str], after: str) -> Iterator[tuple[str, str, str, list[str]]]:
    """(fan key, appid, openid, targeted screens he follows) for each fan once, in fan-key order."""
    streams = [_stream(i, sid, after) for i, sid in enumerate(screen_ids)]
    merged = heapq.merge(*streams, key=lambda row: row[0])
    for key, rows in itertools.groupby(merged, key=lambda row: row[0]):
        group = list(rows)
        yield key, group[0][2], group[0][3], [screen_ids[r[1]] for r in group]


def collect(
    screen_ids: list[str], after: str, remaining_ms: Callable[[], int], accounts: JobAccounts
) -> Iterator[Batch | bool]:
    """A fresh run's batches from ``after`` on, then ``True`` if the audience ended in this run, else ``False``."""
    count = 0
    current: Batch | None = None
    for key, appid, openid, screens in merged_fans(screen_ids, after):
        if current is not None and (current.appid != appid or len(current.recipients) >= current.size):
            yield current
            count += 1
            current = None
            if count >= BATCHES_PER_RUN or remaining_ms() < MIN_REMAINING_MS:
                yield False
                return
        if current is None:
            current = Batch(appid, batch_size_for(accounts.get(appid)[0]))
        current.recipients.append((openid, screens))
        current.end = key
    if current is not None:
        yield current
    yield True


def replay(screen_ids: list[str], after: str, ends: list[str]) -> list[Batch]:
    """A stored run's batches, by their boundaries: fans in (previous end, end], whoever subscribed since.

    A fan who subscribed since, inside a batch's range and of its account,
    joins that batch (its record skips everyone already done); one who falls
    between two accounts' ranges is after the run's cursor of neither and is
    not pushed (logged).
    """
    batches = [Batch(end.split("#", 1)[0], 0, end=end) for end in ends]
    i = 0
    for key, appid, openid, screens in merged_fans(screen_ids, after):
        while i < len(ends) and key > ends[i]:
            i += 1
        if i == len(ends):
            break
        if appid != batches[i].appid:
            logger.warning("late subscriber between two accounts' batches not pushed", appid=appid)
            continue
        if len(batches[i].recipients) >= MAX_RECIPIENTS:
            logger.error("re-planned batch full; late subscriber not pushed", appid=appid)
            continue
        batches[i].recipients.append((openid, screens))
    return batches
