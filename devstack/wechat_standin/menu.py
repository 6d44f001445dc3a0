"""The custom menu: ``menu/create`` with WeChat's validation codes, ``menu/get``, delete, selfmenu info.

Why the validation is strict: WeChat rejects a bad menu with a specific code
per field and level (40017 for a top-level type, 40024 for a sub-button's …),
and the product's menu builder must produce menus WeChat accepts.
"""

from __future__ import annotations

import copy
from typing import Any

from devstack.wechat_standin.controls import control
from devstack.wechat_standin.core import Core
from devstack.wechat_standin.errors import WeChatError
from devstack.wechat_standin.wire import Request, Route, is_http_url, ok

MENU_TYPES = {
    "click",
    "view",
    "scancode_push",
    "scancode_waitmsg",
    "pic_sysphoto",
    "pic_photo_or_album",
    "pic_weixin",
    "location_select",
    "media_id",
    "article_id",
    "article_view_limited",
    "miniprogram",
    "view_limited",
}
# Button types that point at material by id rather than carrying a key or a URL.
ID_FIELD_BY_TYPE = {
    "media_id": "media_id",
    "view_limited": "media_id",
    "article_id": "article_id",
    "article_view_limited": "article_id",
}
TOP_CODES = {"type": 40017, "name": 40018, "key": 40019, "url": 40020, "domain": 40055}
SUB_CODES = {"type": 40024, "name": 40025, "key": 40026, "url": 40027, "domain": 40054}


def validate_menu(menu: Any) -> None:
    """Raise :class:`WeChatError` if ``menu`` would be rejected by menu/create."""
    if not isinstance(menu, dict):
        raise WeChatError(47001)
    buttons = menu.get("button")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        raise WeChatError(40016)
    for button in buttons:
        _validate_button(button, top=True)


def _validate_button(button: Any, top: bool) -> None:
    """Validate one menu button with WeChat's top-level / sub-button error codes."""
    codes = TOP_CODES if top else SUB_CODES
    if not isinstance(button, dict):
        raise WeChatError(codes["type"])
    name = button.get("name")
    max_name = 16 if top else 60
    if not isinstance(name, str) or not name.strip() or len(name.encode("utf-8")) > max_name:
        raise WeChatError(codes["name"])
    if top and "sub_button" in button and "type" not in button:
        subs = button["sub_button"]
        if not isinstance(subs, list) or not 1 <= len(subs) <= 5:
            raise WeChatError(40023)
        for sub in subs:
            _validate_button(sub, top=False)
        return
    _validate_leaf_button(button, codes)


def _validate_leaf_button(button: dict[str, Any], codes: dict[str, int]) -> None:
    """A button that does something: a URL to open, material to show, or a key to send."""
    btype = button.get("type")
    if btype not in MENU_TYPES:
        raise WeChatError(codes["type"])
    if btype in ("view", "miniprogram"):
        _validate_url_button(button, codes)
    elif btype in ID_FIELD_BY_TYPE:
        if not button.get(ID_FIELD_BY_TYPE[btype]):
            raise WeChatError(codes["type"])
    else:
        key = button.get("key")
        if not isinstance(key, str) or not key or len(key.encode("utf-8")) > 128:
            raise WeChatError(codes["key"])


def _validate_url_button(button: dict[str, Any], codes: dict[str, int]) -> None:
    """``view`` and ``miniprogram`` buttons: an http(s) URL of at most 1 KiB; a mini program needs its page."""
    url = button.get("url")
    if not isinstance(url, str) or not url or len(url.encode("utf-8")) > 1024:
        raise WeChatError(codes["url"])
    if not is_http_url(url):
        raise WeChatError(codes["domain"])
    if button.get("type") == "miniprogram" and not (button.get("appid") and button.get("pagepath")):
        raise WeChatError(codes["type"])


def _selfmenu_format(menu: dict[str, Any]) -> list[dict[str, Any]]:
    """get_current_selfmenu_info nests sub-buttons as ``{"list": [...]}``."""
    out = []
    for button in menu.get("button", []):
        button = dict(button)
        if "sub_button" in button and "type" not in button:
            button["sub_button"] = {"list": list(button["sub_button"])}
        out.append(button)
    return out


def create(core: Core, request: Request) -> dict[str, Any]:
    account = core.auth(request)
    body = core.json_body(request)
    validate_menu(body)
    account.menu = {"button": copy.deepcopy(body["button"])}
    return ok()


def get(core: Core, request: Request) -> dict[str, Any]:
    account = core.auth(request)
    if account.menu is None:
        raise WeChatError(46003)
    return {"menu": copy.deepcopy(account.menu)}


def delete(core: Core, request: Request) -> dict[str, Any]:
    core.auth(request).menu = None
    return ok()


def selfmenu_info(core: Core, request: Request) -> dict[str, Any]:
    account = core.auth(request)
    if account.menu is None:
        return {"is_menu_open": 0, "selfmenu_info": {"button": []}}
    return {"is_menu_open": 1, "selfmenu_info": {"button": _selfmenu_format(account.menu)}}


# ---- controls -----------------------------------------------------------------


@control(read=True)
def menu(core: Core, appid: str) -> dict[str, Any] | None:
    """The account's current menu as menu/create stored it, or None."""
    current = core.account(appid).menu
    return copy.deepcopy(current) if current is not None else None


ROUTES: dict[str, Route] = {
    "/cgi-bin/menu/create": Route("POST", create),
    "/cgi-bin/menu/get": Route("GET", get),
    "/cgi-bin/menu/delete": Route("GET", delete),
    "/cgi-bin/get_current_selfmenu_info": Route("GET", selfmenu_info),
}
