"""A known admin world, built through the services like a real operator would.

prov (root) ─┬─ city ── district
             └─ town            (a sibling branch of city)

One user per role holds that role on ``city``; ``root`` administers prov.
Each of city, district and town has an account and a screen.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from chalice.test import Client

from chalicelib.services.access import units, users
from chalicelib.services.access.grants import Principal
from chalicelib.services.gateway import accounts
from chalicelib.services.screens import registry as screens

ROLES = ("admin", "editor", "reviewer", "viewer")
SECRET = "s3cr3tAppSecret0000000000000000A"
TOKEN = "Tok3nForCallbacks"
AES = "k" * 43
TEMPLATE_ID = "tmpl-world-push"  # a push channel on every account: publishing with push on needs one


@dataclass
class World:
    root: Principal
    root_key: str
    unit: dict[str, str] = field(default_factory=dict)  # name -> unit_id
    appid: dict[str, str] = field(default_factory=dict)
    screen: dict[str, str] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)  # role -> api key (granted on city)
    user: dict[str, str] = field(default_factory=dict)  # role -> user_id


def build(standin=None) -> World:
    unit, user, key = users.bootstrap_root_admin("省科协", "root")
    root = users.principal_for(user.user_id)
    world = World(root, key)
    world.unit["prov"] = unit.unit_id
    city = units.create(root, {"parent_id": unit.unit_id, "name": "市科协", "kind": "association"})
    world.unit["city"] = city.unit_id
    world.unit["town"] = units.create(root, {"parent_id": unit.unit_id, "name": "社区", "kind": "community"}).unit_id
    world.unit["district"] = units.create(root, {"parent_id": world.unit["city"], "name": "区科协"}).unit_id
    for n, name in enumerate(("city", "district", "town")):
        appid = f"wx{name}{n:012d}"[:18]
        world.appid[name] = appid
        if standin is not None:
            standin.register_account(appid, SECRET, "service")
        accounts.create(
            root,
            {
                "appid": appid,
                "unit_id": world.unit[name],
                "name": f"{name}号",
                "original_id": f"gh_{name}0000",
                "app_secret": SECRET,
                "token": TOKEN,
                "template_id": TEMPLATE_ID,
            },
        )
        code = f"{name[:2].upper()}00{n}"
        screens.create(
            root,
            {
                "screen_id": code,
                "unit_id": world.unit[name],
                "name": f"{name} screen",
                "appid": appid,
                "tags": ["lobby"],
            },
        )
        world.screen[name] = code
    for role in ROLES:
        member = users.create(root, {"unit_id": world.unit["city"], "name": f"{role} user"})
        users.grant(root, member.user_id, world.unit["city"], role)
        world.keys[role] = users.issue_key(root, member.user_id, "test")[1]
        world.user[role] = member.user_id
    return world


class Api:
    """The Chalice test client with a bearer key and JSON bodies."""

    def __init__(self, client: Client, key: str | None = None):
        self.client, self.key = client, key

    def as_(self, key: str | None) -> Api:
        return Api(self.client, key)

    def call(self, method: str, path: str, body=None, headers: dict | None = None, raw: bytes | str | None = None):
        hdrs = {"Content-Type": "application/json"}
        if self.key:
            hdrs["Authorization"] = f"Bearer {self.key}"
        hdrs.update(headers or {})
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = getattr(self.client.http, method.lower())(path, headers=hdrs, body=data)
        response.data = json.loads(response.body) if response.body else None
        return response

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.call("PATCH", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


def if_match(api: Api, content_id: str) -> dict[str, str]:
    """The If-Match header naming the content's current revision, as a client that just read it sends."""
    headers = {k.lower(): v for k, v in api.get(f"/api/v1/content/{content_id}").headers.items()}
    return {"If-Match": headers["etag"]}
