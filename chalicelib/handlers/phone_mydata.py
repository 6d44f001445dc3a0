"""我的数据 (PIPL): the phone pages where a fan sees, downloads and erases what is stored about him.

- ``GET  /m/{appid}/mydata``: what is stored about the fan; ``?confirm=1`` asks before deleting
- ``GET  /m/{appid}/mydata/export``: the same as a JSON download
- ``POST /m/{appid}/mydata``: erase it (OAuth session + CSRF token + the confirmation field)

Its own module because erasing has its own rules (only an OAuth-proven fan,
an explicit confirmation); the collecting and erasing are in
``chalicelib.services.subscriptions.personal_data``.
"""

from __future__ import annotations

import json

from chalice import Blueprint, Response

from chalicelib import links
from chalicelib.handlers import phone_web as web
from chalicelib.services.subscriptions import personal_data
from chalicelib.services.subscriptions import phone_identity as identity

bp = Blueprint(__name__)

ERASE_CONFIRMATION = "erase"


@bp.route("/m/{appid}/mydata", methods=["GET"])
@web.page(bp)
def my_data(appid: str) -> Response:
    """What is stored about him.  Reading needs a session; deleting needs the OAuth-proven one (a forwarded
    push link must not let its reader erase the sender), so subscription accounts delete by the WeChat
    command 删除我的数据 instead, which WeChat itself vouches for."""
    v, params = web.visit(bp, appid), web.query(bp)
    if "t" in params:
        return web.page_link(v, "mydata", params)
    if web.needs_authorization(v):
        return web.authorize(v, web.current_path(appid, "mydata", params, drop=("done",)))
    data = personal_data.collect(appid, v.session.openid) if v.session else None
    return web.html(
        "mydata",
        v,
        data=data,
        counts=personal_data.summary(data) if data else None,
        tab="mine",
        confirm=params.get("confirm") == "1" and v.may_change,
        erased=params.get("done") == "erased",
        confirmation=ERASE_CONFIRMATION,
    )


@bp.route("/m/{appid}/mydata/export", methods=["GET"])
@web.page(bp)
def my_data_export(appid: str) -> Response:
    v = web.visit(bp, appid)
    if v.session is None:
        raise web.PageError(
            403,
            "请重新打开页面",
            "请从公众号菜单进入「我的大屏」后再下载您的数据。",
            links.my_screens(appid),
            "重新进入",
        )
    body = json.dumps(personal_data.collect(appid, v.session.openid), ensure_ascii=False, indent=2)
    return Response(
        body,
        status_code=200,
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Cache-Control": "no-store",
            "Content-Disposition": 'attachment; filename="my-data.json"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@bp.route("/m/{appid}/mydata", methods=["POST"], content_types=web.FORM_TYPES)
@web.page(bp)
def erase_my_data(appid: str) -> Response:
    v, data = web.visit(bp, appid), web.form(bp)
    if v.session is None or not v.may_change:
        raise web.PageError(
            403,
            "请重新打开页面",
            "登录状态已失效，请从公众号菜单重新进入后再删除，或在公众号对话框回复「删除我的数据」。",
            links.my_data(appid),
            "重新进入",
        )
    if not web.same_origin(bp) or not identity.csrf_ok(v.session, data.get("csrf")):
        raise web.PageError(
            403,
            "请求已过期",
            "为保护您的账号，这次操作没有执行。请刷新页面后重试。",
            links.my_data(appid),
            "返回我的数据",
        )
    if data.get("confirm") != ERASE_CONFIRMATION:
        raise web.PageError(
            400, "没有确认删除", "删除前需要您再确认一次。", f"{links.my_data(appid)}?confirm=1", "去确认"
        )
    personal_data.erase(appid, v.session.openid)
    return web.redirect(f"{links.my_data(appid)}?done=erased", status=303)
