"""What each kind of message does: decisions over the state the engine loaded.

Each ``on_*`` takes a ``Context`` (the typed message, the account, the fan,
screen and subscription read in the engine's one read) and returns a
``Decision``: the passive reply's text and the writes, gathered in a unit of
work the engine commits together with its de-duplication and nonce records.
A decision writes nothing itself, so deciding again after a conflict is safe
(the erasure is the one exception, and is idempotent: see ``on_erase``).
"""

from __future__ import annotations

from datetime import timedelta

from chalicelib import links
from chalicelib.models.fans import Fan
from chalicelib.models.push import PushJob
from chalicelib.models.receipts import DeliveryReceipt
from chalicelib.models.stats import bump
from chalicelib.models.subscriptions import INACTIVE_KEPT
from chalicelib.replies import render_text
from chalicelib.services.gateway import commands, replies
from chalicelib.services.gateway.context import Context, Decision
from chalicelib.services.push import policy as push_policy
from chalicelib.services.subscriptions import subscribing as subscriptions
from chalicelib.services.subscriptions.subscribing import FanDelta, Outcome
from chalicelib.wechat.menu import MenuKey
from chalicelib.wechat.messages import as_text

RECEIPT_KEPT = timedelta(days=30)


def touch(delta: FanDelta, ctx: Context, *, message: bool = False, following: bool | None = True) -> None:
    """Record the interaction that opens WeChat's customer-service windows."""
    delta.actions.append(Fan.last_interaction_at.set(ctx.now))
    if message:
        delta.actions.append(Fan.last_message_at.set(ctx.now))
    if following is not None:
        delta.actions.append(Fan.following.set(following))
    if following:
        delta.actions.append(Fan.expires_at.remove())  # following (again): kept while he follows
    delta.actions.append(Fan.created_at.set(Fan.created_at | ctx.now))


def _subscribe_by_qr(ctx: Context, decision: Decision, delta: FanDelta, restored: set[str]) -> Outcome:
    """A follow through a screen's QR code also subscribes to that screen (unless following restored it)."""
    screen = ctx.snapshot.get("screen")
    if screen is not None and screen.screen_id in restored:
        return Outcome.ALREADY_SUBSCRIBED
    outcome = subscriptions.add_subscribe(
        decision.uow,
        delta,
        fan=ctx.fan,
        screen=screen,
        existing=ctx.snapshot.get("subscription"),
        source="qr",
        now=ctx.now,
    )
    if outcome == Outcome.SUBSCRIBED and screen is not None:  # this scan also won a follower (analytics: qr_follow)
        bump(decision.uow, "screen", screen.screen_id, {"subs_qr_follow": 1}, ctx.now)
    return outcome


def on_follow(ctx: Context) -> Decision:
    decision, delta = Decision(), ctx.delta()
    fan = ctx.fan
    restored = subscriptions.add_restore_all(decision.uow, delta, fan=fan, now=ctx.now)
    screen = ctx.snapshot.get("screen")
    outcome = _subscribe_by_qr(ctx, decision, delta, restored) if ctx.screen_code else None
    touch(delta, ctx)
    delta.actions.append(Fan.followed_at.set(ctx.now))
    delta.actions.append(Fan.stopped_channels.delete(push_policy.unfollow_stops()))  # 43004 stops end on follow
    if fan is None or not fan.first_source:
        delta.actions.append(Fan.first_source.set(f"qr:{screen.screen_id}" if screen else "account"))
    delta.flush(decision.uow)
    via_screen = {"subs_qr_follow": 1} if outcome == Outcome.SUBSCRIBED else {}  # WeChat's view: share of screens
    bump(decision.uow, "account", ctx.appid, {"follows": 1, **via_screen}, ctx.now)
    decision.reply = render_text(
        "welcome",
        account_name=ctx.account.name,
        outcome=outcome.value if outcome else "",
        screen=screen,
        restored=len(restored),
        centre_url=links.subscription_centre(ctx.appid),
    )
    return decision


