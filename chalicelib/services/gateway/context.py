"""What a gateway decision is given (``Context``) and what it hands back (``Decision``).

Kept apart from the engine so that decisions and routes can be built and
tested without it: a decision is a function ``Context -> Decision`` over the
state the engine loaded (``Context.snapshot``), returning the writes it wants
(``Decision.uow``) and the text of its passive reply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wechatpy.messages import BaseMessage

from chalicelib.models.accounts import Account
from chalicelib.models.fans import Fan
from chalicelib.models.unit_of_work import UnitOfWork
from chalicelib.services.subscriptions.subscribing import FanDelta
from chalicelib.wechat.callback import InboundMessage


@dataclass
class Decision:
    """The outcome of deciding on an event: a reply and the writes that go with it."""

    reply: str = ""  # the reply's text content; "" answers "success"
    uow: UnitOfWork = field(default_factory=UnitOfWork)
    # False: the de-duplication record keeps no copy of the reply (its XML names the fan), and a retry
    # answers "success" — after an erasure nothing may name him, not even the cached answer
    remember_reply: bool = True


@dataclass
class Context:
    """One verified message, its account, the moment it is handled and the state loaded for it."""

    account: Account
    inbound: InboundMessage
    now: datetime
    screen_code: str | None = None  # the screen the message names (QR scene, 订阅 <code>), as the route read it
    snapshot: dict[str, Any] = field(default_factory=dict)

    @property
    def appid(self) -> str:
        return self.account.appid

    @property
    def openid(self) -> str:
        return self.inbound.openid

    @property
    def message(self) -> BaseMessage:
        """wechatpy's typed message (``TextMessage``, ``ClickEvent``, ...): what decisions read."""
        return self.inbound.message

    @property
    def fan(self) -> Fan | None:
        return self.snapshot.get("fan")

    def delta(self) -> FanDelta:
        return FanDelta(self.appid, self.openid)
