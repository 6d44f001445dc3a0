"""The phone pages residents open inside WeChat (URLs fixed in ``chalicelib.links``).

- ``GET  /m/{appid}/subscribe``: the subscription centre (search, near screens first, by region and unit)
- ``POST /m/{appid}/subscribe``: subscribe or unsubscribe one screen (OAuth session + CSRF token)
- ``GET  /m/{appid}/mine``: the fan's screens and unread items
- ``GET  /m/{appid}/screens/{screen_id}``: the screen mirror, from the player's own manifest
- ``GET  /m/{appid}/content/{content_id}``: one article or notice; counts the read
- ``GET  /m/{appid}/oauth``: WeChat's OAuth redirect target
- ``GET  /m/{appid}/mydata``: 我的数据 — what is stored about the fan (PIPL); ``?confirm=1`` asks before deleting
- ``GET  /m/{appid}/mydata/export``: the same as a JSON download
- ``POST /m/{appid}/mydata``: erase it (OAuth session + CSRF token + the confirmation field)

Each handler parses, calls a service and shapes HTML; identity rules are in
``chalicelib.services.phone_identity`` and explained in ``docs/phone.md``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

import segno
from chalice import Blueprint, Response

from chalicelib import links
from chalicelib.handlers.phone_web import (
    PageError,
    Visit,
    absolute,
    authorize,
    current_path,
    form,
    html,
    page,
    query,
    redirect,
    return_path,
    same_origin,
    visit,
)
from chalicelib.models.content import PUBLISHED, Content
from chalicelib.models.fans import Fan
from chalicelib.models.screens import Screen, normalise_screen_code
from chalicelib.models.units import Unit
from chalicelib.page_tokens import PAGES, verify_link
from chalicelib.services import content_view, page_subscriptions, personal_data, playlist, reads, screen_catalogue
from chalicelib.services import phone_identity as identity
from chalicelib.services.content_view import Unavailable
from chalicelib.services.page_subscriptions import Refusal
from chalicelib.services.subscriptions import MAX_SCREENS_PER_FAN, Outcome
from chalicelib.services.tokens import app_secret
from chalicelib.wechat.oauth import CodeRejected, OAuthUnavailable, exchange_code

bp = Blueprint(__name__)

FORM_TYPES = ["application/x-www-form-urlencoded"]
NOTICES = {
    Outcome.SUBSCRIBED.value: "已订阅「{name}」，大屏有新内容会推送给您。",
    Outcome.ALREADY_SUBSCRIBED.value: "您已经订阅了「{name}」。",
    Outcome.UNSUBSCRIBED.value: "已退订「{name}」。",
    Outcome.NOT_SUBSCRIBED.value: "您没有订阅「{name}」。",
    Outcome.LIMIT_REACHED.value: f"每人最多订阅 {MAX_SCREENS_PER_FAN} 块大屏，请先退订一些。",
}


def _fan(v: Visit) -> Fan | None:
    if v.session is None:
        return None
    try:
        return Fan.get(v.appid, v.session.openid, consistent_read=True)
    except Fan.DoesNotExist:
        return None


def _follow_qr(screen_id: str) -> str | None:
    """The screen's own WeChat QR code as an image: long-pressing it in WeChat follows the account and
    subscribes to this screen in one step.  An <img> (not inline SVG), because WeChat only recognises images."""
    try:
        url = Screen.get(screen_id).qr_url
    except Screen.DoesNotExist:
        return None
    return segno.make(url, error="m").png_data_uri(scale=6, border=2) if url else None


def _page_link(v: Visit, path: str, params: dict[str, str]) -> Response:
    """A signed link from one of the account's replies (subscription accounts, ``links.for_fan``): read as
    that fan (a link session: his state, never changes), then show the page without the token in the URL.
    A fan signed in through OAuth stays himself; a bad or expired token just falls back to anonymous."""
    claims = verify_link(params.get("t", ""))
    clean = {k: val for k, val in params.items() if k != "t"}
    usable = claims is not None and claims.appid == v.appid and claims.content_id == PAGES
    if usable and (v.session is None or (v.session.kind != identity.OAUTH and v.session.openid != claims.openid)):
        v.session, cookie = identity.new_session(v.appid, claims.openid, identity.LINK)
        v.set_cookies.append(cookie)
    return redirect(absolute(current_path(v.appid, path, clean)), v.set_cookies)


def _needs_authorization(v: Visit) -> bool:
    """Pages about the fan himself want a proven identity wherever WeChat can give one."""
    return v.oauth_capable and not v.may_change


def _notice(params: dict[str, str]) -> str | None:
    template = NOTICES.get(params.get("done", ""))
    if template is None:
        return None
    code = normalise_screen_code(params.get("sid", "")) or ""
    try:
        name = Screen.get(code).name if code else code
    except Screen.DoesNotExist:
        name = code
    return template.format(name=name)


def _page_number(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and len(raw) < 5 else 1


# ------------------------------------------------------------------ subscription centre

@bp.route("/m/{appid}/subscribe", methods=["GET"])
@page(bp)
def subscription_centre(appid: str) -> Response:
    v, params = visit(bp, appid), query(bp)
    if "t" in params:
        return _page_link(v, "subscribe", params)
    if _needs_authorization(v):
        return authorize(v, current_path(appid, "subscribe", params, drop=("done", "sid")))
    fan = _fan(v)
    active = set(fan.active_screens or ()) if fan else set()
    catalogue = screen_catalogue.catalogue_page(
        v.account, query=params.get("q", ""), page=_page_number(params.get("page")), active=active,
    )
    return html("subscribe", v, catalogue=catalogue, notice=_notice(params), tab="subscribe",
                next_path=current_path(appid, "subscribe", params, drop=("done", "sid")),
                subscribed_count=len(active))


@bp.route("/m/{appid}/subscribe", methods=["POST"], content_types=FORM_TYPES)
@page(bp)
def change_subscription(appid: str) -> Response:
    v, data = visit(bp, appid), form(bp)
    if not v.may_change:
        raise PageError(403, "请重新打开页面", "登录状态已失效，请从公众号菜单重新进入后再订阅。",
                        links.subscription_centre(appid), "重新进入")
    if not same_origin(bp) or not identity.csrf_ok(v.session, data.get("csrf")):
        raise PageError(403, "请求已过期", "为保护您的账号，这次操作没有执行。请刷新页面后重试。",
                        links.subscription_centre(appid), "返回订阅中心")
    code = normalise_screen_code(data.get("screen", ""))
    action = data.get("action")
    if code is None or action not in ("subscribe", "unsubscribe"):
        raise PageError(400, "无法识别这块大屏", "请返回上一页重试。", links.subscription_centre(appid), "返回订阅中心")
    back = return_path(appid, data.get("next"))  # before the write: a bad next must not fail after it
    result = page_subscriptions.change(appid, v.session.openid, code, subscribe=action == "subscribe")
    if result.refusal == Refusal.NOT_FOLLOWING:
        raise PageError(403, "请先关注公众号", f"关注「{v.account.name}」公众号后，就可以订阅大屏、接收大屏推送了。",
                        links.screen_mirror(appid, code), "先看看这块大屏", follow_qr=_follow_qr(code))
    if result.refusal == Refusal.WECHAT_UNAVAILABLE:
        raise PageError(503, "暂时无法订阅", "微信服务暂时不可用，请稍后重试。",
                        links.subscription_centre(appid), "返回")
    if result.outcome == Outcome.UNKNOWN_SCREEN:
        raise PageError(404, "找不到这块大屏", f"没有编号为 {code} 的大屏。", links.subscription_centre(appid), "返回")
    separator = "&" if urlsplit(back).query else "?"
    done = urlencode({"done": result.outcome.value, "sid": code})
    return redirect(absolute(f"{back}{separator}{done}"), status=303)


@bp.route("/m/{appid}/mine", methods=["GET"])
@page(bp)
def my_screens(appid: str) -> Response:
    v, params = visit(bp, appid), query(bp)
    if "t" in params:
        return _page_link(v, "mine", params)
    if _needs_authorization(v):
        return authorize(v, current_path(appid, "mine"))
    fan = _fan(v)
    active = sorted(fan.active_screens or ()) if fan else []
    cards = screen_catalogue.cards_for(active, active=set(active), account=v.account)
    unread = _unread_items(fan)
    return html("mine", v, cards=cards, unread=unread, notice=_notice(params), tab="mine",
                next_path=current_path(appid, "mine"))


def _unread_items(fan: Fan | None) -> list:
    """The fan's waiting items that are still readable, newest first (subscription accounts)."""
    ids = sorted(fan.unread_content or ())[:50] if fan else []
    if not ids:
        return []
    now = datetime.now(UTC)
    items = [c for c in Content.batch_get(ids)
             if c.status == PUBLISHED and (c.valid_until is None or c.valid_until > now)]
    return sorted(items, key=lambda c: c.published_at or c.created_at, reverse=True)


