"""What kepuscreen does with each WeChat message or event, exactly once.

Every callback is handled in the same two steps, whatever the event:

1. *Read* — one TransactGetItems fetches the de-duplication record, the nonce
   record and whatever the decision needs (fan, screen, subscription).  A
   nonce already seen with another request's fingerprint is a replay: refused
   before anything else.  A de-duplication record means WeChat is retrying:
   answer what was answered the first time and stop (after spending a nonce
   not seen before, so that its signed query cannot carry another body).
2. *Write* — one TransactWriteItems commits the event's effects together with
   the de-duplication record (holding the reply) and the nonce record.  Either
   all of it happened or none of it did, so a retry after a crash re-does the
   work, and a retry after success is answered from the record.

A lost race (another delivery of the same message committed first) cancels
the transaction on the de-duplication record; its stored reply is returned.
Any other cancelled condition means the state changed between read and write:
read again and decide again, a bounded number of times.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import PutError

from chalicelib import links
from chalicelib.models.accounts import Account
from chalicelib.models.callbacks import CallbackRecord
from chalicelib.models.content import PUBLISHED, Content
from chalicelib.models.fans import Fan
from chalicelib.models.push import PushJob, PushMsgRoute, route_block, route_keys_for_receipt
from chalicelib.models.receipts import DeliveryReceipt
from chalicelib.models.screens import normalise_screen_code
from chalicelib.models.stats import bump
from chalicelib.models.subscriptions import INACTIVE_KEPT
from chalicelib.models.unit_of_work import TransactionConflict, UnitOfWork, read_many
from chalicelib.replies import render_text, text_reply
from chalicelib.services import directory, push_policy, sign_in_scan, subscriptions
from chalicelib.services.manifest_store import latest_items
from chalicelib.services.subscriptions import MAX_SCREENS_PER_FAN, FanDelta, Outcome
from chalicelib.tracing import capture_method
from chalicelib.wechat.callback import CallbackRejected, InboundMessage
from chalicelib.wechat.menu import MenuKey

logger = logging.getLogger(__name__)

RECORD_TTL = timedelta(days=2)  # WeChat retries within seconds; two days also covers the nonce window
MAX_ATTEMPTS = 3
LATEST_SHOWN = 5  # items in the "latest" reply: it must stay short (WeChat's 5-second budget, a phone screen)
UNREAD_LOOKUP = 10  # unread items not in any manifest, looked up in one BatchGetItem

_SUBSCRIBE_RE = re.compile(r"^(?:订阅|subscribe|sub)\s*[:：]?\s*(\S+)$", re.IGNORECASE)
_UNSUBSCRIBE_RE = re.compile(r"^(?:退订|取消订阅|unsubscribe|unsub)\s*[:：]?\s*(\S+)$", re.IGNORECASE)
_MY_SCREENS = {"我的订阅", "我的大屏", "my screens", "myscreens", "list"}
_HELP = {"帮助", "help", "?", "？", "菜单"}
_LATEST = {"最新", "最新内容", "latest", "new"}
_ERASE_ASK = {"删除我的数据", "删除数据"}
_ERASE = {"确认删除我的数据"}


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
    account: Account
    inbound: InboundMessage
    now: datetime
    snapshot: dict[str, Any] = field(default_factory=dict)

    @property
    def appid(self) -> str:
        return self.account.appid

    @property
    def openid(self) -> str:
        return self.inbound.openid

    @property
    def fan(self) -> Fan | None:
        return self.snapshot.get("fan")

    def delta(self) -> FanDelta:
        return FanDelta(self.appid, self.openid)


# ---------------------------------------------------------------- entry point

@capture_method
def handle(account: Account, inbound: InboundMessage, now: datetime | None = None) -> str:
    """Process one verified message; returns the plain reply XML ("" for ``success``)."""
    now = now or datetime.now(UTC)
    route = _route(inbound)
    dedup_key = f"{account.appid}#{inbound.dedup_key}"
    nonce_key = f"nonce#{account.appid}#{inbound.nonce}"
    if route is None:  # nothing to do (WeChat would only retry an error): spend the nonce, answer success
        _spend_nonce(nonce_key, inbound.fingerprint, now)
        return ""
    for _attempt in range(MAX_ATTEMPTS):
        ctx = Context(account, inbound, now)
        reads = [(CallbackRecord, dedup_key, None), (CallbackRecord, nonce_key, None), *route.reads(ctx)]
        loaded = read_many(reads)
        done, nonce = loaded[0], loaded[1]
        if nonce is not None and nonce.fingerprint != inbound.fingerprint:
            raise CallbackRejected(403, "nonce already used by another request")  # before any answer
        if done is not None:
            if nonce is None:
                _spend_nonce(nonce_key, inbound.fingerprint, now)
            return done.reply or ""
        ctx.snapshot = route.name_reads(loaded[2:])
        decision = route.decide(ctx)
        reply_xml = (
            text_reply(ctx.openid, account.original_id, decision.reply, int(now.timestamp())) if decision.reply else ""
        )
        expires = now + RECORD_TTL
        decision.uow.put(
            CallbackRecord(dedup_key, reply=reply_xml if decision.remember_reply else None, expires_at=expires),
            condition=CallbackRecord.key.does_not_exist(), tag="dedup", return_old=True,
        )
        decision.uow.put(
            CallbackRecord(nonce_key, fingerprint=inbound.fingerprint, expires_at=expires),
            condition=CallbackRecord.key.does_not_exist() | (CallbackRecord.fingerprint == inbound.fingerprint),
            tag="nonce",
        )
        try:
            decision.uow.commit()
            return reply_xml
        except TransactionConflict as conflict:
            if conflict.failed_on("nonce"):
                raise CallbackRejected(403, "nonce already used by another request") from conflict
            if conflict.failed_on("dedup"):
                _spend_nonce(nonce_key, inbound.fingerprint, now)
                old = conflict.failed.get("dedup") or {}
                return (old.get("reply") or {}).get("S", "")
            logger.info("state changed while handling an event; deciding again", extra={"codes": conflict.codes})
    raise RuntimeError("event could not be committed after repeated conflicts")


def _spend_nonce(nonce_key: str, fingerprint: str, now: datetime) -> None:
    """Record a nonce that arrived on a duplicate delivery, so its signed query cannot carry another body.

    A duplicate is answered from the de-duplication record without the main
    transaction; without this, its (validly signed) nonce would stay unspent.
    """
    try:
        CallbackRecord(nonce_key, fingerprint=fingerprint, expires_at=now + RECORD_TTL).save(
            condition=CallbackRecord.key.does_not_exist() | (CallbackRecord.fingerprint == fingerprint),
        )
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise CallbackRejected(403, "nonce already used by another request") from exc
        raise


# ---------------------------------------------------------------- routing

@dataclass
class Route:
    """How one kind of message is read and decided."""

    decide_fn: Callable[[Context], Decision]
    screen_of: Callable[[Context], str | None] = lambda ctx: None

    def reads(self, ctx: Context) -> list[tuple]:
        return subscriptions.reads_for(ctx.appid, ctx.openid, self.screen_of(ctx))

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


class LoginRoute(Route):
    """A scan of a console sign-in QR code (scene ``login_…``): also reads the ticket and the openid's binding.

    A scan by someone who does not follow yet is a follow as well (``decide_fn`` is ``_on_follow``);
    the login scene is never a screen.
    """

    def reads(self, ctx: Context) -> list[tuple]:
        scene = sign_in_scan.scene_of(ctx.inbound.raw.get("EventKey"))
        return [*super().reads(ctx), *sign_in_scan.reads(ctx.appid, ctx.openid, scene)]

    def name_reads(self, loaded: list) -> dict[str, Any]:
        names = super().name_reads(loaded[:-2])
        names["login_ticket"], names["wechat_binding"] = loaded[-2], loaded[-1]
        return names

    def decide(self, ctx: Context) -> Decision:
        decision = self.decide_fn(ctx)
        reply = sign_in_scan.on_scan(decision.uow, ctx.snapshot.get("login_ticket"), ctx.snapshot.get("wechat_binding"),
                                ctx.appid, ctx.openid, ctx.now)
        decision.reply = f"{decision.reply}\n\n{reply}" if decision.reply else reply
        return decision


def _receipt_msg_id(ctx: Context) -> str:
    raw = ctx.inbound.raw
    return str(raw.get("MsgID") or raw.get("MsgId") or "")[:32]


def _receipt_blocks(ctx: Context) -> list[str]:
    """The route items that may hold this receipt's msgid: its send minute and neighbours, and the old block."""
    msg_id = _receipt_msg_id(ctx)
    if not msg_id.isdigit():
        return []
    try:
        created = int(str(ctx.inbound.raw.get("CreateTime") or "")[:12])
    except ValueError:
        created = int(ctx.now.timestamp())
    return [route_block(msg_id), *route_keys_for_receipt(created)]