def on_scan(ctx: Context) -> Decision:
    decision, delta = Decision(), ctx.delta()
    outcome = subscriptions.add_subscribe(
        decision.uow,
        delta,
        fan=ctx.fan,
        screen=ctx.snapshot.get("screen"),
        existing=ctx.snapshot.get("subscription"),
        source="qr",
        now=ctx.now,
    )
    touch(delta, ctx)
    delta.flush(decision.uow)
    decision.reply = replies.subscribe_result(ctx, outcome, ctx.screen_code)
    return decision


def nothing(ctx: Context) -> Decision:
    """A scan that is only a sign-in (the sign-in route adds its reply): no fan state changes."""
    return Decision()


def on_unfollow(ctx: Context) -> Decision:
    decision, delta = Decision(), ctx.delta()
    subscriptions.add_suspend_all(decision.uow, delta, fan=ctx.fan, now=ctx.now)
    delta.actions += [
        Fan.following.set(False),
        Fan.unfollowed_at.set(ctx.now),
        Fan.expires_at.set(ctx.now + INACTIVE_KEPT),
    ]
    delta.flush(decision.uow)
    bump(decision.uow, "account", ctx.appid, {"unfollows": 1}, ctx.now)
    return decision  # WeChat shows nothing to someone who just unfollowed


def on_click(ctx: Context) -> Decision:
    """A CLICK of our menu (``MenuKey``); any other key gets the help text."""
    decision, delta = Decision(), ctx.delta()
    touch(delta, ctx)
    delta.flush(decision.uow)
    key = as_text(ctx.message.key)
    if key == MenuKey.MY_SCREENS:
        decision.reply = replies.my_screens(ctx)
    elif key == MenuKey.LATEST:
        decision.reply = replies.latest(ctx, decision.uow)
    else:
        decision.reply = replies.help_text(ctx)
    return decision


def on_erase(ctx: Context) -> Decision:
    """确认删除我的数据: erase now, before this callback's own commit.

    The erasure is idempotent and bounded (≤ 30 active subscriptions in one
    transaction, then TTL-bounded sweeps), so it runs inside the 5 s answer
    rather than through a queue: a retry of this message, or a conflict that
    makes the engine decide again, erases again and finds nothing.  Nothing of
    him is written afterwards: no interaction is recorded (that would create
    his fan item again), and the de-duplication record keeps no reply.
    """
    from chalicelib.services.subscriptions import personal_data

    result = personal_data.erase(ctx.appid, ctx.openid, ctx.now)
    decision = Decision(remember_reply=False)
    bump(decision.uow, "account", ctx.appid, {"messages": 1}, ctx.now)
    decision.reply = render_text("erase_done", lost=result.lost_subscriptions)
    return decision


def _text_reply(ctx: Context, decision: Decision, delta: FanDelta, command: commands.Command) -> str:
    """The reply to a text command other than the erasure, adding its writes to ``decision``."""
    code = command.screen_code
    if command.name == commands.SUBSCRIBE:
        outcome = subscriptions.add_subscribe(
            decision.uow,
            delta,
            fan=ctx.fan,
            screen=ctx.snapshot.get("screen") if code else None,
            existing=ctx.snapshot.get("subscription"),
            source="text",
            now=ctx.now,
        )
        return replies.subscribe_result(ctx, outcome, code or command.arg)
    if command.name == commands.UNSUBSCRIBE:
        return _unsubscribe_reply(ctx, decision, delta, command)
    if command.name == commands.MINE:
        return replies.my_screens(ctx)
    if command.name == commands.LATEST:
        return replies.latest(ctx, decision.uow)
    if command.name == commands.ERASE_ASK:
        return render_text("erase_ask", data_url=replies.fan_link(ctx, links.my_data(ctx.appid)))
    return replies.help_text(ctx, command.arg if command.name == commands.UNKNOWN else None)