# ------------------------------------------------------------------ screen mirror

@bp.route("/m/{appid}/screens/{screen_id}", methods=["GET"])
@page(bp)
def screen_mirror(appid: str, screen_id: str) -> Response:
    v, params = visit(bp, appid), query(bp)
    code = normalise_screen_code(screen_id)
    if "t" in params and code:
        return _page_link(v, f"screens/{code}", params)
    if v.silent_authorization and code:
        return authorize(v, current_path(appid, f"screens/{code}"))
    try:
        screen = Screen.get(code) if code else None
    except Screen.DoesNotExist:
        screen = None
    if screen is None:
        raise PageError(404, "找不到这块大屏", "编号可能有误，或这块大屏已下线。", links.subscription_centre(appid),
                        "去订阅中心看看")
    now = datetime.now(UTC)
    manifest = screen_catalogue.manifest_for(screen.screen_id)
    items = playlist.current_items(manifest, now)
    playing = playlist.now_playing(manifest, now, screen_catalogue.reported_content(screen, now))
    fan = _fan(v)
    try:
        unit_name = Unit.get(screen.unit_id).name
    except Unit.DoesNotExist:
        unit_name = ""
    return html(
        "mirror", v, screen=screen, unit_name=unit_name, items=items, playing=playing, tab="",
        subscribed=bool(fan and screen.screen_id in (fan.active_screens or ())),
        unread=set(fan.unread_content or ()) if fan else set(),
        next_path=current_path(appid, f"screens/{screen.screen_id}"), generated_at=(manifest or {}).get("generated_at"),
    )