def _merged_routes(items: list[PushMsgRoute]) -> PushMsgRoute:
    merged = PushMsgRoute(items[0].appid, items[0].block)
    merged.routes = set().union(*((item.routes or set()) for item in items))
    return merged


def _route(inbound: InboundMessage) -> Route | None:
    """How to handle the message; None when there is nothing to handle (a receipt without MsgID)."""
    raw = inbound.raw
    if raw.get("MsgType") == "event":
        event = (raw.get("Event") or "").lower()
        if event in ("subscribe", "scan") and sign_in_scan.is_login_scene(raw.get("EventKey")):
            return LoginRoute(_on_follow if event == "subscribe" else lambda ctx: Decision())
        if event == "subscribe":
            return Route(_on_follow, screen_of=_scene_screen)
        if event == "scan":
            return Route(_on_scan, screen_of=_scene_screen)
        if event == "unsubscribe":
            return Route(_on_unfollow)
        if event == "click":
            return Route(_on_click)
        if event == "templatesendjobfinish":
            return ReceiptRoute(_on_template_receipt) if raw.get("MsgID") or raw.get("MsgId") else None
        return Route(_on_other_event)
    if raw.get("MsgType") == "text":
        return Route(_on_text, screen_of=_text_screen)
    return Route(_on_other_message)


