"""Console sign-in through the admin API: passwords, back-off and lock, cookie sessions with CSRF."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.models import ConsoleSession, Credential
from chalicelib.services.access import session_cookies, sessions
from chalicelib.services.shared.writes import now

PASSWORD = "Kepu-2026-screen"


def set_password(api, world, role="editor", username=None, password=PASSWORD):
    return api.put(
        f"/api/v1/users/{world.user[role]}/password", {"username": username or f"{role}1", "password": password}
    )


def cookie_of(response) -> str:
    header = response.headers["Set-Cookie"]
    return header.split(";", 1)[0]


def login(api, username="editor1", password=PASSWORD):
    return api.as_(None).post("/api/v1/auth/login", {"username": username, "password": password})


def test_password_login_sets_a_strict_http_only_cookie_scoped_to_the_api(api, world):
    assert set_password(api, world).status_code == 200
    r = login(api)
    assert r.status_code == 200, r.data
    header = r.headers["Set-Cookie"]
    for part in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/api"):
        assert part in header
    assert r.data["user"]["user_id"] == world.user["editor"]
    assert r.data["user"]["username"] == "editor1"
    assert len(r.data["csrf_token"]) >= 32
    token = cookie_of(r).split("=", 1)[1]
    stored = ConsoleSession.get(session_cookies.hash_token(token))
    assert token not in str(stored.attribute_values)  # only the hash is kept
    assert PASSWORD not in str(Credential.get("editor1").attribute_values)


def test_session_cookie_authenticates_reads_and_writes_need_csrf(api, world):
    set_password(api, world)
    r = login(api)
    cookie, csrf = cookie_of(r), r.data["csrf_token"]
    anon = api.as_(None)
    me = anon.get("/api/v1/me", headers={"Cookie": cookie})
    assert me.status_code == 200 and me.data["user_id"] == world.user["editor"]
    body = {
        "unit_id": world.unit["city"],
        "kind": "notice",
        "title": "无令牌",
        "body": "x",
        "targets": {"units": [world.unit["city"]]},
        "push": False,
    }
    no_csrf = anon.post("/api/v1/content", body, headers={"Cookie": cookie})
    assert no_csrf.status_code == 400 and no_csrf.data["error"]["code"] == "csrf"
    wrong = anon.post("/api/v1/content", body, headers={"Cookie": cookie, "X-CSRF-Token": "0" * 40})
    assert wrong.status_code == 400
    ok = anon.post("/api/v1/content", body, headers={"Cookie": cookie, "X-CSRF-Token": csrf})
    assert ok.status_code == 201, ok.data
    again = anon.get("/api/v1/auth/session", headers={"Cookie": cookie})
    assert again.status_code == 200 and again.data["csrf_token"] == csrf and again.data["session"]["current"]


def test_scope_with_a_session_is_the_users_scope(api, world):
    set_password(api, world)
    cookie = cookie_of(login(api))
    town = api.as_(None).get(f"/api/v1/units/{world.unit['town']}", headers={"Cookie": cookie})
    assert town.status_code == 404


def test_wrong_passwords_back_off_then_lock_until_an_admin_resets(api, world):
    set_password(api, world)
    codes = []
    for _ in range(sessions.BACKOFF_FROM):
        codes.append(login(api, password="wrong-password").status_code)
    assert codes == [401] * sessions.BACKOFF_FROM
    blocked = login(api)  # even the right password waits during the back-off
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1
    cred = Credential.get("editor1")
    cred.update(
        actions=[
            Credential.failures.set(sessions.LOCK_AFTER - 1),
            Credential.blocked_until.set(now() - timedelta(seconds=1)),
        ]
    )
    assert login(api, password="wrong-password").status_code == 401
    locked = login(api)
    assert locked.status_code == 423 and locked.data["error"]["code"] == "locked"
    assert set_password(api, world, password="Another-pass-77").status_code == 200  # admin reset
    assert login(api, password="Another-pass-77").status_code == 200


def test_unknown_user_and_wrong_password_answer_alike(api, world):
    set_password(api, world)
    a, b = login(api, username="nobody"), login(api, password="wrong-password")
    assert a.status_code == b.status_code == 401 and a.data == b.data


def test_sessions_expire_after_inactivity_and_can_be_listed_and_revoked(api, world):
    set_password(api, world)
    first, second = login(api), login(api)
    anon = api.as_(None)
    c1, c2 = cookie_of(first), cookie_of(second)
    listed = anon.get("/api/v1/auth/sessions", headers={"Cookie": c1}).data["items"]
    assert len(listed) == 2 and sum(s["current"] for s in listed) == 1
    other = next(s for s in listed if not s["current"])["session_id"]
    gone = anon.delete(
        f"/api/v1/auth/sessions/{other}", headers={"Cookie": c1, "X-CSRF-Token": first.data["csrf_token"]}
    )
    assert gone.status_code == 204
    assert anon.get("/api/v1/me", headers={"Cookie": c2}).status_code == 401
    token = c1.split("=", 1)[1]
    stored = ConsoleSession.get(session_cookies.hash_token(token))
    stored.update(actions=[ConsoleSession.last_seen_at.set(now() - sessions.IDLE - timedelta(seconds=5))])
    expired = anon.get("/api/v1/me", headers={"Cookie": c1})
    assert expired.status_code == 401 and expired.data["error"]["code"] == "session_expired"


def test_logout_ends_the_session_and_clears_the_cookie(api, world):
    set_password(api, world)
    r = login(api)
    cookie, csrf = cookie_of(r), r.data["csrf_token"]
    out = api.as_(None).post("/api/v1/auth/logout", headers={"Cookie": cookie, "X-CSRF-Token": csrf})
    assert out.status_code == 204 and "Max-Age=0" in out.headers["Set-Cookie"]
    assert api.as_(None).get("/api/v1/me", headers={"Cookie": cookie}).status_code == 401


def test_password_rules_and_who_may_set_them(api, world):
    weak = set_password(api, world, password="short")
    assert weak.status_code == 400 and weak.data["error"]["field"] == "password"
    bad_name = set_password(api, world, username="Bad Name!")
    assert bad_name.status_code == 400 and bad_name.data["error"]["field"] == "username"
    assert set_password(api, world).status_code == 200
    taken = set_password(api, world, role="viewer", username="editor1")
    assert taken.status_code == 409 and taken.data["error"]["field"] == "username"
    # a viewer may not set an editor's password; the editor must know his current one to change it
    viewer = api.as_(world.keys["viewer"])
    assert (
        viewer.put(f"/api/v1/users/{world.user['editor']}/password", {"password": "Viewer-sets-it-1"}).status_code
        == 403
    )
    editor = api.as_(world.keys["editor"])
    own = f"/api/v1/users/{world.user['editor']}/password"
    assert editor.put(own, {"password": "Editor-new-pass-2"}).data["error"]["field"] == "current_password"
    assert editor.put(own, {"password": "Editor-new-pass-2", "current_password": PASSWORD}).status_code == 200
    assert login(api, password="Editor-new-pass-2").status_code == 200


def test_password_reset_ends_the_users_sessions(api, world):
    set_password(api, world)
    cookie = cookie_of(login(api))
    set_password(api, world, password="Reset-by-admin-3")
    assert api.as_(None).get("/api/v1/me", headers={"Cookie": cookie}).status_code == 401


def test_passwords_never_reach_logs_or_audit(api, world, capsys, wechat_like_logs):
    set_password(api, world)
    login(api, password="wrong-" + PASSWORD)
    login(api)
    entries = api.get(f"/api/v1/audit/user/{world.user['editor']}").data["items"]
    assert any(e["action"] == "user.password" for e in entries)
    captured = capsys.readouterr()
    assert PASSWORD not in captured.out + captured.err + str(entries)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(failures=st.integers(min_value=0, max_value=40))
def test_backoff_never_shrinks_and_locks_from_the_limit(failures):
    at = now()
    this, after = sessions.backoff(failures, at), sessions.backoff(failures + 1, at)
    assert (this or at) <= (after or at)
    assert (this is not None and this - at > timedelta(days=365)) == (failures >= sessions.LOCK_AFTER)


@pytest.mark.parametrize("header", [None, "", "kepu_session=short", "kepu_session=" + "a" * 300, "x=1; y"])
def test_malformed_cookies_are_no_session(header):
    assert session_cookies.token_from_cookie(header) is None
