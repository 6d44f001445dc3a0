"""The demo world ``make dev`` starts with, created through the admin services.

A provincial association over a city association and a community; two
official accounts (a service account, and a subscription account in safe
mode); three screens with QR codes from the WeChat stand-in; published items
of every main kind (a notice, an article, an image with a generated PNG in the
bucket, an urgent notice); one user per role with a fresh API key; a fresh player key per screen.

``seed`` is idempotent: every creation runs under a fixed idempotency key
(``chalicelib.services.shared.idempotency``), so a second run finds the objects of
the first and creates nothing twice.  API keys cannot be read back (only
their hashes are stored), so each run revokes the previous demo keys and
issues new ones, which it returns (player keys likewise).
"""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from typing import Any

import requests

from chalicelib.models import ApiKey
from chalicelib.services.access import sessions, units, users
from chalicelib.services.content import media
from chalicelib.services.content import workflow as content
from chalicelib.services.gateway import accounts
from chalicelib.services.screens import registry as screens
from chalicelib.services.shared import idempotency

ACTOR = "devstack-demo"
SERVICE_APPID, SUBSCRIPTION_APPID = "wxdemoservice0001", "wxdemosubscr00002"
ACCOUNTS = {
    SERVICE_APPID: {
        "name": "南京科普",
        "account_type": "service",
        "original_id": "gh_demoservice1",
        "app_secret": "demoServiceSecret000000000000001",
        "token": "demoservicetoken",
        "aes_key": None,
        "unit": "city",
        "template_id": "TPL_demo_notice",
    },
    SUBSCRIPTION_APPID: {
        "name": "幸福社区",
        "account_type": "subscription",
        "original_id": "gh_demosubscr2",
        "app_secret": "demoSubscrSecret0000000000000002",
        "token": "demosubscrtoken",
        "aes_key": "demoEncodingAESKey0000000000000000000000001",
        "unit": "community",
    },
}
ROLES = ("admin", "editor", "reviewer", "viewer")
DEMO_PASSWORD = "kepu-demo-2026"  # noqa: S105 - local demo logins only (make dev prints them)


def _once(name: str, create, redact=None) -> dict[str, Any]:
    _status, body, _replayed = idempotency.run(ACTOR, "demo", name, name.encode(), lambda: (200, create()), redact)
    return json.loads(json.dumps(body, default=str))


