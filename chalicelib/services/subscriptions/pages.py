"""Subscribe and unsubscribe from the phone pages, with the gateway's discipline.

The same functions as the WeChat gateway (``chalicelib.services.subscriptions.subscribing``)
do the work, in the same three steps: one strongly consistent read of fan,
screen and subscription; a ``UnitOfWork`` holding the subscription, the
screen's ``fan_count``, the fan's ``active_screens`` and the day's counter;
one commit.  A cancelled condition means someone (the gateway, another tab)
changed the state in between: read again and decide again, a few times.

A subscription is only taken from a follower of the account: pushes cannot
reach anyone else, and an unfollow suspends subscriptions the same way.  A fan
the gateway never saw (he followed before the account was connected) is
confirmed through WeChat's user-info API once and then recorded as following.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from wechatpy.exceptions import WeChatClientException

from chalicelib.models.fans import Fan
from chalicelib.models.unit_of_work import TransactionConflict, UnitOfWork, read_many
from chalicelib.services.gateway.tokens import client_for
from chalicelib.services.subscriptions import subscribing as subscriptions
from chalicelib.services.subscriptions.subscribing import FanDelta, Outcome

if TYPE_CHECKING:
    from chalicelib.models.screens import Screen
    from chalicelib.models.subscriptions import Subscription

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
SOURCE = "page"


class Refusal(StrEnum):
    NOT_FOLLOWING = "not_following"
    WECHAT_UNAVAILABLE = "wechat_unavailable"


@dataclass(frozen=True)
class ChangeResult:
    outcome: Outcome | None = None
    refusal: Refusal | None = None


def _follows_on_wechat(appid: str, openid: str) -> bool:
    """Ask WeChat whether ``openid`` follows the account (only for fans the gateway never saw)."""
    info = client_for(appid).user.get(openid)
    return int(info.get("subscribe") or 0) == 1


def change(appid: str, openid: str, screen_id: str, *, subscribe: bool, now: datetime | None = None) -> ChangeResult:
    """Subscribe or unsubscribe one fan, exactly once, whatever else happens meanwhile."""
    confirmed_follower = False
    for _attempt in range(MAX_ATTEMPTS):
        moment = now or datetime.now(UTC)
        # read_many answers in the order of its requests: the fan, the screen, the subscription
        fan, screen, existing = cast(
            "tuple[Fan | None, Screen | None, Subscription | None]",
            tuple(read_many(subscriptions.reads_for(appid, openid, screen_id))),
        )
        if subscribe:
            refusal, confirmed_follower = _refusal(appid, openid, fan, confirmed_follower)
            if refusal is not None:
                return ChangeResult(refusal=refusal)
        uow, delta = UnitOfWork(), FanDelta(appid, openid)
        if subscribe:
            outcome = _plan_subscribe(uow, delta, fan, screen, existing, moment)
        elif screen is None:
            return ChangeResult(Outcome.UNKNOWN_SCREEN)
        else:
            outcome = subscriptions.add_unsubscribe(uow, delta, screen_id=screen_id, existing=existing, now=moment)
        if outcome not in (Outcome.SUBSCRIBED, Outcome.UNSUBSCRIBED):
            return ChangeResult(outcome)
        delta.flush(uow)
        try:
            uow.commit()
            return ChangeResult(outcome)
        except TransactionConflict as conflict:
            logger.info("subscription changed meanwhile; deciding again", extra={"codes": conflict.codes})
    raise RuntimeError("subscription change could not be committed after repeated conflicts")


def _refusal(appid: str, openid: str, fan: Fan | None, confirmed: bool) -> tuple[Refusal | None, bool]:
    """Why this fan may not subscribe (None: he may), and whether WeChat has confirmed he follows.

    A fan the gateway never saw is asked about once per change; an unfollowed one is refused.
    """
    if fan is not None and fan.following is False:
        return Refusal.NOT_FOLLOWING, confirmed
    if fan is not None or confirmed:
        return None, confirmed
    try:
        confirmed = _follows_on_wechat(appid, openid)
    except (WeChatClientException, OSError) as exc:
        logger.warning("user info lookup failed", extra={"appid": appid, "error": type(exc).__name__})
        return Refusal.WECHAT_UNAVAILABLE, False
    return (None if confirmed else Refusal.NOT_FOLLOWING), confirmed


def _plan_subscribe(
    uow: UnitOfWork, delta: FanDelta, fan: Fan | None, screen: Any, existing: Any, moment: datetime
) -> Outcome:
    """The subscribe's writes; a fan first seen here is recorded as following, from the page."""
    outcome = subscriptions.add_subscribe(
        uow, delta, fan=fan, screen=screen, existing=existing, source=SOURCE, now=moment
    )
    if outcome == Outcome.SUBSCRIBED and fan is None:
        delta.actions += [
            Fan.following.set(True),
            Fan.created_at.set(Fan.created_at | moment),
            Fan.first_source.set(Fan.first_source | "page"),
        ]
    return outcome
