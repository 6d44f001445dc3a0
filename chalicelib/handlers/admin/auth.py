"""``/api/v1/auth``: the console's sign-in (password, WeChat scan), its sessions, and passwords."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers.admin import schemas as s
from chalicelib.handlers.admin.api import Call, operation
from chalicelib.handlers.admin.wire import Reply
from chalicelib.services.access import session_cookies, sign_in
from chalicelib.services.access import sessions as service
from chalicelib.services.access import users as users_service
from chalicelib.services.shared.errors import BadRequest

bp = Blueprint(__name__)
TAG = "auth"


def _signed_in(signed: service.SignedIn) -> Reply:
    user = users_service.public(users_service.User.get(signed.session.user_id))
    body = {
        "user": user,
        "session": service.view(signed.session, signed.session.public_id),
        "csrf_token": signed.csrf_token,
    }
    return Reply(body, headers={"Set-Cookie": session_cookies.cookie_header(signed.token)})


@operation(
    bp,
    "POST",
    "/auth/login",
    summary="Sign in with username and password: sets the session cookie",
    tag=TAG,
    body=s.LoginIn,
    response=s.SignedInOut,
    public=True,
    max_body=1024,
)
def login(call: Call):
    data = call.data
    return _signed_in(service.login(data["username"], data["password"], call.headers.get("user-agent"), call.source_ip))


@operation(
    bp,
    "GET",
    "/auth/session",
    summary="The current console session, its user and CSRF token",
    tag=TAG,
    response=s.SignedInOut,
)
def current_session(call: Call):
    found = service.current(call.headers) if call.principal.session_id else None
    if found is None:
        raise BadRequest("this call is made with an API key, not a session", code="no_session")
    session, token = found
    return {
        "user": users_service.me(call.principal),
        "session": service.view(session, session.public_id),
        "csrf_token": session_cookies.csrf_for(token),
    }


@operation(bp, "POST", "/auth/logout", summary="Sign out: ends the session and clears its cookie", tag=TAG, status=204)
def logout(call: Call):
    service.logout(call.headers)
    return Reply(None, headers={"Set-Cookie": session_cookies.clearing_cookie_header()})


@operation(bp, "GET", "/auth/sessions", summary="Your live console sessions", tag=TAG, response=s.SessionList)
def list_sessions(call: Call):
    current = call.principal.session_id
    return {"items": [service.view(x, current) for x in service.list_sessions(call.principal)]}


@operation(bp, "DELETE", "/auth/sessions/{session_id}", summary="End one of your console sessions", tag=TAG, status=204)
def revoke_session(call: Call, session_id: str):
    service.revoke(call.principal, session_id)


@operation(
    bp,
    "PUT",
    "/users/{user_id}/password",
    summary="Set or reset a user's sign-in name and password "
    "(yourself with the current one, or an admin of the user's unit); ends his other sessions",
    tag="users",
    body=s.PasswordIn,
    response=s.UserOut,
    max_body=2048,
)
def set_password(call: Call, user_id: str):
    data = call.data
    user = service.set_password(
        call.principal, user_id, data["password"], data.get("username"), data.get("current_password")
    )
    return users_service.public(user)


def client_ip(call: Call) -> str | None:
    """The viewer's address: CloudFront's ``CloudFront-Viewer-Address`` (``ip:port``) when it came through the
    CDN, else the connection's source (API Gateway's ``sourceIp``, which behind the CDN is an edge server)."""
    viewer = (call.headers.get("cloudfront-viewer-address") or "").strip()
    if viewer:
        return viewer.rsplit(":", 1)[0].strip("[]")[:64] or call.source_ip
    return call.source_ip


@operation(
    bp,
    "POST",
    "/auth/wechat",
    summary="Start a scan-to-sign-in: a temporary QR code (a few minutes, "
    "one use) of the sign-in account; poll it with the poll token",
    tag=TAG,
    response=s.WechatLoginOut,
    public=True,
    status=201,
    max_body=256,
)
def start_wechat_login(call: Call):
    ticket, poll_token, qr = sign_in.start("login", client_ip=client_ip(call))
    return sign_in.view(ticket, poll_token, qr)


@operation(
    bp,
    "POST",
    "/auth/wechat/bind",
    summary="Bind your WeChat for scan-to-sign-in: a temporary QR code to scan once while signed in",
    tag=TAG,
    response=s.WechatLoginOut,
    status=201,
    max_body=256,
)
def start_wechat_bind(call: Call):
    ticket, poll_token, qr = sign_in.start("bind", call.principal)
    return sign_in.view(ticket, poll_token, qr)


@operation(
    bp,
    "POST",
    "/auth/wechat/{scene}/poll",
    summary="Poll a scan-to-sign-in: waiting, unknown (WeChat not "
    "bound), bound, or signed_in (sets the session cookie); 410 once expired or used",
    tag=TAG,
    body=s.WechatLoginPollIn,
    response=s.WechatPollOut,
    public=True,
    max_body=512,
)
def poll_wechat_login(call: Call, scene: str):
    status, signed = sign_in.poll(scene, call.data["poll_token"], call.headers.get("user-agent"), call.source_ip)
    if signed is None:
        return {"status": status}
    reply = _signed_in(signed)
    reply.body["status"] = status
    return reply
