"""Messages: customer-service, template, subscription-notice and mass sends.

Why these rules: each channel has WeChat's own conditions (followers only, an
open customer-service window, an accepted subscription, template data limits
since 2023, a clientmsgid seen in the last 24 h) and the product's push policy
must meet exactly those; a send that passes lands in the user's inbox.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from typing import Any

from devstack.wechat_standin.controls import control
from devstack.wechat_standin.core import Core
from devstack.wechat_standin.errors import WeChatError
from devstack.wechat_standin.state import Account, Fan
from devstack.wechat_standin.wire import Request, Route, ok

CLIENTMSGID_TTL = 24 * 3600
CUSTOM_MSGTYPES = {
    "text",
    "image",
    "voice",
    "video",
    "music",
    "news",
    "mpnews",
    "mpnewsarticle",
    "msgmenu",
    "wxcard",
    "miniprogrampage",
    "link",
}
MASS_MSGTYPES = {"mpnews", "text", "voice", "image", "mpvideo", "wxcard"}

# Since 2023 template/subscription data values are length-limited by keyword
# type and may not contain line breaks; unknown keywords get the `thing` limit.
DATA_LIMITS: dict[str, int] = {
    "thing": 20,
    "character_string": 32,
    "number": 32,
    "letter": 32,
    "symbol": 5,
    "phone_number": 17,
    "car_number": 8,
    "name": 20,
    "phrase": 5,
    "amount": 11,
}
DEFAULT_DATA_LIMIT = 20


def check_data_values(data: Any) -> None:
    """Apply the 2023 template/subscription rule: per-keyword length limit, no newlines."""
    if not isinstance(data, dict):
        raise WeChatError(47001)
    for key, item in data.items():
        value = item.get("value", "") if isinstance(item, dict) else item
        value = str(value)
        keyword = str(key).rstrip("0123456789")
        limit = DATA_LIMITS.get(keyword, DEFAULT_DATA_LIMIT)
        if "\n" in value or "\r" in value:
            raise WeChatError(47003, f"argument invalid! data.{key}.value contains line break")
        if len(value) > limit:
            raise WeChatError(47003, f"argument invalid! data.{key}.value exceed max length {limit}")


def check_custom_payload(body: dict[str, Any]) -> None:
    """The message type and its content, with the codes message/custom/send answers."""
    msgtype = body.get("msgtype")
    if msgtype not in CUSTOM_MSGTYPES:
        raise WeChatError(40008)
    content = body.get(msgtype)
    if not isinstance(content, dict):
        raise WeChatError(47001)
    if msgtype == "text":
        text = content.get("content")
        if not text:
            raise WeChatError(44004)
        if len(str(text).encode("utf-8")) > 2048:
            raise WeChatError(45002)
    if msgtype == "news":
        articles = content.get("articles")
        if not articles:
            raise WeChatError(44003)
        if len(articles) > 1:
            raise WeChatError(45008)


def _follower(core: Core, account: Account, body: dict[str, Any]) -> Fan:
    fan = core.known_fan(account, body.get("touser"))
    if not fan.subscribed:
        raise WeChatError(43004)
    return fan


def custom_send(core: Core, request: Request) -> dict[str, Any]:
    """Customer-service message: only to followers, only inside an open window."""
    account = core.auth(request)
    body = core.json_body(request)
    fan = _follower(core, account, body)
    check_custom_payload(body)
    if core.state.window_enforcement:
        usable = [w for w in fan.windows.values() if w.usable(core.now())]
        if not usable:
            raise WeChatError(45015)
        min(usable, key=lambda w: w.opened_at + w.duration).used += 1
    core.deliver(fan.openid, account.appid, "custom", body, core.next_msgid())
    return ok()


def _service_template_body(core: Core, request: Request) -> tuple[Account, dict[str, Any]]:
    """Template and subscription sends: service accounts only, a template_id required."""
    account = core.auth(request)
    if account.account_type != "service":
        raise WeChatError(48001)
    body = core.json_body(request)
    if not body.get("template_id"):
        raise WeChatError(40037)
    return account, body


def template_send(core: Core, request: Request) -> dict[str, Any]:
    """Template message: service accounts only, followers only, 2023 data rules."""
    account, body = _service_template_body(core, request)
    fan = _follower(core, account, body)
    check_data_values(body.get("data", {}))
    msgid = core.next_msgid()
    core.deliver(fan.openid, account.appid, "template", body, msgid)
    return ok(msgid=msgid)


def subscribe_send(core: Core, request: Request) -> dict[str, Any]:
    """Subscription notice: needs the user's acceptance for that template, one send each."""
    account, body = _service_template_body(core, request)
    template_id = body["template_id"]
    fan = core.known_fan(account, body.get("touser"))
    check_data_values(body.get("data", {}))
    if template_id not in fan.subscribe_credits:
        raise WeChatError(43101)
    remaining = fan.subscribe_credits[template_id]
    if remaining is not None:
        if remaining <= 1:
            del fan.subscribe_credits[template_id]
        else:
            fan.subscribe_credits[template_id] = remaining - 1
    core.deliver(fan.openid, account.appid, "subscribe", body, core.next_msgid())
    return ok()


