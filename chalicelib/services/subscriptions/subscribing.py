"""Subscribing fans to screens, with exact fan counts.

Every change to a subscription is written in the same DynamoDB transaction as
the screen's ``fan_count``, the fan's ``active_screens`` and the day's
counters, so the count can never drift from the subscriptions it counts.
The functions here only *add writes* to a ``UnitOfWork``: the caller (the
WeChat gateway, the phone pages) decides what else commits with them (e.g. the
callback's de-duplication record) and commits once.

Conditions on every write make a lost race fail the whole transaction instead
of double-counting; the caller re-reads and decides again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from chalicelib.models.fans import Fan
from chalicelib.models.screens import Screen
from chalicelib.models.stats import bump
from chalicelib.models.subscriptions import ACTIVE, CANCELLED, INACTIVE_KEPT, SUSPENDED, Subscription, fan_key
from chalicelib.models.unit_of_work import UnitOfWork

MAX_SCREENS_PER_FAN = 30  # keeps an unfollow (which touches every subscription) inside one transaction


class Outcome(StrEnum):
    SUBSCRIBED = "subscribed"
    ALREADY_SUBSCRIBED = "already_subscribed"
    UNSUBSCRIBED = "unsubscribed"
    NOT_SUBSCRIBED = "not_subscribed"
    UNKNOWN_SCREEN = "unknown_screen"
    LIMIT_REACHED = "limit_reached"


@dataclass
class FanDelta:
    """Changes to one fan item, collected so they go out as a single update."""

    appid: str
    openid: str
    activate: set[str] = field(default_factory=set)
    deactivate: set[str] = field(default_factory=set)
    actions: list = field(default_factory=list)

    def flush(self, uow: UnitOfWork) -> None:
        actions = list(self.actions)
        if self.activate:
            actions.append(Fan.active_screens.add(self.activate))
        if self.deactivate:
            actions.append(Fan.active_screens.delete(self.deactivate))
        if actions:
            uow.update(Fan(self.appid, self.openid), actions, tag="fan")


def reads_for(appid: str, openid: str, screen_id: str | None) -> list[tuple]:
    """The items a subscribe/unsubscribe decision needs: fan, and the screen and subscription."""
    reads: list[tuple] = [(Fan, appid, openid)]
    if screen_id:
        reads += [(Screen, screen_id, None), (Subscription, fan_key(appid, openid), screen_id)]
    return reads


def active_count(fan: Fan | None) -> int:
    return len(fan.active_screens or ()) if fan else 0


def add_subscribe(
    uow: UnitOfWork,
    delta: FanDelta,
    *,
    fan: Fan | None,
    screen: Screen | None,
    existing: Subscription | None,
    source: str,
    now: datetime,
) -> Outcome:
    """Subscribe ``delta``'s fan to ``screen`` unless he already is."""
    if screen is None:
        return Outcome.UNKNOWN_SCREEN
    if existing is not None and existing.status == ACTIVE:
        return Outcome.ALREADY_SUBSCRIBED
    if active_count(fan) + len(delta.activate) >= MAX_SCREENS_PER_FAN:
        return Outcome.LIMIT_REACHED
    sub = Subscription(fan_key(delta.appid, delta.openid), screen.screen_id)
    previous_status = existing.status if existing is not None else None
    condition = (
        Subscription.fan.does_not_exist() if previous_status is None else (Subscription.status == previous_status)
    )
    actions = [
        Subscription.appid.set(delta.appid),
        Subscription.openid.set(delta.openid),
        Subscription.status.set(ACTIVE),
        Subscription.active_screen_id.set(screen.screen_id),
        Subscription.source.set(source),
        Subscription.subscribed_at.set(now),
        Subscription.updated_at.set(now),
        Subscription.expires_at.remove(),
    ]
    uow.update(sub, actions, condition=condition, tag=f"sub:{screen.screen_id}")
    _count(uow, screen.screen_id, +1)
    bump(uow, "screen", screen.screen_id, {f"subs_{source}": 1}, now)
    delta.activate.add(screen.screen_id)
    return Outcome.SUBSCRIBED