def _unsubscribe_reply(ctx: Context, decision: Decision, delta: FanDelta, command: commands.Command) -> str:
    code = command.screen_code
    screen = ctx.snapshot.get("screen")
    outcome = (
        subscriptions.add_unsubscribe(
            decision.uow, delta, screen_id=code, existing=ctx.snapshot.get("subscription"), now=ctx.now
        )
        if code
        else Outcome.NOT_SUBSCRIBED
    )
    return render_text(
        "unsubscribe_result",
        outcome=outcome.value,
        code=code or (command.arg or "")[:20],
        screen_name=screen.name if screen else code,
    )


def on_text(ctx: Context) -> Decision:
    command = commands.parse(as_text(ctx.message.content))
    if command.name == commands.ERASE:
        return on_erase(ctx)
    decision, delta = Decision(), ctx.delta()
    decision.reply = _text_reply(ctx, decision, delta, command)
    touch(delta, ctx, message=True)
    delta.flush(decision.uow)
    bump(decision.uow, "account", ctx.appid, {"messages": 1}, ctx.now)
    return decision


def on_other_message(ctx: Context) -> Decision:
    decision, delta = Decision(), ctx.delta()
    touch(delta, ctx, message=True)
    delta.flush(decision.uow)
    bump(decision.uow, "account", ctx.appid, {"messages": 1}, ctx.now)
    decision.reply = replies.help_text(ctx)
    return decision


def on_other_event(ctx: Context) -> Decision:
    """VIEW (a menu link was opened), LOCATION and the rest: note the interaction, reply nothing."""
    decision, delta = Decision(), ctx.delta()
    touch(delta, ctx)
    delta.flush(decision.uow)
    return decision


def receipt_msg_id(ctx: Context) -> str:
    """The receipt's msgid as WeChat spelled it (``MsgID``; ``MsgId`` from older senders).

    Read from the verified fields, not wechatpy's ``TemplateSendJobFinishEvent.id``:
    that one reads ``MsgID`` only, as an integer, and the push sender's routes
    key on the text.
    """
    raw = ctx.inbound.raw
    return str(raw.get("MsgID") or raw.get("MsgId") or "")[:32]


def _receipt_job(ctx: Context, msg_id: str) -> str | None:
    """The push job this receipt answers, from the ``"<msgid>><job_id>"`` routes read with the fan."""
    route = ctx.snapshot.get("msg_route")
    if route is None or not msg_id:
        return None
    prefix = f"{msg_id}>"
    return next((entry[len(prefix) :] for entry in (route.routes or ()) if entry.startswith(prefix)), None)


def on_template_receipt(ctx: Context) -> Decision:
    """``TEMPLATESENDJOBFINISH``: store the receipt, count it for the account and for the push it answers.

    The push sender records ``"<msgid>><job_id>"`` routes (``PushMsgRoute``),
    read together with the fan by the receipt route, so the receipt is
    attributed to its content and job in this same transaction.  A block
    stops the template channel for this fan.
    """
    decision = Decision()
    status = as_text(ctx.message.status).strip()
    msg_id = receipt_msg_id(ctx)
    receipt = DeliveryReceipt(
        ctx.appid,
        msg_id,
        openid=ctx.openid,
        status=status[:64],
        expires_at=ctx.now + RECEIPT_KEPT,
    )
    decision.uow.put(receipt)
    counter = "receipts_success" if status == "success" else "receipts_failed"
    bump(decision.uow, "account", ctx.appid, {counter: 1}, ctx.now)
    job_id = _receipt_job(ctx, msg_id)
    if job_id:
        bump(decision.uow, "content", job_id.rsplit(":", 1)[0], {counter: 1}, ctx.now)
        decision.uow.update(PushJob(job_id), [getattr(PushJob, counter).add(1)])
    if "block" in status:
        decision.uow.update(Fan(ctx.appid, ctx.openid), [Fan.stopped_channels.add({push_policy.TEMPLATE})], tag="fan")
    return decision