def _scene_screen(ctx: Context) -> str | None:
    key = ctx.inbound.raw.get("EventKey") or ""
    if key.startswith("qrscene_"):
        key = key[len("qrscene_"):]
    return normalise_screen_code(key)


def _text_command(ctx: Context) -> tuple[str, str | None]:
    text = (ctx.inbound.raw.get("Content") or "").strip()
    if m := _SUBSCRIBE_RE.match(text):
        return "subscribe", m.group(1)
    if m := _UNSUBSCRIBE_RE.match(text):
        return "unsubscribe", m.group(1)
    lowered = text.lower()
    if lowered in _MY_SCREENS:
        return "mine", None
    if lowered in _LATEST:
        return "latest", None
    if lowered in _HELP:
        return "help", None
    if text in _ERASE_ASK:
        return "erase_ask", None
    if text in _ERASE:
        return "erase", None
    return "unknown", text


def _text_screen(ctx: Context) -> str | None:
    command, arg = _text_command(ctx)
    return normalise_screen_code(arg or "") if command in ("subscribe", "unsubscribe") else None


# ---------------------------------------------------------------- decisions

def _touch(delta: FanDelta, ctx: Context, *, message: bool = False, following: bool | None = True) -> None:
    """Record the interaction that opens WeChat's customer-service windows."""
    delta.actions.append(Fan.last_interaction_at.set(ctx.now))
    if message:
        delta.actions.append(Fan.last_message_at.set(ctx.now))
    if following is not None:
        delta.actions.append(Fan.following.set(following))
    if following:
        delta.actions.append(Fan.expires_at.remove())  # following (again): kept while he follows
    delta.actions.append(Fan.created_at.set(Fan.created_at | ctx.now))


