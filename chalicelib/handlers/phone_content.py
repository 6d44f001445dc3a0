"""One article or notice on the phone: ``GET /m/{appid}/content/{content_id}``, from a push or a link.

Counts the read (by source: push, digest, menu, screen, link), marks an unread
item seen, and turns a push link's signed token into the reader's identity
before the token leaves the address bar.  Who the reader is is decided in
``services.subscriptions.phone_visitor``; the other phone pages are in
``phone_pages``.
"""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib import links
from chalicelib.contracts.ids import normalise_screen_code
from chalicelib.handlers.phone_web import (
    PageError,
    Visit,
    absolute,
    authorize,
    current_path,
    html,
    page,
    query,
    redirect,
    visit,
)
from chalicelib.page_tokens import verify_link
from chalicelib.services.content import reads
from chalicelib.services.content import view as content_view
from chalicelib.services.content.view import Unavailable
from chalicelib.services.subscriptions import phone_identity as identity
from chalicelib.services.subscriptions import phone_pages as pages
from chalicelib.services.subscriptions import phone_visitor as visitor
from chalicelib.services.subscriptions.phone_visitor import PushLinkReader

bp = Blueprint(__name__)


@bp.route("/m/{appid}/content/{content_id}", methods=["GET"])
@page(bp)
def content_page(appid: str, content_id: str) -> Response:
    v, params = visit(bp, appid), query(bp)
    src = params.get("src")
    source = src if src is not None and src in reads.SOURCES else "link"
    token = params.get("t")
    if token:
        return _open_push_link(v, content_id, token, params, source)
    if v.silent_authorization and content_view.valid_content_id(content_id):
        return authorize(v, current_path(appid, f"content/{content_id}", params))
    view = content_view.load(content_id)
    if view is Unavailable.NOT_FOUND:
        raise PageError(
            404, "内容不存在", "这条内容可能还没有发布，或链接有误。", links.subscription_centre(appid), "去订阅中心"
        )
    if view is Unavailable.GONE:
        raise PageError(
            410,
            "内容已下线",
            "这条内容已过有效期或已被撤回，去看看大屏上的最新内容吧。",
            links.my_screens(appid),
            "我的大屏",
        )
    fan = pages.fan_state(appid, v.session.openid if v.session else None)
    screen_id = content_view.source_screen(
        view.content, normalise_screen_code(params.get("s", "")), set(fan.active_screens)
    )
    reader, cookie = visitor.reader(appid, v.session, v.cookies)
    if cookie is not None:
        v.set_cookies.append(cookie)
    reads.record_read(
        appid=appid, reader=reader, content_id=view.content.content_id, screen_id=screen_id, source=source
    )
    is_unread = view.content.content_id in fan.unread_content
    if is_unread and fan.openid is not None:  # only a known fan has unread items
        reads.mark_seen(appid, fan.openid, view.content.content_id)
    return html(
        "content",
        v,
        view=view,
        content=view.content,
        screen=pages.screen(screen_id),
        unit_name=pages.unit_name(view.content.unit_id),
        was_unread=is_unread,
        tab="",
    )


def _open_push_link(v: Visit, content_id: str, token: str, params: dict[str, str], source: str) -> Response:
    """A tap on a push: take the identity the signed token carries, then show the page without the token.

    The token leaves the address bar at once (redirect) so a page shared from
    WeChat does not carry it.  A fan who already proved who he is through
    OAuth stays himself; if the link was someone else's, his read counts as a
    shared link.
    """
    claims = verify_link(token)
    clean = {k: val for k, val in params.items() if k != "t"}
    if claims is None or not visitor.push_link_valid(v.appid, content_id, claims):
        if v.session is not None:
            return redirect(absolute(current_path(v.appid, f"content/{content_id}", clean)))
        if v.oauth_capable:
            return authorize(v, current_path(v.appid, f"content/{content_id}", clean))
        raise PageError(
            403,
            "链接已失效",
            "这个链接已过期或不完整。您仍可以直接阅读这条内容。",
            absolute(current_path(v.appid, f"content/{content_id}", dict(clean, src="link"))),
            "继续阅读",
        )
    who = visitor.push_link_reader(v.session, claims)
    if who is PushLinkReader.FORWARDED:
        clean["src"] = "link"  # a forwarded push: the reader is who OAuth says, not who it was sent to
    if who is PushLinkReader.ADOPT:
        v.session, cookie = identity.new_session(v.appid, claims.openid, identity.LINK)
        v.set_cookies.append(cookie)
    clean.setdefault("src", source)
    if clean["src"] == "push" and claims.issued_at is not None:  # the fan it was sent to: time to first read
        reads.record_first_push_read(
            appid=v.appid, openid=claims.openid, content_id=content_id, pushed_at=claims.issued_at
        )
    return redirect(absolute(current_path(v.appid, f"content/{content_id}", clean)), v.set_cookies)
