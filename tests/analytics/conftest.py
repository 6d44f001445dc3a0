"""Analytics fixtures: the demo world, admin keys per scope, signed callbacks, phone pages, the stream pump."""

from __future__ import annotations

import json

import pytest
from chalice.test import Client

from app import app
from chalicelib.services.access import users
from chalicelib.services.analytics import scopes
from devstack.stream_pump import StreamPump
from tests.phone.conftest import PhoneBrowser, csrf_of
from tests.support import PLAIN_APPID

V = "/api/v1"


class Admin:
    """The admin API through Chalice's test client, as one key holder."""

    def __init__(self, client: Client, key: str):
        self.client, self.key = client, key

    def get(self, path: str):
        response = self.client.http.get(path, headers={"Authorization": f"Bearer {self.key}"})
        is_json = response.headers.get("Content-Type", "").startswith("application/json")
        response.data = json.loads(response.body) if response.body and is_json else None
        return response

    def put(self, path: str, body: dict):
        response = self.client.http.put(
            path,
            headers={"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"},
            body=json.dumps(body),
        )
        response.data = json.loads(response.body) if response.body else None
        return response


class Fans:
    """Every way a person changes his subscriptions: signed callbacks and the phone pages."""

    def __init__(self, client: Client, demo):
        self.client, self.demo = client, demo
        self._browsers: dict[str, tuple[PhoneBrowser, str]] = {}

    def _say(self, sender, request) -> str:
        response = self.client.http.post(
            f"/wechat/{sender.appid}?{request.query_string}", headers={"Content-Type": "text/xml"}, body=request.body
        )
        assert response.status_code == 200, response.body
        return response.body.decode()

    def sender(self, appid: str):
        return self.demo.plain if appid == PLAIN_APPID else self.demo.safe

    def follow(self, appid: str, openid: str, scene: str | None = None) -> None:
        self._say(self.sender(appid), self.sender(appid).follow(openid, scene=scene))

    def scan(self, appid: str, openid: str, scene: str) -> None:
        self._say(self.sender(appid), self.sender(appid).scan(openid, scene))

    def text(self, appid: str, openid: str, content: str) -> None:
        self._say(self.sender(appid), self.sender(appid).text(openid, content))

    def unfollow(self, appid: str, openid: str) -> None:
        self._say(self.sender(appid), self.sender(appid).unfollow(openid))

    def page(self, openid: str, screen_id: str, action: str) -> int:
        """Tap 订阅 / 退订 on the plain account's subscription centre, signed in through WeChat OAuth."""
        centre = f"/m/{PLAIN_APPID}/subscribe"
        if openid not in self._browsers:
            browser = PhoneBrowser(self.client, openid=openid)
            page = browser.get(centre)
            assert page.status_code in (200, 403), page.status_code
            self._browsers[openid] = (browser, csrf_of(page.body.decode()) if page.status_code == 200 else "")
        browser, token = self._browsers[openid]
        if not token:
            page = browser.get(centre)
            if page.status_code != 200:
                return page.status_code
            token = csrf_of(page.body.decode())
            self._browsers[openid] = (browser, token)
        reply = browser.post_form(centre, {"csrf": token, "screen": screen_id, "action": action, "next": centre})
        return reply.status_code


@pytest.fixture(autouse=True)
def _fresh_scope_cache():
    scopes.clear()
    yield
    scopes.clear()


@pytest.fixture
def client(demo, wechat):
    with Client(app) as test_client:
        yield test_client


@pytest.fixture
def pump(demo):
    return StreamPump(app, stage="test")


@pytest.fixture
def keys(demo):
    """Admin API keys: admin of the province, viewer of the city, viewer of the town (a sibling branch)."""
    out = {}
    for name, unit_id, role in (("prov", "prov", "admin"), ("city", "city", "viewer"), ("town", "town", "viewer")):
        user = users.create(None, {"unit_id": unit_id, "name": f"{name} {role}"}, actor="test")
        users.grant(None, user.user_id, unit_id, role, actor="test")
        out[name] = users.issue_key(None, user.user_id, "test", actor="test")[1]
    return out


@pytest.fixture
def admin(client, keys):
    return {name: Admin(client, key) for name, key in keys.items()}


@pytest.fixture
def fans(client, demo):
    return Fans(client, demo)


@pytest.fixture(scope="module")
def _module_model():
    from tests.analytics.test_fan_count_invariant import Model

    return Model()


@pytest.fixture
def global_model(_module_model, demo):
    """One model for every example of a property test: the examples share one emulated system."""
    return _module_model
