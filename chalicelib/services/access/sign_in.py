"""Scan to sign in with WeChat: a one-time temporary QR code, matched to the waiting console page.

1. The login page asks for a ticket: a random scene ``login_<hex>`` behind a
   temporary ``QR_STR_SCENE`` code (``TICKET_SECONDS``) of the sign-in account,
   and a poll token only that page holds (the table keeps its SHA-256).
2. The staff member scans it in WeChat.  The account's callback
   (``services/gateway``) sees the login scene and calls
   ``sign_in_scan.on_scan``: the openid bound to a user marks the ticket
   ``scanned`` for that user; an unbound one marks it ``unknown``.  A ``bind``
   ticket (made by a signed-in user) binds the openid to him instead.  That
   side lives in its own module because the callback runs in the public
   function, whose role may not touch users, keys, grants or audit: it
   writes only the ticket and the binding, and the page's poll (admin
   function) records the binding on the user.
3. The page polls (every second); the first poll after the scan turns the
   ticket ``used`` (a conditional write, so it signs in once) and starts the
   session, as a password sign-in would.

The sign-in account is ``LOGIN_APPID`` when set, otherwise the root unit's
service account (the nearest one below the root when the root has none).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib.dal import accounts as account_repo
from chalicelib.dal.items import condition_failed, find
from chalicelib.models import Account, LoginTicket, Unit, User, WechatBinding
from chalicelib.services.access import session_cookies, sessions
from chalicelib.services.access.grants import Principal
from chalicelib.services.access.sign_in_scan import BOUND, LOGIN_SCENE_PREFIX, SCANNED, USED, binding_key
from chalicelib.services.gateway.tokens import client_for
from chalicelib.services.shared.errors import ApiError, NotFound, Unauthorized, UpstreamError
from chalicelib.services.shared.writes import now

TICKET_SECONDS = 300
STARTS_PER_MINUTE = 10  # anonymous scan-login starts per client address and minute
# ... and from all addresses together: the viewer address comes from a header a client calling API Gateway
# directly could forge, so one cap must hold whatever it says (the sign-in account's QR quota is ~70/min a day).
ALL_STARTS_PER_MINUTE = 300
RATE_PREFIX = "rate_"  # LoginTicket keys of the per-address counters (never a login_ scene)
SIGN_IN_ACCOUNT_SECONDS = 600


class Gone(ApiError):
    status, code = 410, "expired"


def sign_in_appid() -> str | None:
    """The account whose QR codes sign in (kept ten minutes per process, with the accounts)."""
    configured = os.environ.get("LOGIN_APPID", "").strip()
    if configured:
        return configured
    return account_repo.remembered("sign_in_appid", _find_sign_in_appid, max_age=SIGN_IN_ACCOUNT_SECONDS)


def _find_sign_in_appid() -> str | None:
    """The first service account of the root unit, else of the nearest unit below it that has one."""
    roots = sorted(Unit.scan(Unit.parent_id.does_not_exist()), key=lambda u: u.created_at)
    for root in roots[:1]:
        for unit in sorted(
            Unit.subtree.query(root.root_id, Unit.path.startswith(root.path)),
            key=lambda u: (u.path.count("/"), u.created_at),
        ):
            services = [a for a in Account.by_unit.query(unit.unit_id) if a.is_service]
            if services:
                return sorted(services, key=lambda a: a.appid)[0].appid
    return None


class TooManyStarts(ApiError):
    status, code = 429, "too_many_sign_in_starts"


def _count_start(client_ip: str, at: datetime) -> None:
    """Count one anonymous scan-login start of this address, and of all, in this minute; 429 once over a cap.

    Each start makes WeChat create a QR code (a daily quota of the sign-in
    account) and a ticket, and the route is public: without a cap one client
    could spend the quota.  The address is kept hashed, for two minutes.
    """
    address = hashlib.sha256(client_ip.encode()).hexdigest()[:32]
    _count(
        f"{RATE_PREFIX}{address}_{at:%Y%m%d%H%M}",
        STARTS_PER_MINUTE,
        at,
        f"at most {STARTS_PER_MINUTE} scan sign-ins a minute from one address",
    )
    _count(
        f"{RATE_PREFIX}all_{at:%Y%m%d%H%M}",
        ALL_STARTS_PER_MINUTE,
        at,
        "too many scan sign-ins are being started right now",
    )


def _count(key: str, cap: int, at: datetime, reason: str) -> None:
    try:
        LoginTicket(key).update(
            actions=[
                LoginTicket.started.add(1),
                LoginTicket.poll_hash.set("!"),
                LoginTicket.appid.set("-"),
                LoginTicket.status.set(USED),
                LoginTicket.expires_at.set(at + timedelta(minutes=2)),
            ],
            condition=LoginTicket.started.does_not_exist() | (LoginTicket.started < cap),
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        error = TooManyStarts(f"{reason}; wait a minute or sign in with the password")
        error.retry_after = 60 - at.second
        raise error from None


def start(
    purpose: str = "login", principal: Principal | None = None, client_ip: str | None = None
) -> tuple[LoginTicket, str, str]:
    """A new ticket and its QR code: (ticket, poll token, the QR code's content).

    Anonymous starts (``login``) are capped per client address (``STARTS_PER_MINUTE``).
    """
    if purpose == "login":
        _count_start(client_ip or "unknown", now())
    appid = sign_in_appid()
    if not appid:
        raise NotFound("sign-in account")
    scene = f"{LOGIN_SCENE_PREFIX}{secrets.token_hex(12)}"
    try:
        result = client_for(appid).qrcode.create(
            {
                "expire_seconds": TICKET_SECONDS,
                "action_name": "QR_STR_SCENE",
                "action_info": {"scene": {"scene_str": scene}},
            }
        )
    except Exception as exc:  # WeChat down or refusing: the page offers the password instead
        raise UpstreamError("WeChat did not create the sign-in QR code") from exc
    poll_token = secrets.token_urlsafe(24)
    ticket = LoginTicket(
        scene,
        purpose=purpose,
        poll_hash=session_cookies.hash_token(poll_token),
        appid=appid,
        user_id=principal.user_id if principal else None,
        expires_at=now() + timedelta(seconds=TICKET_SECONDS),
    )
    ticket.save(condition=LoginTicket.scene.does_not_exist())
    return ticket, poll_token, result["url"]


def view(ticket: LoginTicket, poll_token: str | None, qr: str) -> dict[str, Any]:
    return {
        "scene": ticket.scene,
        "poll_token": poll_token,
        "qr_url": qr,
        "expires_at": ticket.expires_at,
        "status": ticket.status,
    }


# ---- the page side -----------------------------------------------------------------------------


def poll(
    scene: str, poll_token: str, user_agent: str | None = None, source_ip: str | None = None
) -> tuple[str, sessions.SignedIn | None]:
    """The ticket's status for the page that holds it; signs in once after a matched scan."""
    ticket = find(LoginTicket, scene, consistent=True)
    if ticket is None:
        raise Gone("the QR code has expired")
    if not hmac.compare_digest(ticket.poll_hash, hashlib.sha256(poll_token.encode()).hexdigest()):
        raise Gone("the QR code has expired")
    if ticket.expires_at <= now() or ticket.status == USED:
        raise Gone("the QR code has expired")
    if ticket.status == BOUND:
        _record_binding(ticket)
    if ticket.status != SCANNED:
        return ticket.status, None
    try:
        ticket.update(actions=[LoginTicket.status.set(USED)], condition=LoginTicket.status == SCANNED)
    except Exception:
        raise Gone("the QR code was used") from None
    user = find(User, ticket.user_id)
    if user is None:
        raise Unauthorized("unknown user")
    if user.disabled:
        raise Unauthorized("user disabled")
    return "signed_in", sessions.start_session(user, "wechat", user_agent, source_ip)


def _record_binding(ticket: LoginTicket) -> None:
    """The user's record names his bound WeChat (idempotent); a previous binding stops signing him in."""
    if not ticket.user_id or not ticket.openid:
        return
    key = binding_key(ticket.appid, ticket.openid)
    user = find(User, ticket.user_id)
    if user is None:
        return
    if user.wechat_login == key:
        return
    if user.wechat_login:
        WechatBinding(user.wechat_login).delete(condition=WechatBinding.user_id == user.user_id)
    user.update(actions=[User.wechat_login.set(key)], condition=User.user_id.exists())
