"""Users: ``user/info`` (as WeChat answers since 2021: no nickname or avatar) and the follower list."""

from __future__ import annotations

from typing import Any

from devstack.wechat_standin.core import Core
from devstack.wechat_standin.wire import Request, Route

FOLLOWERS_PER_PAGE = 10000


def info(core: Core, request: Request) -> dict[str, Any]:
    """User info of a known openid; a non-follower gets only ``subscribe: 0``."""
    account = core.auth(request)
    fan = core.known_fan(account, request.query.get("openid"))
    if not fan.subscribed:
        return {"subscribe": 0, "openid": fan.openid}
    return {
        "subscribe": 1,
        "openid": fan.openid,
        "language": request.query.get("lang") or "zh_CN",
        "subscribe_time": fan.subscribe_time,
        "remark": "",
        "groupid": 0,
        "tagid_list": sorted(fan.tags),
        "subscribe_scene": fan.scene,
        "qr_scene": fan.qr_scene,
        "qr_scene_str": fan.qr_scene_str,
    }


def followers(core: Core, request: Request) -> dict[str, Any]:
    """Follower list, 10000 per page, paged by ``next_openid``."""
    account = core.auth(request)
    openids = [f.openid for f in account.fans.values() if f.subscribed]
    start = 0
    next_openid = request.query.get("next_openid")
    if next_openid in openids:
        start = openids.index(next_openid) + 1
    page = openids[start : start + FOLLOWERS_PER_PAGE]
    return {
        "total": len(openids),
        "count": len(page),
        "data": {"openid": page},
        "next_openid": page[-1] if page else "",
    }


ROUTES: dict[str, Route] = {
    "/cgi-bin/user/info": Route("GET", info),
    "/cgi-bin/user/get": Route("GET", followers),
}
