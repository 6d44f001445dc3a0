"""Every admin route × every role × own unit / subordinate unit / sibling branch.

Each user holds one role on ``city``.  ``district`` is below city (the role
reaches it), ``town`` is a sibling branch (it must not: 404, never 403).
Inside scope a role lacking the permission gets 403; with it the call
succeeds.  Cases are generated from ``ROUTES``; a test below checks that
``ROUTES`` covers every scoped route the app serves.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from app import app
from chalicelib.handlers.admin.api import REGISTRY
from chalicelib.models import Unit
from chalicelib.services.access import units, users
from chalicelib.services.access.grants import PERMISSIONS
from chalicelib.services.analytics import rankings
from chalicelib.services.content import workflow as content
from chalicelib.services.gateway import accounts
from chalicelib.services.screens import registry as screens
from tests.admin.world import ROLES, SECRET, TOKEN, World, if_match

SCOPES = {"own": "city", "sub": "district", "sibling": "town"}
_seq = itertools.count()


def fresh(prefix: str) -> str:
    return f"{prefix}{next(_seq):04d}"


@dataclass
class Route:
    method: str
    template: str  # the Chalice route
    permission: str
    make: Callable[[World, str], tuple[str, dict | None]]  # (world, unit name) -> (path, body)


def _content(w: World, where: str, status: str = "draft"):
    root = w.root
    item = content.create(
        root,
        {
            "unit_id": w.unit[where],
            "kind": "notice",
            "title": "通知",
            "body": "明天停水",
            "targets": {"units": [w.unit[where]]},
            "push": False,
        },
    )
    if status in ("pending_review", "published"):
        item = content.transition(root, item.content_id, "submit" if status == "pending_review" else "publish", None)
    return item.content_id


def _account(w: World, where: str) -> str:
    appid = fresh("wxfresh0000")
    accounts.create(
        w.root,
        {
            "appid": appid,
            "unit_id": w.unit[where],
            "name": "新号",
            "original_id": "gh_fresh00",
            "app_secret": SECRET,
            "token": TOKEN,
        },
    )
    return appid


def _screen(w: World, where: str) -> str:
    code = fresh("FR")
    screens.create(w.root, {"screen_id": code, "unit_id": w.unit[where], "name": "新屏", "appid": w.appid[where]})
    return code


def _user(w: World, where: str) -> str:
    return users.create(w.root, {"unit_id": w.unit[where], "name": "新人"}).user_id


def _key(w: World, where: str) -> tuple[str, str]:
    uid = _user(w, where)
    return uid, users.issue_key(w.root, uid)[0].key_id


def _upload(w: World, where: str):
    data = fresh("img").encode()
    return "/api/v1/media/uploads", {
        "unit_id": w.unit[where],
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "type": "image/png",
    }


def _league(w: World, where: str):
    """The unit's league, its parent having switched the league table on (otherwise there is none: 404)."""
    parent = Unit.get(w.unit[where]).parent_id
    rankings.set_league(w.root, parent, True)
    return f"{V}/analytics/units/{w.unit[where]}/league?metric=fans", None


