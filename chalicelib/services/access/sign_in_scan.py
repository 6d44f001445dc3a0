"""Scan to sign in, the WeChat side: called from the callback inside its one transaction.

Kept apart from ``sign_in`` (the console's side) because the callback runs in
the public function, whose role may touch no users, keys, grants or audit
table: a scan writes only its ticket and, for a ``bind`` ticket, the
openid's binding.  The console's poll records the binding on the user.
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.models.sessions import LoginTicket, WechatBinding  # the defining module: see infra.access
from chalicelib.models.unit_of_work import UnitOfWork

LOGIN_SCENE_PREFIX = "login_"
MAX_SCENE = 64  # WeChat's longest QR scene string
WAITING, SCANNED, UNKNOWN, BOUND, USED = "waiting", "scanned", "unknown", "bound", "used"


def binding_key(appid: str, openid: str) -> str:
    return f"{appid}:{openid}"


def reads(appid: str, openid: str, scene: str) -> list[tuple]:
    return [(LoginTicket, scene, None), (WechatBinding, binding_key(appid, openid), None)]


def on_scan(
    uow: UnitOfWork, ticket: LoginTicket | None, binding: WechatBinding | None, appid: str, openid: str, at: datetime
) -> str:
    """Match a scan to its waiting ticket; returns the reply for the scanner."""
    if ticket is None or ticket.appid != appid or ticket.status != WAITING or ticket.expires_at <= at:
        return "二维码已失效，请在管理台刷新二维码后重新扫码。"
    waiting = LoginTicket.status == WAITING
    if ticket.purpose == "bind":
        key = binding_key(appid, openid)
        uow.put(WechatBinding(key, user_id=ticket.user_id))
        uow.update(ticket, [LoginTicket.status.set(BOUND), LoginTicket.openid.set(openid)], condition=waiting)
        return "微信已绑定。以后可以在科普屏管理台的登录页扫码登录。"
    if binding is None:
        uow.update(ticket, [LoginTicket.status.set(UNKNOWN)], condition=waiting)
        return "这个微信还没有绑定管理台账号：请先用密码登录，在“设置 → 我的账号”中绑定微信。"
    uow.update(
        ticket,
        [LoginTicket.status.set(SCANNED), LoginTicket.user_id.set(binding.user_id), LoginTicket.openid.set(openid)],
        condition=waiting,
    )
    return "已确认登录科普屏管理台。如果不是您本人操作，请立即修改密码。"