def _fan_link(ctx: Context, url: str) -> str:
    """Links in a reply name the fan on subscription accounts, so the page can show his state."""
    return links.for_fan(url, ctx.account, ctx.openid)


def _reply_for_subscribe(ctx: Context, outcome: Outcome, code: str | None) -> str:
    screen = ctx.snapshot.get("screen")
    if screen is not None:
        directory.remember_screen(screen)
    return render_text(
        "subscribe_result", outcome=outcome.value, screen=screen, code=code or "",
        mirror_url=_fan_link(ctx, links.screen_mirror(ctx.appid, screen.screen_id)) if screen else "",
        centre_url=_fan_link(ctx, links.subscription_centre(ctx.appid)),
        mine_url=_fan_link(ctx, links.my_screens(ctx.appid)), limit=MAX_SCREENS_PER_FAN,
    )


def _on_follow(ctx: Context) -> Decision:
    decision, delta = Decision(), ctx.delta()
    fan = ctx.fan
    restored = subscriptions.add_restore_all(decision.uow, delta, fan=fan, now=ctx.now)
    outcome = None
    screen = ctx.snapshot.get("screen")
    if _scene_screen(ctx):
        if screen is not None and screen.screen_id in restored:
            outcome = Outcome.ALREADY_SUBSCRIBED
        else:
            outcome = subscriptions.add_subscribe(
                decision.uow, delta, fan=fan, screen=screen, existing=ctx.snapshot.get("subscription"),
                source="qr", now=ctx.now,
            )
            if outcome == Outcome.SUBSCRIBED:  # this scan also won the account a follower (analytics: qr_follow)
                bump(decision.uow, "screen", screen.screen_id, {"subs_qr_follow": 1}, ctx.now)
    _touch(delta, ctx)
    delta.actions.append(Fan.followed_at.set(ctx.now))
    delta.actions.append(Fan.stopped_channels.delete(push_policy.unfollow_stops()))  # 43004 stops end on follow
    if fan is None or not fan.first_source:
        delta.actions.append(Fan.first_source.set(f"qr:{screen.screen_id}" if screen else "account"))
    delta.flush(decision.uow)
    via_screen = {"subs_qr_follow": 1} if outcome == Outcome.SUBSCRIBED else {}  # WeChat's view: share of screens
    bump(decision.uow, "account", ctx.appid, {"follows": 1, **via_screen}, ctx.now)
    decision.reply = render_text(
        "welcome", account_name=ctx.account.name, outcome=outcome.value if outcome else "",
        screen=screen, restored=len(restored), centre_url=links.subscription_centre(ctx.appid),
    )
    return decision


def _on_scan(ctx: Context) -> Decision:
    decision, delta = Decision(), ctx.delta()
    outcome = subscriptions.add_subscribe(
        decision.uow, delta, fan=ctx.fan, screen=ctx.snapshot.get("screen"),
        existing=ctx.snapshot.get("subscription"), source="qr", now=ctx.now,
    )
    _touch(delta, ctx)
    delta.flush(decision.uow)
    decision.reply = _reply_for_subscribe(ctx, outcome, _scene_screen(ctx))
    return decision


def _on_unfollow(ctx: Context) -> Decision:
    decision, delta = Decision(), ctx.delta()
    subscriptions.add_suspend_all(decision.uow, delta, fan=ctx.fan, now=ctx.now)
    delta.actions += [Fan.following.set(False), Fan.unfollowed_at.set(ctx.now),
                      Fan.expires_at.set(ctx.now + INACTIVE_KEPT)]
    delta.flush(decision.uow)
    bump(decision.uow, "account", ctx.appid, {"unfollows": 1}, ctx.now)
    return decision  # WeChat shows nothing to someone who just unfollowed


