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
from devstack.demo_world import (
    ACCOUNTS,
    CHILD_UNITS,
    CONSOLE_USERNAMES,
    DEMO_PASSWORD,
    ROLES,
    ROOT_UNIT,
    SCREENS,
    SERVICE_APPID,
    SUBSCRIPTION_APPID,
    UNIT_NAMES,
    items,
)

__all__ = ["ACCOUNTS", "DEMO_PASSWORD", "SERVICE_APPID", "SUBSCRIPTION_APPID", "demo_png", "seed"]

ACTOR = "devstack-demo"


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
    principal, root_user_id, unit_ids = _seed_units()
    _seed_accounts(standin, principal, unit_ids)
    _seed_screens(principal, unit_ids)
    content_ids = _seed_content(principal, unit_ids)
    people = _seed_people(principal, root_user_id, unit_ids)
    from devstack.demo_history import register_followers  # fans of an earlier run, when the emulator kept them

    register_followers(standin, set(ACCOUNTS))
    return {
        "units": unit_ids,
        "accounts": [_account_view(appid, spec) for appid, spec in ACCOUNTS.items()],
        "screens": _screens_with_fresh_player_keys(principal),
        "content": content_ids,
        "users": people,
    }


def _seed_units():
    """The root unit, its admin (the principal every other step acts as) and the two units under it."""
    root = _once("root", lambda: units.public(units.create_root(actor=ACTOR, **ROOT_UNIT)))
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
    for key, spec in CHILD_UNITS.items():
        unit_ids[key] = _once(
            f"unit-{key}",
            lambda spec=spec: units.public(units.create(principal, {"parent_id": root["unit_id"], **spec})),
        )["unit_id"]
    return principal, root_user["user_id"], unit_ids


def _seed_accounts(standin, principal, unit_ids: dict[str, str]) -> None:
    """Both official accounts, known to the WeChat stand-in, each with the default menu."""
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


def _seed_screens(principal, unit_ids: dict[str, str]) -> None:
    """The three screens, each with its QR code from the stand-in."""
    for code, unit, appid, name, address, tags in SCREENS:
        body = {"screen_id": code, "unit_id": unit_ids[unit], "name": name, "address": address, "appid": appid}
        body |= {"tags": tags, "province": "江苏省", "city": "南京市"}
        made = _once(f"screen-{code}", lambda body=body: {"screen_id": screens.create(principal, body)[0].screen_id})
        if not screens.get(principal, made["screen_id"]).qr_url:
            screens.create_qrcode(principal, made["screen_id"])


def _seed_content(principal, unit_ids: dict[str, str]) -> dict[str, str]:
    """One published item of each main kind (the image's PNG uploaded to the bucket); content ids by name."""
    content_ids = {}
    for name, body in items(unit_ids, _upload_png(demo_png())):
        made = _once(
            f"content-{name}", lambda body=body: {"content_id": content.create(principal, dict(body)).content_id}
        )
        content.transition(principal, made["content_id"], "publish", None)  # a no-op when already published
        content_ids[name] = made["content_id"]
    return content_ids


def _seed_people(principal, root_user_id: str, unit_ids: dict[str, str]) -> list[dict[str, Any]]:
    """The root admin, one city user per role and a community editor, each with a fresh API key and a login."""
    people = [_person("root admin", root_user_id, unit_ids, "province")]
    for role in ROLES:
        made = _user(principal, f"user-{role}", f"grant-{role}", unit_ids["city"], f"演示{role}", role)
        people.append(_person(role, made, unit_ids, "city"))
    sibling = _user(
        principal, "user-community-editor", "grant-community-editor", unit_ids["community"], "社区编辑", "editor"
    )
    people.append(_person("editor", sibling, unit_ids, "community", username="community-editor"))
    _set_logins(principal, people)
    return people


def _user(principal, user_key: str, grant_key: str, unit_id: str, name: str, role: str) -> str:
    """A demo user with one role on ``unit_id``, created once; the user id."""
    made = _once(user_key, lambda: {"user_id": users.create(principal, {"unit_id": unit_id, "name": name}).user_id})
    _once(grant_key, lambda: {"user_id": users.grant(principal, made["user_id"], unit_id, role).user_id})
    return made["user_id"]


def _person(role: str, user_id: str, unit_ids: dict[str, str], unit: str, **extra: str) -> dict[str, Any]:
    """A demo user as ``make dev`` prints them, with a fresh API key."""
    return {
        "role": role,
        "user_id": user_id,
        "unit_id": unit_ids[unit],
        "unit_name": UNIT_NAMES[unit],
        "api_key": _fresh_key(user_id),
        **extra,
    }


def _account_view(appid: str, spec: dict[str, Any]) -> dict[str, Any]:
    """What ``make dev`` prints of an account (demo secrets: local only)."""
    return {
        "appid": appid,
        "name": spec["name"],
        "type": spec["account_type"],
        "token": spec["token"],
        "aes_key": spec["aes_key"],
        "original_id": spec["original_id"],
        "mode": "safe" if spec["aes_key"] else "plain",
    }


def _screens_with_fresh_player_keys(principal) -> list[dict[str, Any]]:
    """Player keys are stored hashed, like API keys: a fresh one per run."""
    screen_list = []
    for code, *_rest in SCREENS:
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
    return screen_list


def _set_logins(principal, people: list[dict[str, Any]]) -> None:
    """Console usernames and the demo password for every demo user (``root admin`` signs in as ``admin``)."""
    for person in people:
        person.setdefault("username", CONSOLE_USERNAMES.get(person["role"], person["role"]))
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