def _check_mass_body(body: dict[str, Any]) -> dict[str, Any]:
    """The filter of a mass send (47001 without one) and its message type (40008)."""
    flt = body.get("filter")
    if not isinstance(flt, dict):
        raise WeChatError(47001)
    msgtype = body.get("msgtype")
    if msgtype not in MASS_MSGTYPES or not isinstance(body.get(msgtype), dict):
        raise WeChatError(40008)
    return flt


def mass_sendall(core: Core, request: Request) -> dict[str, Any]:
    """Mass send by tag; a repeated clientmsgid within 24 h is refused (45065)."""
    account = core.auth(request)
    body = core.json_body(request)
    flt = _check_mass_body(body)
    clientmsgid = body.get("clientmsgid")
    now = core.now()
    if clientmsgid:
        seen = account.clientmsgids.get(str(clientmsgid))
        if seen is not None and now - seen < CLIENTMSGID_TTL:
            raise WeChatError(45065)
    to_all = bool(flt.get("is_to_all")) or int(flt.get("tag_id") or 0) == 0
    tag_id = int(flt.get("tag_id") or 0)
    msg_id = core.next_msgid()
    for fan in account.fans.values():
        if fan.subscribed and (to_all or tag_id in fan.tags):
            core.deliver(fan.openid, account.appid, "mass", body, msg_id)
    if clientmsgid:
        account.clientmsgids[str(clientmsgid)] = now
    return {"errcode": 0, "errmsg": "send job submission success", "msg_id": msg_id, "msg_data_id": msg_id % 100000000}


# ---- controls -----------------------------------------------------------------


@control(read=True)
def inbox(core: Core, openid: str) -> list[dict[str, Any]]:
    """Everything successfully pushed to ``openid``, oldest first."""
    return copy.deepcopy(core.state.inboxes.get(openid, []))


@control
def set_window_enforcement(core: Core, enabled: bool) -> None:
    """Whether customer-service sends need an open window (on, as in WeChat, unless a test turns it off)."""
    core.state.window_enforcement = bool(enabled)


def _random_msgids(seed: int) -> Iterator[int]:
    rng = random.Random(seed)
    seen: set[int] = set()
    while True:
        value = rng.randrange(10**18, 9 * 10**18)
        if value not in seen:
            seen.add(value)
            yield value


@control
def use_random_msgids(core: Core, seed: int = 0) -> None:
    """Answer sends with WeChat's real msgid shape: large, unique, not consecutive."""
    core.state.msgids = _random_msgids(seed)


ROUTES: dict[str, Route] = {
    "/cgi-bin/message/custom/send": Route("POST", custom_send),
    "/cgi-bin/message/template/send": Route("POST", template_send),
    "/cgi-bin/message/subscribe/bizsend": Route("POST", subscribe_send),
    "/cgi-bin/message/mass/sendall": Route("POST", mass_sendall),
}