def _my_screens_reply(ctx: Context) -> str:
    active = sorted(ctx.fan.active_screens or ()) if ctx.fan else []
    summaries = directory.screen_summaries(active) if active else {}
    return render_text(
        "my_screens", screens=[summaries[s] for s in active if s in summaries],
        mine_url=_fan_link(ctx, links.my_screens(ctx.appid)),
        centre_url=_fan_link(ctx, links.subscription_centre(ctx.appid)),
    )


def _latest_reply(ctx: Context, uow: UnitOfWork) -> str:
    """The newest items of his screens, with pushes he has not seen yet first, marked 【新】.

    Items a subscription account could not push (outside WeChat's windows) wait
    in ``Fan.unread_content``; showing them here delivers them, so the same
    transaction that records this event takes them off the list.
    """
    active = sorted(ctx.fan.active_screens or ()) if ctx.fan else []
    unread = sorted(ctx.fan.unread_content or ()) if ctx.fan else []
    items = latest_items(active) if active else []
    known = {item["content_id"]: item for item in items}
    missing = [cid for cid in unread if cid not in known][:UNREAD_LOOKUP]
    if missing:
        for content in Content.batch_get(missing):
            if content.status == PUBLISHED:
                known[content.content_id] = {"content_id": content.content_id, "title": content.title,
                                             "published_at": content.published_at.isoformat()
                                             if content.published_at else ""}
    fresh = sorted((known[cid] for cid in unread if cid in known),
                   key=lambda item: item.get("published_at") or "", reverse=True)[:LATEST_SHOWN]
    shown_new = {item["content_id"] for item in fresh}
    rest = [item for item in items if item["content_id"] not in shown_new][: max(0, LATEST_SHOWN - len(fresh))]
    rendered = [
        {"title": item.get("title", ""), "new": item["content_id"] in shown_new,
         "url": links.content_page(ctx.appid, item["content_id"], src="unread" if item["content_id"] in shown_new
                                   else "menu")}
        for item in [*fresh, *rest]
    ]
    gone = {cid for cid in missing if cid not in known}  # withdrawn or deleted: nothing left to show
    if shown_new or gone:
        uow.update(Fan(ctx.appid, ctx.openid), [Fan.unread_content.delete(shown_new | gone)], tag="fan")
    return render_text("latest", items=rendered, subscribed=bool(active),
                       centre_url=links.subscription_centre(ctx.appid))


def _help_reply(ctx: Context, unknown: str | None = None) -> str:
    return render_text("help", unknown_command=(unknown or "")[:20], centre_url=links.subscription_centre(ctx.appid))


def _on_click(ctx: Context) -> Decision:
    decision, delta = Decision(), ctx.delta()
    _touch(delta, ctx)
    delta.flush(decision.uow)
    key = ctx.inbound.raw.get("EventKey") or ""
    if key == MenuKey.MY_SCREENS:
        decision.reply = _my_screens_reply(ctx)
    elif key == MenuKey.LATEST:
        decision.reply = _latest_reply(ctx, decision.uow)
    else:
        decision.reply = _help_reply(ctx)
    return decision


def _on_erase(ctx: Context) -> Decision:
    """确认删除我的数据: erase now, before this callback's own commit.

    The erasure is idempotent and bounded (≤ 30 active subscriptions in one
    transaction, then TTL-bounded sweeps), so it runs inside the 5 s answer
    rather than through a queue: a retry of this message, or a conflict that
    makes ``handle`` decide again, erases again and finds nothing.  Nothing of
    him is written afterwards: no interaction is recorded (that would create
    his fan item again), and the de-duplication record keeps no reply.
    """
    from chalicelib.services import personal_data  # rare; it reaches many tables' models, kept off the cold start

    result = personal_data.erase(ctx.appid, ctx.openid, ctx.now)
    decision = Decision(remember_reply=False)
    bump(decision.uow, "account", ctx.appid, {"messages": 1}, ctx.now)
    decision.reply = render_text("erase_done", lost=result.lost_subscriptions)
    return decision