# ------------------------------------------------------------------ content

@bp.route("/m/{appid}/content/{content_id}", methods=["GET"])
@page(bp)
def content_page(appid: str, content_id: str) -> Response:
    v, params = visit(bp, appid), query(bp)
    source = params.get("src") if params.get("src") in reads.SOURCES else "link"
    token = params.get("t")
    if token:
        return _open_push_link(v, content_id, token, params, source)
    if v.silent_authorization and content_view.valid_content_id(content_id):
        return authorize(v, current_path(appid, f"content/{content_id}", params))
    view = content_view.load(content_id)
    if view is Unavailable.NOT_FOUND:
        raise PageError(404, "内容不存在", "这条内容可能还没有发布，或链接有误。",
                        links.subscription_centre(appid), "去订阅中心")
    if view is Unavailable.GONE:
        raise PageError(410, "内容已下线", "这条内容已过有效期或已被撤回，去看看大屏上的最新内容吧。",
                        links.my_screens(appid), "我的大屏")
    fan = _fan(v)
    fan_screens = set(fan.active_screens or ()) if fan else set()
    screen_id = content_view.source_screen(view.content, normalise_screen_code(params.get("s", "")), fan_screens)
    if v.session is not None:
        reader = v.session.openid
    else:
        visitor = identity.visitor_id(v.cookies)
        if visitor is None:
            visitor, cookie = identity.new_visitor(appid)
            v.set_cookies.append(cookie)
        reader = f"v:{visitor}"
    reads.record_read(appid=appid, reader=reader, content_id=view.content.content_id, screen_id=screen_id,
                      source=source)
    is_unread = bool(fan and view.content.content_id in (fan.unread_content or ()))
    if is_unread:
        reads.mark_seen(appid, fan.openid, view.content.content_id)
    screen = _screen_or_none(screen_id)
    try:
        unit_name = Unit.get(view.content.unit_id).name
    except Unit.DoesNotExist:
        unit_name = ""
    return html("content", v, view=view, content=view.content, screen=screen, unit_name=unit_name,
                was_unread=is_unread, tab="")


