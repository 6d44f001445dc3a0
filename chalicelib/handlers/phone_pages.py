"""The phone pages residents open inside WeChat (URLs fixed in ``chalicelib.links``).

- ``GET  /m/{appid}/subscribe``: the subscription centre (search, near screens first, by region and unit)
- ``POST /m/{appid}/subscribe``: subscribe or unsubscribe one screen (OAuth session + CSRF token)
- ``GET  /m/{appid}/mine``: the fan's screens and unread items
- ``GET  /m/{appid}/screens/{screen_id}``: the screen mirror, from the player's own manifest
- ``GET  /m/{appid}/oauth``: WeChat's OAuth redirect target

One item (``/m/{appid}/content/{content_id}``, from a push or a link) has its own module, ``phone_content``;
我的数据 (PIPL, ``/m/{appid}/mydata``) too, ``phone_mydata``.

Each handler parses, calls a service and shapes HTML: who the reader is is decided in
``chalicelib.services.subscriptions.phone_visitor`` (cookies and sessions in ``phone_identity``, explained in
``docs/phone.md``), and the tables are read through ``chalicelib.services.subscriptions.phone_pages``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

import segno
from chalice import Blueprint, Response

from chalicelib import links
from chalicelib.contracts.ids import normalise_screen_code
from chalicelib.handlers.phone_web import (
    FORM_TYPES,
    PageError,
    Visit,
    absolute,
    authorize,
    current_path,
    form,
    html,
    needs_authorization,
    page,
    page_link,
    query,
    redirect,
    return_path,
    same_origin,
    visit,
)
from chalicelib.services.gateway.tokens import app_secret
from chalicelib.services.screens import catalogue as screen_catalogue
from chalicelib.services.screens import playlist
from chalicelib.services.subscriptions import pages as page_subscriptions
from chalicelib.services.subscriptions import phone_identity as identity
from chalicelib.services.subscriptions import phone_pages as pages
from chalicelib.services.subscriptions.pages import Refusal
from chalicelib.services.subscriptions.phone_pages import FanState
from chalicelib.services.subscriptions.subscribing import MAX_SCREENS_PER_FAN, Outcome
from chalicelib.wechat.oauth import CodeRejected, OAuthUnavailable, exchange_code

bp = Blueprint(__name__)

NOTICES = {
    Outcome.SUBSCRIBED.value: "已订阅「{name}」，大屏有新内容会推送给您。",
    Outcome.ALREADY_SUBSCRIBED.value: "您已经订阅了「{name}」。",
    Outcome.UNSUBSCRIBED.value: "已退订「{name}」。",
    Outcome.NOT_SUBSCRIBED.value: "您没有订阅「{name}」。",
    Outcome.LIMIT_REACHED.value: f"每人最多订阅 {MAX_SCREENS_PER_FAN} 块大屏，请先退订一些。",
}


def _fan(v: Visit) -> FanState:
    return pages.fan_state(v.appid, v.session.openid if v.session else None)


def _follow_qr(screen_id: str) -> str | None:
    """The screen's own WeChat QR code as an image: long-pressing it in WeChat follows the account and
    subscribes to this screen in one step.  An <img> (not inline SVG), because WeChat only recognises images."""
    url = pages.follow_qr_url(screen_id)
    return segno.make(url, error="m").png_data_uri(scale=6, border=2) if url else None


def _notice(params: dict[str, str]) -> str | None:
    template = NOTICES.get(params.get("done", ""))
    if template is None:
        return None
    return template.format(name=pages.screen_name(normalise_screen_code(params.get("sid", "")) or ""))


def _page_number(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and len(raw) < 5 else 1


# ------------------------------------------------------------------ subscription centre


@bp.route("/m/{appid}/subscribe", methods=["GET"])
@page(bp)
def subscription_centre(appid: str) -> Response:
    v, params = visit(bp, appid), query(bp)
    if "t" in params:
        return page_link(v, "subscribe", params)
    if needs_authorization(v):
        return authorize(v, current_path(appid, "subscribe", params, drop=("done", "sid")))
    active = set(_fan(v).active_screens)
    catalogue = screen_catalogue.catalogue_page(
        v.account,
        query=params.get("q", ""),
        page=_page_number(params.get("page")),
        active=active,
    )
    return html(
        "subscribe",
        v,
        catalogue=catalogue,
        notice=_notice(params),
        tab="subscribe",
        next_path=current_path(appid, "subscribe", params, drop=("done", "sid")),
        subscribed_count=len(active),
    )


@bp.route("/m/{appid}/subscribe", methods=["POST"], content_types=FORM_TYPES)
@page(bp)
def change_subscription(appid: str) -> Response:
    v, data = visit(bp, appid), form(bp)
    if v.session is None or not v.may_change:
        raise PageError(
            403,
            "请重新打开页面",
            "登录状态已失效，请从公众号菜单重新进入后再订阅。",
            links.subscription_centre(appid),
            "重新进入",
        )
    if not same_origin(bp) or not identity.csrf_ok(v.session, data.get("csrf")):
        raise PageError(
            403,
            "请求已过期",
            "为保护您的账号，这次操作没有执行。请刷新页面后重试。",
            links.subscription_centre(appid),
            "返回订阅中心",
        )
    code = normalise_screen_code(data.get("screen", ""))
    action = data.get("action")
    if code is None or action not in ("subscribe", "unsubscribe"):
        raise PageError(400, "无法识别这块大屏", "请返回上一页重试。", links.subscription_centre(appid), "返回订阅中心")
    back = return_path(appid, data.get("next"))  # before the write: a bad next must not fail after it
    result = page_subscriptions.change(appid, v.session.openid, code, subscribe=action == "subscribe")
    if result.refusal == Refusal.NOT_FOLLOWING:
        raise PageError(
            403,
            "请先关注公众号",
            f"关注「{v.account.name}」公众号后，就可以订阅大屏、接收大屏推送了。",
            links.screen_mirror(appid, code),
            "先看看这块大屏",
            follow_qr=_follow_qr(code),
        )
    if result.refusal == Refusal.WECHAT_UNAVAILABLE:
        raise PageError(
            503, "暂时无法订阅", "微信服务暂时不可用，请稍后重试。", links.subscription_centre(appid), "返回"
        )
    if result.outcome is None or result.outcome == Outcome.UNKNOWN_SCREEN:  # no refusal: an outcome
        raise PageError(404, "找不到这块大屏", f"没有编号为 {code} 的大屏。", links.subscription_centre(appid), "返回")
    separator = "&" if urlsplit(back).query else "?"
    done = urlencode({"done": result.outcome.value, "sid": code})
    return redirect(absolute(f"{back}{separator}{done}"), status=303)


@bp.route("/m/{appid}/mine", methods=["GET"])
@page(bp)
def my_screens(appid: str) -> Response:
    v, params = visit(bp, appid), query(bp)
    if "t" in params:
        return page_link(v, "mine", params)
    if needs_authorization(v):
        return authorize(v, current_path(appid, "mine"))
    fan = _fan(v)
    active = sorted(fan.active_screens)
    cards = screen_catalogue.cards_for(active, active=set(active), account=v.account)
    unread = pages.unread_items(fan)
    return html(
        "mine", v, cards=cards, unread=unread, notice=_notice(params), tab="mine", next_path=current_path(appid, "mine")
    )


# ------------------------------------------------------------------ screen mirror


@bp.route("/m/{appid}/screens/{screen_id}", methods=["GET"])
@page(bp)
def screen_mirror(appid: str, screen_id: str) -> Response:
    v, params = visit(bp, appid), query(bp)
    code = normalise_screen_code(screen_id)
    if "t" in params and code:
        return page_link(v, f"screens/{code}", params)
    if v.silent_authorization and code:
        return authorize(v, current_path(appid, f"screens/{code}"))
    screen = pages.screen(code)
    if screen is None:
        raise PageError(
            404,
            "找不到这块大屏",
            "编号可能有误，或这块大屏已下线。",
            links.subscription_centre(appid),
            "去订阅中心看看",
        )
    now = datetime.now(UTC)
    manifest = screen_catalogue.manifest_for(screen.screen_id)
    items = playlist.current_items(manifest, now)
    playing = playlist.now_playing(manifest, now, screen_catalogue.reported_content(screen, now))
    fan = _fan(v)
    return html(
        "mirror",
        v,
        screen=screen,
        unit_name=pages.unit_name(screen.unit_id),
        items=items,
        playing=playing,
        tab="",
        subscribed=screen.screen_id in fan.active_screens,
        unread=set(fan.unread_content),
        next_path=current_path(appid, f"screens/{screen.screen_id}"),
        generated_at=(manifest or {}).get("generated_at"),
    )


# ------------------------------------------------------------------ OAuth callback


@bp.route("/m/{appid}/oauth", methods=["GET"])
@page(bp)
def oauth_callback(appid: str) -> Response:
    v, params = visit(bp, appid), query(bp)
    if not v.oauth_capable:
        raise PageError(404, "页面不存在", "这个公众号不支持网页授权。")
    pre = identity.read_pre_auth(appid, v.cookies, params.get("state"))
    if pre is None and v.may_change:
        return redirect(links.subscription_centre(appid))  # a reload of this URL after signing in
    if pre is None:
        raise PageError(403, "授权已过期", "请回到公众号，重新打开页面。", links.subscription_centre(appid), "重新进入")
    code = params.get("code", "")
    if not code or len(code) > 128:
        raise PageError(403, "未能完成授权", "需要您的授权才能订阅大屏。", links.subscription_centre(appid), "重新授权")
    try:
        openid = exchange_code(appid, app_secret(appid), code, identity.oauth_redirect_uri(appid))
    except CodeRejected:
        if pre.attempt < identity.MAX_OAUTH_ATTEMPTS:
            return authorize(v, pre.next_path, pre.attempt + 1)
        raise PageError(
            403,
            "授权失败",
            "微信授权没有成功，请返回公众号重新打开页面。",
            links.subscription_centre(appid),
            "重新进入",
        ) from None
    except OAuthUnavailable:
        raise PageError(502, "微信授权暂时不可用", "请稍后再试。", links.subscription_centre(appid), "重试") from None
    _session, cookie = identity.new_session(appid, openid, identity.OAUTH)
    v.set_cookies += [identity.clear_pre_auth(appid), cookie]
    return redirect(absolute(pre.next_path), v.set_cookies)