def demo_png(width: int = 96, height: int = 54) -> bytes:
    """A small gradient PNG (stdlib only), distinct enough to see on a screen."""
    rows = b"".join(b"\x00" + b"".join(bytes((20 + x * 2, 120 + y, 200)) for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _upload_png(data: bytes) -> dict[str, Any]:
    sha = hashlib.sha256(data).hexdigest()
    ticket = media.presign(sha, len(data), "image/png")
    if not ticket["exists"]:
        form = ticket["upload"]
        response = requests.post(form["url"], data=form["fields"], files={"file": ("demo.png", data)}, timeout=10)
        response.raise_for_status()
    return {"sha256": sha, "size": len(data), "type": "image/png"}


def seed(standin) -> dict[str, Any]:
    """Create (or find) the demo world.

    Returns what ``devstack.dev`` prints and the simulator reads: ``units``,
    ``accounts`` (demo secrets, local only), ``screens`` (with fresh player
    keys), ``content`` ids by kind and ``users`` (role, unit and a fresh API key).
    """
    root = _once(
        "root", lambda: units.public(units.create_root("江苏省科协", "association", actor=ACTOR, province="江苏省"))
    )
    root_user = _once(
        "root-user",
        lambda: {
            "user_id": users.create(None, {"unit_id": root["unit_id"], "name": "省科协管理员"}, actor=ACTOR).user_id
        },
    )
    _once(
        "root-grant",
        lambda: {"ok": bool(users.grant(None, root_user["user_id"], root["unit_id"], "admin", actor=ACTOR))},
    )
    principal = users.principal_for(root_user["user_id"])
    unit_ids = {"province": root["unit_id"]}
    unit_ids["city"] = _once(
        "unit-city",
        lambda: units.public(
            units.create(
                principal,
                {
                    "parent_id": root["unit_id"],
                    "name": "南京市科协",
                    "kind": "association",
                    "province": "江苏省",
                    "city": "南京市",
                },
            )
        ),
    )["unit_id"]
    unit_ids["community"] = _once(
        "unit-community",
        lambda: units.public(
            units.create(
                principal,
                {
                    "parent_id": root["unit_id"],
                    "name": "幸福社区服务中心",
                    "kind": "community",
                    "province": "江苏省",
                    "city": "南京市",
                    "district": "鼓楼区",
                },
            )
        ),
    )["unit_id"]

    for appid, spec in ACCOUNTS.items():
        standin.register_account(appid, spec["app_secret"], spec["account_type"])
        data = {k: v for k, v in spec.items() if k != "unit" and v is not None}
        _once(
            f"account-{appid}",
            lambda appid=appid, data=data, spec=spec: accounts.public(
                accounts.create(principal, {"appid": appid, "unit_id": unit_ids[spec["unit"]], **data})
            ),
        )
        _once(f"menu-{appid}", lambda appid=appid: {"menu": accounts.create_menu(principal, appid)[1]})

    screen_specs = [
        ("NJ001", "city", SERVICE_APPID, "南京科技馆大厅", "玄武区北京东路1号", ["museum", "lobby"]),
        ("NJ002", "city", SERVICE_APPID, "南京图书馆", "玄武区中山东路189号", ["library"]),
        ("SQ001", "community", SUBSCRIPTION_APPID, "幸福社区服务中心", "鼓楼区幸福路8号", ["community"]),
    ]
    for code, unit, appid, name, address, tags in screen_specs:
        made = _once(
            f"screen-{code}",
            lambda code=code, unit=unit, appid=appid, name=name, address=address, tags=tags: {
                "screen_id": screens.create(
                    principal,
                    {
                        "screen_id": code,
                        "unit_id": unit_ids[unit],
                        "name": name,
                        "address": address,
                        "appid": appid,
                        "tags": tags,
                        "province": "江苏省",
                        "city": "南京市",
                    },
                )[0].screen_id
            },
        )
        if not screens.get(principal, made["screen_id"]).qr_url:
            screens.create_qrcode(principal, made["screen_id"])

    image = _upload_png(demo_png())
    items = [
        (
            "notice",
            {
                "unit_id": unit_ids["province"],
                "kind": "notice",
                "title": "全省科普日活动通知",
                "body": "9月全省科普日：各地科技馆免费开放，欢迎市民参加。",
                "category": "community_notice",
                "targets": {"units": [unit_ids["province"]]},
            },
        ),
        (
            "article",
            {
                "unit_id": unit_ids["city"],
                "kind": "article",
                "title": "秋季如何预防流感",
                "body": "<h2>勤洗手</h2><p>流感病毒主要通过飞沫和接触传播。</p><ul><li>接种疫苗</li>"
                "<li>保持通风</li></ul>",
                "category": "everyday",
                "targets": {"units": [unit_ids["city"]]},
            },
        ),
        (
            "image",
            {
                "unit_id": unit_ids["city"],
                "kind": "image",
                "title": "科技馆新展厅开放",
                "category": "frontier",
                "media": [image],
                "targets": {"tags": ["museum"]},
                "duration": 10,
            },
        ),
        (
            "urgent",
            {
                "unit_id": unit_ids["community"],
                "kind": "notice",
                "title": "停水通知",
                "priority": "urgent",
                "body": "今天14:00-18:00幸福路片区临时停水，请提前储水。",
                "category": "community_notice",
                "targets": {"screens": ["SQ001"]},
            },
        ),
    ]
    content_ids = {}
    for name, body in items:
        made = _once(
            f"content-{name}", lambda body=body: {"content_id": content.create(principal, dict(body)).content_id}
        )
        content.transition(principal, made["content_id"], "publish", None)  # a no-op when already published
        content_ids[name] = made["content_id"]

    unit_names = {
        unit_ids["province"]: "江苏省科协",
        unit_ids["city"]: "南京市科协",
        unit_ids["community"]: "幸福社区服务中心",
    }
    people = [
        {
            "role": "root admin",
            "user_id": root_user["user_id"],
            "unit_id": unit_ids["province"],
            "unit_name": unit_names[unit_ids["province"]],
            "api_key": _fresh_key(root_user["user_id"]),
        }
    ]
    for role in ROLES:
        made = _once(
            f"user-{role}",
            lambda role=role: {
                "user_id": users.create(principal, {"unit_id": unit_ids["city"], "name": f"演示{role}"}).user_id
            },
        )
        _once(
            f"grant-{role}",
            lambda made=made, role=role: {
                "user_id": users.grant(principal, made["user_id"], unit_ids["city"], role).user_id
            },
        )
        people.append(
            {
                "role": role,
                "user_id": made["user_id"],
                "unit_id": unit_ids["city"],
                "unit_name": unit_names[unit_ids["city"]],
                "api_key": _fresh_key(made["user_id"]),
            }
        )
    sibling = _once(
        "user-community-editor",
        lambda: {"user_id": users.create(principal, {"unit_id": unit_ids["community"], "name": "社区编辑"}).user_id},
    )
    _once(
        "grant-community-editor",
        lambda: {"user_id": users.grant(principal, sibling["user_id"], unit_ids["community"], "editor").user_id},
    )
    people.append(
        {
            "role": "editor",
            "user_id": sibling["user_id"],
            "unit_id": unit_ids["community"],
            "unit_name": unit_names[unit_ids["community"]],
            "api_key": _fresh_key(sibling["user_id"]),
            "username": "community-editor",
        }
    )
    _set_logins(principal, people)
    from devstack.demo_history import register_followers  # fans of an earlier run, when the emulator kept them

    register_followers(standin, set(ACCOUNTS))
    screen_list = []
    for code, *_rest in screen_specs:  # player keys are stored hashed too: a fresh one per run
        screen, player_key = screens.rotate_player_key(principal, code)
        screen_list.append(
            {
                "screen_id": code,
                "name": screen.name,
                "unit_id": screen.unit_id,
                "appid": screen.appid,
                "fan_count": int(screen.fan_count or 0),
                "player_key": player_key,
                "qr_url": screen.qr_url,
            }
        )
    return {
        "units": unit_ids,
        "accounts": [
            {
                "appid": appid,
                "name": spec["name"],
                "type": spec["account_type"],
                "token": spec["token"],
                "aes_key": spec["aes_key"],
                "original_id": spec["original_id"],
                "mode": "safe" if spec["aes_key"] else "plain",
            }
            for appid, spec in ACCOUNTS.items()
        ],
        "screens": screen_list,
        "content": content_ids,
        "users": people,
    }


def _set_logins(principal, people: list[dict[str, Any]]) -> None:
    """Console usernames and the demo password for every demo user (``root admin`` signs in as ``admin``)."""
    for person in people:
        usernames = {"root admin": "admin", "admin": "city-admin"}
        person.setdefault("username", usernames.get(person["role"], person["role"]))
        person["password"] = DEMO_PASSWORD
        sessions.set_password(
            principal, person["user_id"], DEMO_PASSWORD, person["username"], current_password=DEMO_PASSWORD
        )


def _fresh_key(user_id: str) -> str:
    """Revoke the user's earlier demo keys and issue one (keys cannot be read back)."""
    for old in ApiKey.by_user.query(user_id):
        if old.label == "demo" and old.revoked_at is None:
            users.revoke_key(None, user_id, old.key_id, actor=ACTOR)
    return users.issue_key(None, user_id, label="demo", actor=ACTOR)[1]


if __name__ == "__main__":  # python -m devstack.demo, against a running local stack
    import os

    from devstack.wechat_standin import StandInClient

    print(json.dumps(seed(StandInClient(os.environ["WECHAT_API_BASE"])), ensure_ascii=False, indent=2))
