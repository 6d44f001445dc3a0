"""Which message goes to which decision: a registry keyed by wechatpy's message and event classes.

``route_for`` looks the typed message up (``ROUTES``) and builds the ``Route``
for it: the decision to run and what the engine must read for it in its one
read (fan, screen, subscription; the msgid routes of a template receipt; the
ticket and binding of a sign-in scan).  A kind of message we do not handle
gets the generic route of its family (an event: note the interaction; a
message: note it and answer with help).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wechatpy.events import (
    ClickEvent,
    ScanEvent,
    SubscribeEvent,
    SubscribeScanEvent,
    SubscribeScanProductEvent,
    TemplateSendJobFinishEvent,
    UnsubscribeEvent,
)
from wechatpy.messages import BaseMessage, TextMessage

from chalicelib.models.push import PushMsgRoute, route_block, route_keys_for_receipt
from chalicelib.models.screens import normalise_screen_code
from chalicelib.services.access import sign_in_scan
from chalicelib.services.gateway import commands, decisions
from chalicelib.services.gateway.context import Context, Decision
from chalicelib.services.subscriptions import subscribing as subscriptions
from chalicelib.wechat.callback import InboundMessage
from chalicelib.wechat.messages import as_text, qr_scene

DecideFn = Callable[[Context], Decision]


@dataclass
class Route:
    """How one message is read and decided; ``screen_code`` is the screen it names, read with the fan."""

    decide_fn: DecideFn
    screen_code: str | None = None

    def reads(self, ctx: Context) -> list[tuple]:
        return subscriptions.reads_for(ctx.appid, ctx.openid, self.screen_code)

    def name_reads(self, loaded: list) -> dict[str, Any]:
        names = ["fan", "screen", "subscription"]
        return dict(zip(names, loaded, strict=False))

    def decide(self, ctx: Context) -> Decision:
        return self.decide_fn(ctx)


class ReceiptRoute(Route):
    """A template receipt also reads the push pipeline's msgid route, in the same one read."""

    def reads(self, ctx: Context) -> list[tuple]:
        reads = super().reads(ctx)
        return [*reads, *((PushMsgRoute, ctx.appid, block) for block in _receipt_blocks(ctx))]

    def name_reads(self, loaded: list) -> dict[str, Any]:
        routes = [item for item in loaded[1:] if item is not None]
        return {"fan": loaded[0], "msg_route": _merged_routes(routes) if routes else None}


@dataclass
class LoginRoute(Route):
    """A scan of a console sign-in QR code (scene ``login_…``): also reads the ticket and the openid's binding.

    A scan by someone who does not follow yet is a follow as well (``decide_fn`` is ``on_follow``);
    the login scene is never a screen.
    """

    scene: str = ""

    def reads(self, ctx: Context) -> list[tuple]:
        return [*super().reads(ctx), *sign_in_scan.reads(ctx.appid, ctx.openid, self.scene)]

    def name_reads(self, loaded: list) -> dict[str, Any]:
        names = super().name_reads(loaded[:-2])
        names["login_ticket"], names["wechat_binding"] = loaded[-2], loaded[-1]
        return names

    def decide(self, ctx: Context) -> Decision:
        decision = self.decide_fn(ctx)
        reply = sign_in_scan.on_scan(
            decision.uow,
            ctx.snapshot.get("login_ticket"),
            ctx.snapshot.get("wechat_binding"),
            ctx.appid,
            ctx.openid,
            ctx.now,
        )
        decision.reply = f"{decision.reply}\n\n{reply}" if decision.reply else reply
        return decision


def _receipt_blocks(ctx: Context) -> list[str]:
    """The route items that may hold this receipt's msgid: its send minute and neighbours, and the old block."""
    msg_id = decisions.receipt_msg_id(ctx)
    if not msg_id.isdigit():
        return []
    created = ctx.message.time  # CreateTime, checked to be digits by the callback; absent: now
    if not isinstance(created, int):
        created = int(ctx.now.timestamp())
    return [route_block(msg_id), *route_keys_for_receipt(created)]


def _merged_routes(items: list[PushMsgRoute]) -> PushMsgRoute:
    merged = PushMsgRoute(items[0].appid, items[0].block)
    merged.routes = set().union(*((item.routes or set()) for item in items))
    return merged


# ---------------------------------------------------------------- the registry


def _qr_route(decide_fn: DecideFn, *, login_decide_fn: DecideFn) -> Callable[[InboundMessage], Route]:
    """A follow or scan: its QR scene names a screen, or a console sign-in (``login_…``)."""

    def route(inbound: InboundMessage) -> Route:
        scene = qr_scene(inbound.message)
        if scene.startswith(sign_in_scan.LOGIN_SCENE_PREFIX):
            return LoginRoute(login_decide_fn, scene=scene[: sign_in_scan.MAX_SCENE])
        return Route(decide_fn, screen_code=normalise_screen_code(scene))

    return route


def _text_route(inbound: InboundMessage) -> Route:
    command = commands.parse(as_text(inbound.message.content))
    return Route(decisions.on_text, screen_code=command.screen_code)


def _receipt_route(inbound: InboundMessage) -> Route | None:
    """A receipt without a msgid has nothing to attribute: no route (the engine answers ``success``)."""
    return ReceiptRoute(decisions.on_template_receipt) if inbound.raw.get("MsgID") or inbound.raw.get("MsgId") else None


_follow = _qr_route(decisions.on_follow, login_decide_fn=decisions.on_follow)

ROUTES: dict[type[BaseMessage], Callable[[InboundMessage], Route | None]] = {
    SubscribeEvent: _follow,
    SubscribeScanEvent: _follow,
    SubscribeScanProductEvent: _follow,
    ScanEvent: _qr_route(decisions.on_scan, login_decide_fn=decisions.nothing),
    UnsubscribeEvent: lambda inbound: Route(decisions.on_unfollow),
    ClickEvent: lambda inbound: Route(decisions.on_click),
    TemplateSendJobFinishEvent: _receipt_route,
    TextMessage: _text_route,
}


_FOLLOW_BY_SCAN = (SubscribeScanEvent, SubscribeScanProductEvent)  # wechatpy's names for a "subscribe" with a key


def _spelled_as_wechat_sends(inbound: InboundMessage) -> bool:
    """Whether ``MsgType`` and ``Event`` are spelled as WeChat spells them for the class wechatpy chose.

    wechatpy lower-cases ``MsgType`` and accepts its own event names
    (``subscribe_scan``); a message WeChat could not have sent (``TEXT``,
    ``Event=subscribe_scan``) gets the generic route of its family, as it
    always has.
    """
    message, raw = inbound.message, inbound.raw
    if raw.get("MsgType") != message.type:
        return False
    if message.type != "event":
        return True
    sent = as_text(raw.get("Event")).lower()
    return sent == ("subscribe" if isinstance(message, _FOLLOW_BY_SCAN) else message.event)


def route_for(inbound: InboundMessage) -> Route | None:
    """How to handle the message; None when there is nothing to handle (a receipt without a msgid)."""
    factory = ROUTES.get(type(inbound.message)) if _spelled_as_wechat_sends(inbound) else None
    if factory is not None:
        return factory(inbound)
    is_event = inbound.raw.get("MsgType") == "event"
    return Route(decisions.on_other_event if is_event else decisions.on_other_message)