V = "/api/v1"
ROUTES = [
    Route("POST", "/units", "manage", lambda w, u: (f"{V}/units", {"parent_id": w.unit[u], "name": "新单位"})),
    Route("GET", "/units", "read", lambda w, u: (f"{V}/units?under={w.unit[u]}", None)),
    Route("GET", "/units/{unit_id}", "read", lambda w, u: (f"{V}/units/{w.unit[u]}", None)),
    Route("PATCH", "/units/{unit_id}", "manage", lambda w, u: (f"{V}/units/{w.unit[u]}", {"district": "鼓楼区"})),
    Route(
        "DELETE",
        "/units/{unit_id}",
        "manage",
        lambda w, u: (f"{V}/units/{units.create(w.root, {'parent_id': w.unit[u], 'name': '临时'}).unit_id}", None),
    ),
    Route("GET", "/units/{unit_id}/ranking", "read", lambda w, u: (f"{V}/units/{w.unit[u]}/ranking", None)),
    Route("GET", "/units/{unit_id}/audit", "read", lambda w, u: (f"{V}/units/{w.unit[u]}/audit", None)),
    Route("GET", "/units/{unit_id}/summary", "read", lambda w, u: (f"{V}/units/{w.unit[u]}/summary", None)),
    Route(
        "POST",
        "/accounts",
        "manage",
        lambda w, u: (
            f"{V}/accounts",
            {
                "appid": fresh("wxnew00000"),
                "unit_id": w.unit[u],
                "name": "号",
                "original_id": "gh_abcdef",
                "app_secret": SECRET,
                "token": TOKEN,
            },
        ),
    ),
    Route("GET", "/accounts", "read", lambda w, u: (f"{V}/accounts?unit_id={w.unit[u]}", None)),
    Route("GET", "/accounts/{appid}", "read", lambda w, u: (f"{V}/accounts/{w.appid[u]}", None)),
    Route("PATCH", "/accounts/{appid}", "manage", lambda w, u: (f"{V}/accounts/{_account(w, u)}", {"name": "改"})),
    Route("DELETE", "/accounts/{appid}", "manage", lambda w, u: (f"{V}/accounts/{_account(w, u)}", None)),
    Route(
        "POST",
        "/accounts/{appid}/menu",
        "manage",
        lambda w, u: (
            f"{V}/accounts/{w.appid[u]}/menu",
            {"button": [{"type": "click", "name": "我的大屏", "key": "MY_SCREENS"}]},
        ),
    ),
    Route("GET", "/accounts/{appid}/menu", "read", lambda w, u: (f"{V}/accounts/{w.appid[u]}/menu", None)),
    Route(
        "POST",
        "/accounts/{appid}/residents/export",
        "manage",
        lambda w, u: (f"{V}/accounts/{w.appid[u]}/residents/export", {"openid": "o-matrix"}),
    ),
    Route(
        "POST",
        "/accounts/{appid}/residents/erasure",
        "manage",
        lambda w, u: (f"{V}/accounts/{w.appid[u]}/residents/erasure", {"openid": "o-matrix"}),
    ),
    Route(
        "POST",
        "/screens",
        "manage",
        lambda w, u: (
            f"{V}/screens",
            {"screen_id": fresh("NS"), "unit_id": w.unit[u], "name": "屏", "appid": w.appid[u]},
        ),
    ),
    Route("GET", "/screens", "read", lambda w, u: (f"{V}/screens?unit_id={w.unit[u]}", None)),
    Route("GET", "/screens/{screen_id}", "read", lambda w, u: (f"{V}/screens/{w.screen[u]}", None)),
    Route("PATCH", "/screens/{screen_id}", "manage", lambda w, u: (f"{V}/screens/{_screen(w, u)}", {"name": "改"})),
    Route("DELETE", "/screens/{screen_id}", "manage", lambda w, u: (f"{V}/screens/{_screen(w, u)}", None)),
    Route("POST", "/screens/{screen_id}/qrcode", "manage", lambda w, u: (f"{V}/screens/{w.screen[u]}/qrcode", None)),
    Route(
        "POST",
        "/screens/{screen_id}/player-key",
        "manage",
        lambda w, u: (f"{V}/screens/{_screen(w, u)}/player-key", None),
    ),
    Route("GET", "/screens/{screen_id}/stats", "read", lambda w, u: (f"{V}/screens/{w.screen[u]}/stats", None)),
    Route(
        "POST",
        "/content",
        "edit",
        lambda w, u: (
            f"{V}/content",
            {
                "unit_id": w.unit[u],
                "kind": "notice",
                "title": "通知",
                "body": "内容",
                "targets": {"units": [w.unit[u]]},
            },
        ),
    ),
    Route("GET", "/content", "read", lambda w, u: (f"{V}/content?unit_id={w.unit[u]}", None)),
    Route(
        "POST",
        "/content/forecast",
        "read",
        lambda w, u: (f"{V}/content/forecast", {"unit_id": w.unit[u], "targets": {"units": [w.unit[u]]}}),
    ),
    Route(
        "POST",
        "/content/phone-preview",
        "read",
        lambda w, u: (
            f"{V}/content/phone-preview",
            {
                "unit_id": w.unit[u],
                "kind": "notice",
                "title": "通知",
                "body": "内容",
                "targets": {"units": [w.unit[u]]},
            },
        ),
    ),
    Route("GET", "/content/{content_id}", "read", lambda w, u: (f"{V}/content/{_content(w, u)}", None)),
    Route("PATCH", "/content/{content_id}", "edit", lambda w, u: (f"{V}/content/{_content(w, u)}", {"title": "新"})),
    Route("DELETE", "/content/{content_id}", "edit", lambda w, u: (f"{V}/content/{_content(w, u)}", None)),
    Route("POST", "/content/{content_id}/submit", "edit", lambda w, u: (f"{V}/content/{_content(w, u)}/submit", None)),
    Route(
        "POST",
        "/content/{content_id}/approve",
        "review",
        lambda w, u: (f"{V}/content/{_content(w, u, 'pending_review')}/approve", None),
    ),
    Route(
        "POST",
        "/content/{content_id}/reject",
        "review",
        lambda w, u: (f"{V}/content/{_content(w, u, 'pending_review')}/reject", {"reason": "不准确"}),
    ),
    Route(
        "POST", "/content/{content_id}/publish", "publish", lambda w, u: (f"{V}/content/{_content(w, u)}/publish", None)
    ),
    Route(
        "POST",
        "/content/{content_id}/withdraw",
        "publish",
        lambda w, u: (f"{V}/content/{_content(w, u, 'published')}/withdraw", None),
    ),
    Route("POST", "/media/uploads", "edit", _upload),
    Route("POST", "/users", "manage", lambda w, u: (f"{V}/users", {"unit_id": w.unit[u], "name": "新人"})),
    Route("GET", "/users", "read", lambda w, u: (f"{V}/users?unit_id={w.unit[u]}", None)),
    Route("GET", "/users/{user_id}", "read", lambda w, u: (f"{V}/users/{_user(w, u)}", None)),
    Route("PATCH", "/users/{user_id}", "manage", lambda w, u: (f"{V}/users/{_user(w, u)}", {"name": "改名"})),
    Route(
        "PUT",
        "/users/{user_id}/grants/{unit_id}",
        "manage",
        lambda w, u: (f"{V}/users/{_user(w, u)}/grants/{w.unit[u]}", {"role": "viewer"}),
    ),
    Route(
        "DELETE",
        "/users/{user_id}/grants/{unit_id}",
        "manage",
        lambda w, u: (
            f"{V}/users/{users.grant(w.root, _user(w, u), w.unit[u], 'viewer').user_id}/grants/{w.unit[u]}",
            None,
        ),
    ),
    Route("POST", "/users/{user_id}/keys", "manage", lambda w, u: (f"{V}/users/{_user(w, u)}/keys", {})),
    Route("GET", "/users/{user_id}/keys", "manage", lambda w, u: (f"{V}/users/{_user(w, u)}/keys", None)),
    Route(
        "DELETE",
        "/users/{user_id}/keys/{key_id}",
        "manage",
        lambda w, u: ("{V}/users/{0}/keys/{1}".format(*_key(w, u), V=V), None),
    ),
    Route("GET", "/audit/{object_type}/{object_id}", "read", lambda w, u: (f"{V}/audit/screen/{w.screen[u]}", None)),
    Route(
        "PUT",
        "/users/{user_id}/password",
        "manage",
        lambda w, u: (f"{V}/users/{_user(w, u)}/password", {"username": fresh("mx"), "password": "Matrix-pass-2026"}),
    ),
    Route(
        "GET",
        "/analytics/{kind}/{subject_id}/series",
        "read",
        lambda w, u: (f"{V}/analytics/subtree/{w.unit[u]}/series", None),
    ),
    Route(
        "GET",
        "/analytics/{kind}/{subject_id}/fans",
        "read",
        lambda w, u: (f"{V}/analytics/unit/{w.unit[u]}/fans", None),
    ),
    Route(
        "GET",
        "/analytics/units/{unit_id}/ranking",
        "read",
        lambda w, u: (f"{V}/analytics/units/{w.unit[u]}/ranking?metric=fans", None),
    ),
    Route("GET", "/analytics/units/{unit_id}/league", "read", _league),
    Route(
        "GET",
        "/analytics/units/{unit_id}/league-setting",
        "read",
        lambda w, u: (f"{V}/analytics/units/{w.unit[u]}/league-setting", None),
    ),
    Route(
        "PUT",
        "/analytics/units/{unit_id}/league-setting",
        "manage",
        lambda w, u: (f"{V}/analytics/units/{w.unit[u]}/league-setting", {"enabled": True}),
    ),
    Route(
        "GET", "/analytics/compare", "read", lambda w, u: (f"{V}/analytics/compare?kind=subtree&ids={w.unit[u]}", None)
    ),
    Route(
        "GET",
        "/analytics/accounts/{appid}/wechat",
        "read",
        lambda w, u: (f"{V}/analytics/accounts/{w.appid[u]}/wechat", None),
    ),
]
UNSCOPED = {("GET", "/me"), ("GET", "/openapi.json")}  # the caller himself; the public document
# console sign-in: public (login, scan start and poll) or about the caller's own sessions
UNSCOPED |= {
    ("POST", "/auth/login"),
    ("GET", "/auth/session"),
    ("POST", "/auth/logout"),
    ("GET", "/auth/sessions"),
    ("DELETE", "/auth/sessions/{session_id}"),
    ("POST", "/auth/wechat"),
    ("POST", "/auth/wechat/bind"),
    ("POST", "/auth/wechat/{scene}/poll"),
}


def test_routes_cover_every_scoped_route():
    served = {(m, path.removeprefix(V)) for path, methods in app.routes.items() if path.startswith(V) for m in methods}
    listed = {(r.method, r.template) for r in ROUTES} | UNSCOPED
    assert served == listed


@pytest.mark.parametrize("scope", list(SCOPES))
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.template}")
def test_matrix(matrix_world, route, role, scope):
    world, api = matrix_world
    path, body = route.make(world, SCOPES[scope])
    headers = None
    if next(op for op in REGISTRY if (op.method, op.path) == (route.method, V + route.template)).if_match_required:
        headers = if_match(api.as_(world.root_key), path.rsplit("/", 2)[1])
    response = api.as_(world.keys[role]).call(route.method, path, body, headers=headers)
    if scope == "sibling":
        assert response.status_code == 404, (response.status_code, response.data)
        assert response.data["error"]["code"] == "not_found"
    elif route.permission in PERMISSIONS[role]:
        assert response.status_code in (200, 201, 204), (response.status_code, response.data)
    else:
        assert response.status_code == 403, (response.status_code, response.data)
