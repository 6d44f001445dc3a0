"""Parametric QR codes: ``qrcode/create``, the ``showqrcode`` image, and what a scan reveals.

Why: every screen shows a follow code carrying its scene; the simulator
"scans" it by asking :func:`qrcode_scene`, as WeChat tells the product the
scene in the follow event.
"""

from __future__ import annotations

import secrets
import struct
import zlib
from typing import Any

from devstack.wechat_standin.controls import control
from devstack.wechat_standin.core import Core
from devstack.wechat_standin.errors import WeChatError
from devstack.wechat_standin.state import QRCode
from devstack.wechat_standin.wire import Request, Response, Route

QR_TEMP_ACTIONS = {"QR_SCENE", "QR_STR_SCENE"}
QR_ACTIONS = QR_TEMP_ACTIONS | {"QR_LIMIT_SCENE", "QR_LIMIT_STR_SCENE"}
QR_TEMP_MAX_SECONDS = 30 * 24 * 3600


def create(core: Core, request: Request) -> dict[str, Any]:
    """Parametric QR codes; permanent ones are stable per scene, temporary ones expire."""
    account = core.auth(request)
    body = core.json_body(request)
    action = body.get("action_name")
    if action not in QR_ACTIONS:
        raise WeChatError(40097, "invalid args: action_name")
    scene = _scene(action, body.get("action_info"))
    if action in QR_TEMP_ACTIONS:
        expire = int(body.get("expire_seconds") or 60)
        expire = max(60, min(expire, QR_TEMP_MAX_SECONDS))
        code = _new_qrcode(core, account.appid, action, scene, core.now() + expire)
        return {"ticket": code.ticket, "expire_seconds": expire, "url": code.url}
    ticket = account.permanent_qr.get((action, scene))
    if ticket is None:
        ticket = _new_qrcode(core, account.appid, action, scene, None).ticket
        account.permanent_qr[(action, scene)] = ticket
    return {"ticket": ticket, "url": core.state.qrcodes[ticket].url}


def _scene(action: str, action_info: Any) -> str:
    scene = action_info.get("scene") if isinstance(action_info, dict) else None
    if not isinstance(scene, dict):
        raise WeChatError(40097, "invalid args: action_info.scene")
    if action.endswith("STR_SCENE"):
        value = scene.get("scene_str")
        if not isinstance(value, str) or not 1 <= len(value) <= 64:
            raise WeChatError(40097, "invalid args: scene_str")
        return value
    value = scene.get("scene_id")
    upper = 100000 if action == "QR_LIMIT_SCENE" else 2**32 - 1
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= upper:
        raise WeChatError(40097, "invalid args: scene_id")
    return str(value)


def _new_qrcode(core: Core, appid: str, action: str, scene: str, expires_at: float | None) -> QRCode:
    ticket = "gQ" + secrets.token_urlsafe(48)
    url = "http://weixin.qq.com/q/" + secrets.token_urlsafe(18)
    code = QRCode(appid, ticket, url, action, scene, expires_at)
    core.state.qrcodes[ticket] = code
    core.state.qrcodes[url] = code
    return code


def show(core: Core, request: Request) -> Response:
    """The QR image (mp.weixin.qq.com in reality): a placeholder PNG is enough locally."""
    code = core.state.qrcodes.get(request.query.get("ticket", ""))
    if code is None or (code.expires_at is not None and core.now() >= code.expires_at):
        return Response(status=404, body=b"", content_type="image/png", errcode=40097)
    return Response(body=_placeholder_png(), content_type="image/png", errcode=0)


def _placeholder_png() -> bytes:
    """A tiny valid PNG (8x8 checkerboard) standing in for the QR image."""
    width = height = 8
    rows = b"".join(b"\x00" + bytes(0 if (x + y) % 2 else 255 for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


# ---- controls -----------------------------------------------------------------


@control(read=True)
def qrcode_info(core: Core, ticket_or_url: str) -> dict[str, Any]:
    """What the simulator learns by scanning a code: appid, scene, permanence."""
    code = core.state.qrcodes.get(ticket_or_url)
    if code is None:
        raise KeyError(f"unknown QR code: {ticket_or_url}")
    expired = code.expires_at is not None and core.now() >= code.expires_at
    return {
        "appid": code.appid,
        "ticket": code.ticket,
        "url": code.url,
        "action_name": code.action_name,
        "scene": code.scene,
        "permanent": code.expires_at is None,
        "expired": expired,
    }


@control(read=True)
def qrcode_scene(core: Core, ticket_or_url: str) -> str:
    """The scene string (or id as a string) behind a ticket or a ``weixin.qq.com/q`` URL."""
    info = qrcode_info(core, ticket_or_url)
    if info["expired"]:
        raise KeyError(f"QR code expired: {ticket_or_url}")
    return info["scene"]


ROUTES: dict[str, Route] = {
    "/cgi-bin/qrcode/create": Route("POST", create),
    "/cgi-bin/showqrcode": Route("GET", show),
}