def add_unsubscribe(
    uow: UnitOfWork,
    delta: FanDelta,
    *,
    screen_id: str,
    existing: Subscription | None,
    now: datetime,
) -> Outcome:
    """Cancel the fan's subscription to a screen (an explicit unsubscribe, not an unfollow)."""
    if existing is None or existing.status != ACTIVE:
        return Outcome.NOT_SUBSCRIBED
    sub = Subscription(fan_key(delta.appid, delta.openid), screen_id)
    uow.update(
        sub,
        [
            Subscription.status.set(CANCELLED),
            Subscription.active_screen_id.remove(),
            Subscription.updated_at.set(now),
            Subscription.expires_at.set(now + INACTIVE_KEPT),
        ],
        condition=Subscription.status == ACTIVE,
        tag=f"sub:{screen_id}",
    )
    _count(uow, screen_id, -1)
    bump(uow, "screen", screen_id, {"unsubs": 1}, now)
    delta.deactivate.add(screen_id)
    return Outcome.UNSUBSCRIBED


def add_erase(uow: UnitOfWork, *, existing: Subscription, now: datetime) -> bool:
    """Delete one subscription row for a resident's erasure (PIPL); True when it was active.

    An active one counts exactly as an unsubscribe (``fan_count`` −1, the day's
    ``unsubs`` +1), so the daily net still sums to the fan count and the stream
    consumer sees an active row go away (a lost fan, and a lost distinct fan
    when it was his last in a scope).  Inactive rows go without counting: their
    loss was counted when they stopped being active.  The condition on the
    status read makes a concurrent change fail the transaction instead of
    being lost uncounted.
    """
    was_active = existing.status == ACTIVE
    uow.delete(
        Subscription(existing.fan, existing.screen_id),
        condition=Subscription.status == existing.status,
        tag=f"sub:{existing.screen_id}",
    )
    if was_active:
        _count(uow, existing.screen_id, -1)
        bump(uow, "screen", existing.screen_id, {"unsubs": 1}, now)
    return was_active


def add_suspend_all(uow: UnitOfWork, delta: FanDelta, *, fan: Fan | None, now: datetime) -> set[str]:
    """The fan unfollowed the account: suspend (not delete) every active subscription."""
    screens = set(fan.active_screens or ()) if fan else set()
    _move_all(uow, delta, screens, now, to=SUSPENDED)
    delta.deactivate |= screens
    if screens:
        delta.actions.append(Fan.suspended_screens.set(screens))
    return screens


def add_restore_all(uow: UnitOfWork, delta: FanDelta, *, fan: Fan | None, now: datetime) -> set[str]:
    """The fan followed again: restore exactly the subscriptions his unfollow suspended."""
    screens = set(fan.suspended_screens or ()) if fan else set()
    _move_all(uow, delta, screens, now, to=ACTIVE)
    delta.activate |= screens
    if screens:
        delta.actions.append(Fan.suspended_screens.remove())
    return screens


def _move_all(uow: UnitOfWork, delta: FanDelta, screens: set[str], now: datetime, *, to: str) -> None:
    """Suspend (``to=SUSPENDED``) or restore (``to=ACTIVE``) these subscriptions, each conditional on the other
    state, with the screens' fan counts and the day's ``suspended``/``restored`` counters in the same unit."""
    restoring = to == ACTIVE
    for screen_id in screens:
        uow.update(
            Subscription(fan_key(delta.appid, delta.openid), screen_id),
            [
                Subscription.status.set(to),
                Subscription.active_screen_id.set(screen_id) if restoring else Subscription.active_screen_id.remove(),
                Subscription.updated_at.set(now),
                Subscription.expires_at.remove() if restoring else Subscription.expires_at.set(now + INACTIVE_KEPT),
            ],
            condition=Subscription.status == (SUSPENDED if restoring else ACTIVE),
            tag=f"sub:{screen_id}",
        )
        _count(uow, screen_id, +1 if restoring else -1)
        bump(uow, "screen", screen_id, {"restored" if restoring else "suspended": 1}, now)


def _count(uow: UnitOfWork, screen_id: str, change: int) -> None:
    uow.update(
        Screen(screen_id),
        [Screen.fan_count.add(change)],
        condition=Screen.screen_id.exists(),
        tag=f"screen:{screen_id}",
    )