def _on_text(ctx: Context) -> Decision:
    command, arg = _text_command(ctx)
    if command == "erase":
        return _on_erase(ctx)
    decision, delta = Decision(), ctx.delta()
    code = normalise_screen_code(arg or "") if command in ("subscribe", "unsubscribe") else None
    if command == "subscribe":
        outcome = subscriptions.add_subscribe(
            decision.uow, delta, fan=ctx.fan, screen=ctx.snapshot.get("screen") if code else None,
            existing=ctx.snapshot.get("subscription"), source="text", now=ctx.now,
        )
        decision.reply = _reply_for_subscribe(ctx, outcome, code or arg)
    elif command == "unsubscribe":
        screen = ctx.snapshot.get("screen")
        outcome = (
            subscriptions.add_unsubscribe(decision.uow, delta, screen_id=code,
                                          existing=ctx.snapshot.get("subscription"), now=ctx.now)
            if code else Outcome.NOT_SUBSCRIBED
        )
        decision.reply = render_text("unsubscribe_result", outcome=outcome.value, code=code or (arg or "")[:20],
                                     screen_name=screen.name if screen else code)
    elif command == "mine":
        decision.reply = _my_screens_reply(ctx)
    elif command == "latest":
        decision.reply = _latest_reply(ctx, decision.uow)
    elif command == "erase_ask":
        decision.reply = render_text("erase_ask", data_url=_fan_link(ctx, links.my_data(ctx.appid)))
    else:
        decision.reply = _help_reply(ctx, arg if command == "unknown" else None)
    _touch(delta, ctx, message=True)
    delta.flush(decision.uow)
    bump(decision.uow, "account", ctx.appid, {"messages": 1}, ctx.now)
    return decision


def _on_other_message(ctx: Context) -> Decision:
    decision, delta = Decision(), ctx.delta()
    _touch(delta, ctx, message=True)
    delta.flush(decision.uow)
    bump(decision.uow, "account", ctx.appid, {"messages": 1}, ctx.now)
    decision.reply = _help_reply(ctx)
    return decision


def _on_other_event(ctx: Context) -> Decision:
    """VIEW (a menu link was opened), LOCATION and the rest: note the interaction, reply nothing."""
    decision, delta = Decision(), ctx.delta()
    _touch(delta, ctx)
    delta.flush(decision.uow)
    return decision


def _on_template_receipt(ctx: Context) -> Decision:
    """``TEMPLATESENDJOBFINISH``: store the receipt, count it for the account and for the push it answers.

    The push sender records ``"<msgid>><job_id>"`` routes (``PushMsgRoute``),
    read together with the fan above, so the receipt is attributed to its
    content and job in this same transaction.  A block stops the template
    channel for this fan.
    """
    decision = Decision()
    raw = ctx.inbound.raw
    status = (raw.get("Status") or "").strip()
    msg_id = _receipt_msg_id(ctx)
    receipt = DeliveryReceipt(
        ctx.appid, msg_id, openid=ctx.openid, status=status[:64], expires_at=ctx.now + timedelta(days=30),
    )
    decision.uow.put(receipt)
    ok = status == "success"
    counter = "receipts_success" if ok else "receipts_failed"
    bump(decision.uow, "account", ctx.appid, {counter: 1}, ctx.now)
    route = ctx.snapshot.get("msg_route")
    prefix = f"{msg_id}>"
    job_id = next((entry[len(prefix):] for entry in (route.routes or ()) if entry.startswith(prefix)), None) \
        if route is not None and msg_id else None
    if job_id:
        bump(decision.uow, "content", job_id.rsplit(":", 1)[0], {counter: 1}, ctx.now)
        decision.uow.update(PushJob(job_id), [getattr(PushJob, counter).add(1)])
    if "block" in status:
        decision.uow.update(Fan(ctx.appid, ctx.openid), [Fan.stopped_channels.add({push_policy.TEMPLATE})], tag="fan")
    return decision
