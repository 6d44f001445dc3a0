"""The flush: a batch's owed counts moved into the hot items, as many as fit in one transaction.

The batch record keeps ``counts`` (what the batch owes) and ``flushed`` (what
it has paid); the ledger's last write adds ``counts - flushed`` to the job
totals, the quota day, the daily stats of content, account and screens, and
the receipts' routes, in the same transaction as the record's new
``flushed``.  Each kind of item is one *group* that is flushed whole or not
at all, so what is left over is exactly what a later flush still owes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib.models.push import PushJob, PushMsgRoute, PushQuota, route_key
from chalicelib.models.stats import bump
from chalicelib.models.unit_of_work import UnitOfWork

RECORD_TTL = timedelta(days=30)
QUOTA_TTL = timedelta(days=3)


@dataclass(frozen=True)
class BatchIds:
    """Whose counters a batch's flush touches."""

    job_id: str
    appid: str
    content_id: str


@dataclass
class _Group:
    """Items flushed together: the count keys (or receipt routes) they pay off, and how to write them."""

    write: Callable[[], None]
    keys: list[str] = field(default_factory=list)
    routes: set[str] = field(default_factory=set)
    items: int = 1  # the room the check below reserves for it in the transaction


def _job_groups(uow: UnitOfWork, ids: BatchIds, owed: dict[str, int]) -> list[_Group]:
    job = {k: n for k, n in owed.items() if k.startswith("job.")}
    if not job:
        return []

    def write() -> None:
        uow.update(PushJob(ids.job_id), [getattr(PushJob, k[4:]).add(n) for k, n in job.items()])

    return [_Group(write, list(job))]


def _quota_groups(uow: UnitOfWork, ids: BatchIds, owed: dict[str, int], now: datetime) -> list[_Group]:
    quota = {k: n for k, n in owed.items() if k.startswith("quota.")}
    if not quota:
        return []

    def write() -> None:
        for day_key in sorted({k.split(".")[1] for k in quota}):
            acts: list[Any] = [PushQuota.expires_at.set(now + QUOTA_TTL)]
            sent = quota.get(f"quota.{day_key}.template_sent", 0)
            if sent:
                acts.append(PushQuota.template_sent.add(sent))
            if quota.get(f"quota.{day_key}.digest"):
                acts.append(PushQuota.digest_content.add({ids.content_id}))
            uow.update(PushQuota(ids.appid, day_key), acts)

    return [_Group(write, list(quota))]


def _stat_groups(uow: UnitOfWork, ids: BatchIds, owed: dict[str, int], now: datetime) -> list[_Group]:
    stats = {k[5:]: n for k, n in owed.items() if k.startswith("stat.")}
    if not stats:
        return []

    def write() -> None:
        bump(uow, "content", ids.content_id, stats, now)
        bump(uow, "account", ids.appid, stats, now)

    return [_Group(write, [f"stat.{k}" for k in stats], items=2)]


def _screen_groups(uow: UnitOfWork, owed: dict[str, int], now: datetime) -> list[_Group]:
    groups = []
    for key, n in owed.items():
        if key.startswith("screen."):

            def write(screen: str = key[7:], n: int = n) -> None:
                bump(uow, "screen", screen, {"pushes_sent": n}, now)

            groups.append(_Group(write, [key]))
    return groups


def _route_groups(uow: UnitOfWork, ids: BatchIds, routes: set[str], now: datetime) -> list[_Group]:
    """One group per minute of receipts (``<minute>:<msgid>``): the route item the receipt callback reads."""
    by_minute: dict[str, set[str]] = {}
    for entry in routes:
        by_minute.setdefault(entry.split(":", 1)[0], set()).add(entry)
    groups = []
    for minute, entries in sorted(by_minute.items()):

        def write(minute: str = minute, entries: set[str] = entries) -> None:
            values = {f"{e.split(':', 1)[1]}>{ids.job_id}" for e in entries}
            uow.update(
                PushMsgRoute(ids.appid, route_key(int(minute))),
                [PushMsgRoute.routes.add(values), PushMsgRoute.expires_at.set(now + RECORD_TTL)],
            )

        groups.append(_Group(write, routes=entries))
    return groups


def flush_into(
    uow: UnitOfWork,
    ids: BatchIds,
    counts: Counter[str],
    flushed: Counter[str],
    routes: set[str],
    now: datetime,
    room: int,
) -> tuple[Counter[str], set[str]]:
    """Add ``counts - flushed`` to the hot items (as many groups as ``room`` allows); returns the new state.

    Groups are taken in a fixed order and the first that does not fit stops
    the flush: (new ``flushed``, receipt routes still to write).
    """
    owed = {k: counts[k] - flushed[k] for k in counts if counts[k] > flushed[k]}
    groups = (
        _job_groups(uow, ids, owed)
        + _quota_groups(uow, ids, owed, now)
        + _stat_groups(uow, ids, owed, now)
        + _screen_groups(uow, owed, now)
        + _route_groups(uow, ids, routes, now)
    )
    flushed, routes_left = Counter(flushed), set(routes)
    for group in groups:
        if len(uow) + group.items > room:
            break
        group.write()
        for key in group.keys:
            flushed[key] = counts[key]
        routes_left -= group.routes
    return flushed, routes_left