def _open_push_link(v: Visit, content_id: str, token: str, params: dict[str, str], source: str) -> Response:
    """A tap on a push: take the identity the signed token carries, then show the page without the token.

    The token leaves the address bar at once (redirect) so a page shared from
    WeChat does not carry it.  A fan who already proved who he is through
    OAuth stays himself; if the link was someone else's, his read counts as a
    shared link.
    """
    claims = verify_link(token)
    valid = claims is not None and claims.appid == v.appid and claims.content_id == content_id
    clean = {k: val for k, val in params.items() if k != "t"}
    if not valid:
        if v.session is not None:
            return redirect(absolute(current_path(v.appid, f"content/{content_id}", clean)))
        if v.oauth_capable:
            return authorize(v, current_path(v.appid, f"content/{content_id}", clean))
        raise PageError(403, "链接已失效", "这个链接已过期或不完整。您仍可以直接阅读这条内容。",
                        absolute(current_path(v.appid, f"content/{content_id}", dict(clean, src="link"))), "继续阅读")
    if v.session is not None and v.session.openid != claims.openid:
        if v.session.kind == identity.OAUTH:
            clean["src"] = "link"  # a forwarded push: the reader is who OAuth says, not who it was sent to
        else:
            v.session = None
    if v.session is None:
        v.session, cookie = identity.new_session(v.appid, claims.openid, identity.LINK)
        v.set_cookies.append(cookie)
    clean.setdefault("src", source)
    if clean["src"] == "push" and claims.issued_at is not None:  # the fan it was sent to: time to first read
        reads.record_first_push_read(appid=v.appid, openid=claims.openid, content_id=content_id,
                                     pushed_at=claims.issued_at)
    return redirect(absolute(current_path(v.appid, f"content/{content_id}", clean)), v.set_cookies)


def _screen_or_none(screen_id: str | None) -> Screen | None:
    if not screen_id:
        return None
    try:
        return Screen.get(screen_id)
    except Screen.DoesNotExist:
        return None


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
        raise PageError(403, "授权失败", "微信授权没有成功，请返回公众号重新打开页面。",
                        links.subscription_centre(appid), "重新进入") from None
    except OAuthUnavailable:
        raise PageError(502, "微信授权暂时不可用", "请稍后再试。", links.subscription_centre(appid), "重试") from None
    _session, cookie = identity.new_session(appid, openid, identity.OAUTH)
    v.set_cookies += [identity.clear_pre_auth(appid), cookie]
    return redirect(absolute(pre.next_path), v.set_cookies)


# ------------------------------------------------------------------ 我的数据 (PIPL)

ERASE_CONFIRMATION = "erase"


@bp.route("/m/{appid}/mydata", methods=["GET"])
@page(bp)
def my_data(appid: str) -> Response:
    """What is stored about him.  Reading needs a session; deleting needs the OAuth-proven one (a forwarded
    push link must not let its reader erase the sender), so subscription accounts delete by the WeChat
    command 删除我的数据 instead, which WeChat itself vouches for."""
    v, params = visit(bp, appid), query(bp)
    if "t" in params:
        return _page_link(v, "mydata", params)
    if _needs_authorization(v):
        return authorize(v, current_path(appid, "mydata", params, drop=("done",)))
    data = personal_data.collect(appid, v.session.openid) if v.session else None
    return html("mydata", v, data=data, counts=personal_data.summary(data) if data else None, tab="mine",
                confirm=params.get("confirm") == "1" and v.may_change, erased=params.get("done") == "erased",
                confirmation=ERASE_CONFIRMATION)


@bp.route("/m/{appid}/mydata/export", methods=["GET"])
@page(bp)
def my_data_export(appid: str) -> Response:
    v = visit(bp, appid)
    if v.session is None:
        raise PageError(403, "请重新打开页面", "请从公众号菜单进入「我的大屏」后再下载您的数据。",
                        links.my_screens(appid), "重新进入")
    body = json.dumps(personal_data.collect(appid, v.session.openid), ensure_ascii=False, indent=2)
    return Response(body, status_code=200, headers={
        "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store",
        "Content-Disposition": 'attachment; filename="my-data.json"', "X-Content-Type-Options": "nosniff"})


@bp.route("/m/{appid}/mydata", methods=["POST"], content_types=FORM_TYPES)
@page(bp)
def erase_my_data(appid: str) -> Response:
    v, data = visit(bp, appid), form(bp)
    if not v.may_change:
        raise PageError(403, "请重新打开页面", "登录状态已失效，请从公众号菜单重新进入后再删除，"
                        "或在公众号对话框回复「删除我的数据」。", links.my_data(appid), "重新进入")
    if not same_origin(bp) or not identity.csrf_ok(v.session, data.get("csrf")):
        raise PageError(403, "请求已过期", "为保护您的账号，这次操作没有执行。请刷新页面后重试。",
                        links.my_data(appid), "返回我的数据")
    if data.get("confirm") != ERASE_CONFIRMATION:
        raise PageError(400, "没有确认删除", "删除前需要您再确认一次。", f"{links.my_data(appid)}?confirm=1", "去确认")
    personal_data.erase(appid, v.session.openid)
    return redirect(f"{links.my_data(appid)}?done=erased", status=303)
