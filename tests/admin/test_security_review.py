"""Regression tests for the outside security review (issue 10, admin-API half).

Each test plays the hostile caller the review describes: staff of another
branch, a careless client, a forged form.  They go through the public HTTP
routes against the emulator, like the attack did.
"""

from __future__ import annotations

import hashlib

import requests

from chalicelib.services.access import users
from tests.admin.world import World

V = "/api/v1"


def key_for(world: World, where: str, role: str, name: str = "staff") -> tuple[str, str]:
    """A fresh user holding ``role`` on unit ``where``: (user_id, api key)."""
    member = users.create(world.root, {"unit_id": world.unit[where], "name": f"{name} {role}"})
    users.grant(world.root, member.user_id, world.unit[where], role)
    return member.user_id, users.issue_key(world.root, member.user_id, "test")[1]


def stored(key: str) -> bytes | None:
    from botocore.exceptions import ClientError

    from chalicelib.aws import client
    from chalicelib.settings import get_settings

    try:
        return client("s3").get_object(Bucket=get_settings().player_bucket, Key=key)["Body"].read()
    except ClientError:
        return None


def upload(api, unit_id: str, data: bytes, size: int | None = None, sha: str | None = None):
    """Ask for a form and post ``data`` with it; (ask response, post response or None)."""
    sha = sha or hashlib.sha256(data).hexdigest()
    ask = api.post(
        f"{V}/media/uploads", {"unit_id": unit_id, "sha256": sha, "size": size or len(data), "type": "image/png"}
    )
    if ask.status_code != 200 or ask.data["upload"] is None:
        return ask, None
    form = ask.data["upload"]
    return ask, requests.post(form["url"], data=form["fields"], files={"file": ("x.png", data)}, timeout=10)


# ---- item 1: media overwrite across units ------------------------------------------------------------------------


def test_a_form_for_a_known_hash_cannot_replace_its_bytes(api, world):
    real = b"\x89PNG\r\n\x1a\n" + b"town's poster" * 20
    sha = hashlib.sha256(real).hexdigest()
    _, town_key = key_for(world, "town", "editor")
    town = api.as_(town_key)
    _, posted = upload(town, world.unit["town"], real)
    assert posted is not None and posted.status_code < 300
    item = {
        "unit_id": world.unit["town"],
        "kind": "image",
        "title": "海报",
        "targets": {"units": [world.unit["town"]]},
        "media": [{"sha256": sha, "size": len(real), "type": "image/png"}],
    }
    assert town.post(f"{V}/content", item).status_code == 201
    final_key = f"media/{sha}.png"
    assert stored(final_key) == real

    # an editor of another branch knows the hash (manifests are public) and tries other bytes under it
    city = api.as_(world.keys["editor"])
    forged = b"\x89PNG\r\n\x1a\n" + b"defaced!" * 40
    for size in (len(forged), len(real)):
        ask, posted = upload(city, world.unit["city"], forged[:size] if size <= len(forged) else forged, size, sha)
        assert ask.status_code in (200, 400), ask.data
    assert stored(final_key) == real, "the stored object of a hash changed"
    # and the forged upload cannot be referenced as that hash either
    claim = city.post(
        f"{V}/content",
        {
            **item,
            "unit_id": world.unit["city"],
            "targets": {"units": [world.unit["city"]]},
            "media": [{"sha256": sha, "size": len(forged), "type": "image/png"}],
        },
    )
    assert claim.status_code == 400 and claim.data["error"]["field"] == "media.0"
    assert stored(final_key) == real


def test_a_staged_upload_with_other_bytes_is_refused_and_never_published(api, world):
    real = b"\x89PNG\r\n\x1a\n" + b"not yet uploaded" * 10
    sha = hashlib.sha256(real).hexdigest()
    forged = b"\x89PNG\r\n\x1a\n" + b"X" * (len(real) - 8)  # same size, other bytes
    editor = api.as_(world.keys["editor"])
    _, posted = upload(editor, world.unit["city"], forged, sha=sha)
    assert posted is not None and posted.status_code < 300
    item = {
        "unit_id": world.unit["city"],
        "kind": "image",
        "title": "图",
        "targets": {"units": [world.unit["city"]]},
        "media": [{"sha256": sha, "size": len(real), "type": "image/png"}],
    }
    refused = editor.post(f"{V}/content", item)
    assert refused.status_code == 400 and refused.data["error"]["field"] == "media.0"
    assert stored(f"media/{sha}.png") is None
    # the real bytes, uploaded afterwards, are what the hash then serves
    _, posted = upload(editor, world.unit["city"], real)
    assert posted.status_code < 300
    assert editor.post(f"{V}/content", item).status_code == 201
    assert stored(f"media/{sha}.png") == real


# ---- item 2: audit log across branches ---------------------------------------------------------------------------


def _screen_in(api, world, where: str, code: str, name: str) -> None:
    created = api.post(
        f"{V}/screens",
        {
            "screen_id": code,
            "unit_id": world.unit[where],
            "name": name,
            "appid": world.appid["city" if where == "district" else where],
        },
    )
    assert created.status_code == 201, created.data


def _delete_screen(api, code: str) -> None:
    rev = api.get(f"{V}/screens/{code}").data["revision"]
    assert api.delete(f"{V}/screens/{code}", headers={"If-Match": f'"{rev}"'}).status_code == 204


def test_audit_of_a_reused_screen_code_shows_only_the_callers_branches(api, world):
    code = "REUSE01"
    _screen_in(api, world, "town", code, "社区旧屏")  # branch B
    _delete_screen(api, code)
    _screen_in(api, world, "city", code, "市里的屏")  # branch A
    _delete_screen(api, code)
    _screen_in(api, world, "district", code, "区里的屏")  # inside A, another grant
    _, city_viewer = key_for(world, "city", "viewer")
    seen = api.as_(city_viewer).get(f"{V}/audit/screen/{code}")
    assert seen.status_code == 200
    units = {e["unit_id"] for e in seen.data["items"]}
    assert units == {world.unit["city"], world.unit["district"]}, seen.data["items"]
    assert "社区旧屏" not in str(seen.data)

    # a user with grants in two branches (district and town) sees both, and nothing of city itself
    both_id, both_key = key_for(world, "district", "viewer", "both")
    users.grant(world.root, both_id, world.unit["town"], "viewer")
    seen = api.as_(both_key).get(f"{V}/audit/screen/{code}").data["items"]
    assert {e["unit_id"] for e in seen} == {world.unit["district"], world.unit["town"]}
    assert "市里的屏" not in str(seen)
    # paging through the filtered log loses nothing and shows nothing else
    pages, cursor = [], None
    while True:
        page = api.as_(both_key).get(f"{V}/audit/screen/{code}?limit=1" + (f"&cursor={cursor}" if cursor else ""))
        assert page.status_code == 200
        pages += page.data["items"]
        cursor = page.data["next_cursor"]
        if not cursor:
            break
    assert pages == seen

    # only the town part: a town viewer sees B's history, the code's current life in A is not his
    _, town_viewer = key_for(world, "town", "viewer")
    town_seen = api.as_(town_viewer).get(f"{V}/audit/screen/{code}")
    assert town_seen.status_code == 200 and {e["unit_id"] for e in town_seen.data["items"]} == {world.unit["town"]}
    # nothing at all in scope: the same 404 as a code that never existed
    _, other = key_for(world, "town", "viewer", "other")
    assert api.as_(other).get(f"{V}/audit/screen/{world.screen['city']}").status_code == 404


# ---- item 3: null on a required field; one malformed item in a table --------------------------------------------


def _object(api, world, kind: str) -> str:
    from tests.admin.test_authorization_matrix import _account, _content, _screen, _user

    return {
        "units": lambda: world.unit["district"],
        "accounts": lambda: _account(world, "city"),
        "screens": lambda: _screen(world, "city"),
        "content": lambda: _content(world, "city"),
        "users": lambda: _user(world, "city"),
    }[kind]()


REQUIRED_ON_PATCH = [
    ("units", "name"),
    ("units", "kind"),
    ("units", "parent_id"),
    ("units", "review_required"),
    ("accounts", "name"),
    ("accounts", "unit_id"),
    ("accounts", "account_type"),
    ("accounts", "certified"),
    ("accounts", "original_id"),
    ("accounts", "app_secret"),
    ("accounts", "token"),
    ("screens", "name"),
    ("screens", "unit_id"),
    ("screens", "appid"),
    ("content", "title"),
    ("content", "duration"),
    ("content", "priority"),
    ("content", "targets"),
    ("content", "push"),
    ("users", "name"),
    ("users", "disabled"),
]


def test_null_for_a_required_field_is_a_400_naming_it_and_changes_nothing(api, world):
    for kind, name in REQUIRED_ON_PATCH:
        ident = _object(api, world, kind)
        before = api.get(f"{V}/{kind}/{ident}")
        assert before.status_code == 200
        r = api.patch(f"{V}/{kind}/{ident}", {name: None})
        assert r.status_code == 400, (kind, name, r.status_code, r.data)
        assert r.data["error"]["field"] == name, (kind, name, r.data)
        after = api.get(f"{V}/{kind}/{ident}")
        assert after.status_code == 200 and after.data == before.data, (kind, name)
    # the superior unit's lists and the public subscription centre still answer
    for kind in ("units", "accounts", "screens", "content", "users"):
        assert api.get(f"{V}/{kind}").status_code == 200, kind


def _raw_put(table_of, item: dict) -> None:
    from chalicelib.aws import client

    client("dynamodb").put_item(TableName=table_of.Meta.table_name, Item=item)


def test_one_malformed_item_never_breaks_a_read_or_a_list(api, world):
    from chalicelib.models import Content, Screen, Unit, User

    city = world.unit["city"]
    unit = Unit.get(city)
    # items written around the API (an old version, a hand edit): required attributes missing or mistyped
    _raw_put(Screen, {"screen_id": {"S": "BROKEN1"}, "unit_id": {"S": city}, "appid": {"S": world.appid["city"]}})
    _raw_put(
        Content,
        {
            "content_id": {"S": "c_broken"},
            "unit_id": {"S": city},
            "kind": {"S": "notice"},
            "created_at": {"S": "2026-01-01T00:00:00.000000+0000"},
            "status": {"S": "draft"},
        },
    )
    _raw_put(
        Unit,
        {
            "unit_id": {"S": "u_broken"},
            "root_id": {"S": unit.root_id},
            "parent_id": {"S": city},
            "path": {"S": f"{unit.path}u_broken/"},
        },
    )
    _raw_put(User, {"user_id": {"S": "usr_broken"}, "unit_id": {"S": city}})
    _raw_put(
        Screen,
        {
            "screen_id": {"S": "BROKEN2"},
            "unit_id": {"S": city},
            "name": {"S": "坏"},
            "appid": {"S": world.appid["city"]},
            "revision": {"S": "not a number"},
        },
    )
    for path in (
        f"{V}/screens",
        f"{V}/screens?unit_id={city}",
        f"{V}/content",
        f"{V}/units?under={city}",
        f"{V}/units?parent_id={city}",
        f"{V}/users",
        f"{V}/users?unit_id={city}",
        f"{V}/screens/BROKEN1",
        f"{V}/screens/BROKEN2",
        f"{V}/content/c_broken",
        f"{V}/units/u_broken",
        f"{V}/users/usr_broken",
        f"{V}/units/{world.unit['prov']}/ranking",
    ):
        r = api.get(path)
        assert r.status_code in (200, 404), (path, r.status_code, r.data)
        if r.status_code == 200 and "items" in r.data:
            assert all(isinstance(i, dict) for i in r.data["items"])
    listed = api.get(f"{V}/screens?unit_id={city}").data["items"]
    assert world.screen["city"] in {s["screen_id"] for s in listed}  # the good ones are still there


# ---- item 6 (screen API) and item 13 (wrong player keys) ----------------------------------------------------------


def _player_key(api, world, where: str = "city") -> str:
    rotated = api.post(f"{V}/screens/{world.screen[where]}/player-key")
    assert rotated.status_code == 200
    return rotated.data["player_key"]


def test_deeply_nested_json_to_the_screen_api_is_a_400(api, world):
    key = _player_key(api, world)
    nested = "[" * 5000 + "]" * 5000
    for route in ("heartbeat", "plays"):
        for body in (nested, '{"plays": ' + nested + "}", '{"a":' * 1000 + "1" + "}" * 1000):
            r = api.client.http.post(
                f"/screens/{world.screen['city']}/{route}",
                body=body[:4000],
                headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            )
            assert r.status_code == 400, (route, r.status_code, r.body[:200])


def test_wrong_player_keys_are_rate_limited_too(api, world):
    from chalicelib.services.screens.reports import RATE_LIMIT_PER_MINUTE

    code = world.screen["town"]
    statuses = []
    for n in range(RATE_LIMIT_PER_MINUTE + 5):
        r = api.client.http.post(
            f"/screens/{code}/heartbeat",
            body="{}",
            headers={"Authorization": f"Bearer psk_wrong{n}", "Content-Type": "application/json"},
        )
        statuses.append(r.status_code)
    assert set(statuses[:RATE_LIMIT_PER_MINUTE]) == {401}
    assert statuses[-1] == 429 and "Retry-After" in {k.title() for k in r.headers}
    # unknown codes are counted the same way (the limit is per caller, not per existing screen)
    r = api.client.http.post(
        "/screens/NOSUCH9/heartbeat",
        body="{}",
        headers={"Authorization": "Bearer psk_x", "Content-Type": "application/json"},
    )
    assert r.status_code == 429


# ---- item 11: review bypass --------------------------------------------------------------------------------------


def _etag(api, cid: str) -> dict:
    return {"If-Match": f'"{api.get(f"{V}/content/{cid}").data["revision"]}"'}


def test_an_admin_who_edited_a_pending_item_cannot_approve_it(api, world):
    assert api.patch(f"{V}/units/{world.unit['city']}", {"review_required": True}).status_code == 200
    editor = api.as_(world.keys["editor"])
    made = editor.post(
        f"{V}/content",
        {
            "unit_id": world.unit["city"],
            "kind": "notice",
            "title": "停水通知",
            "body": "明天停水",
            "targets": {"units": [world.unit["city"]]},
        },
    )
    cid = made.data["content_id"]
    assert editor.post(f"{V}/content/{cid}/submit", headers=_etag(editor, cid)).status_code == 200
    admin = api.as_(world.keys["admin"])  # not the author: an admin of the unit
    edited = admin.patch(f"{V}/content/{cid}", {"body": "明天不停水，请到广场集合"}, headers=_etag(admin, cid))
    assert edited.status_code == 200 and edited.data["status"] == "pending_review"
    own = admin.post(f"{V}/content/{cid}/approve", headers=_etag(admin, cid))
    assert own.status_code == 403 and own.data["error"]["code"] == "own_content"
    assert api.get(f"{V}/content/{cid}").data["status"] == "pending_review"
    # someone who did not write it may
    reviewer = api.as_(world.keys["reviewer"])
    assert reviewer.post(f"{V}/content/{cid}/approve", headers=_etag(reviewer, cid)).status_code == 200


def test_approve_and_publish_require_if_match(api, world):
    assert api.patch(f"{V}/units/{world.unit['city']}", {"review_required": True}).status_code == 200
    editor, reviewer = api.as_(world.keys["editor"]), api.as_(world.keys["reviewer"])
    cid = editor.post(
        f"{V}/content",
        {
            "unit_id": world.unit["city"],
            "kind": "notice",
            "title": "通知",
            "body": "原文",
            "targets": {"units": [world.unit["city"]]},
        },
    ).data["content_id"]
    editor.post(f"{V}/content/{cid}/submit", headers=_etag(editor, cid))
    read = _etag(reviewer, cid)  # the reviewer reads the text ...
    missing = reviewer.post(f"{V}/content/{cid}/approve")
    assert missing.status_code == 428 and missing.data["error"]["field"] == "If-Match"
    editor.patch(f"{V}/content/{cid}", {"body": "改过的文字"}, headers=_etag(editor, cid))  # ... it changes
    stale = reviewer.post(f"{V}/content/{cid}/approve", headers=read)
    assert stale.status_code == 412
    assert api.get(f"{V}/content/{cid}").data["status"] == "pending_review"
    assert reviewer.post(f"{V}/content/{cid}/approve", headers=_etag(reviewer, cid)).status_code == 200
    no_tag = editor.post(f"{V}/content/{cid}/publish")
    assert no_tag.status_code == 428 and api.get(f"{V}/content/{cid}").data["status"] == "approved"
    assert editor.post(f"{V}/content/{cid}/publish", headers=_etag(editor, cid)).status_code == 200
    document = api.get(f"{V}/openapi.json").data
    for action in ("approve", "publish"):
        params = document["paths"][f"{V}/content/{{content_id}}/{action}"]["post"]["parameters"]
        assert next(p for p in params if p["name"] == "If-Match")["required"] is True
        assert "428" in document["paths"][f"{V}/content/{{content_id}}/{action}"]["post"]["responses"]


# ---- item 12: Idempotency-Key ------------------------------------------------------------------------------------


def test_a_timed_out_attempt_does_not_block_its_key(api, world, monkeypatch):
    """A Lambda killed at its deadline runs no cleanup; past that deadline a retry must run, not get 409 for 24 h."""
    import threading
    import time

    from chalicelib.services.access import units as unit_service

    real_create, started, killed = unit_service.create, threading.Event(), threading.Event()
    calls = []

    def first_attempt_hangs(principal, data, **kw):
        calls.append(1)
        if len(calls) == 1:
            started.set()
            killed.wait(30)
            raise SystemExit("the function was stopped at its deadline")  # nothing after this point runs
        return real_create(principal, data, **kw)

    monkeypatch.setattr(unit_service, "create", first_attempt_hangs)
    key = {"Idempotency-Key": "slow-unit"}
    body = {"parent_id": world.unit["city"], "name": "慢单位", "kind": "community"}
    first = threading.Thread(target=lambda: _swallow(lambda: api.post(f"{V}/units", body, headers=key)))
    first.start()
    assert started.wait(10)
    try:
        during = api.post(f"{V}/units", body, headers=key)
        assert during.status_code == 409 and during.data["error"]["code"] == "request_in_progress"
        # the first attempt's function deadline (15 min at most for a Lambda) passes without a word from it
        clock = time.time
        monkeypatch.setattr(time, "time", lambda: clock() + 16 * 60)
        retried = api.post(f"{V}/units", body, headers=key)
        assert retried.status_code == 201, retried.data
        replayed = api.post(f"{V}/units", body, headers=key)
        assert replayed.status_code == 201 and replayed.data["unit_id"] == retried.data["unit_id"]
        assert replayed.headers.get("Idempotency-Replayed") == "true"
    finally:
        killed.set()
        first.join(10)
    after = api.post(f"{V}/units", body, headers=key)  # the dead attempt's cleanup cannot undo the retry
    assert after.status_code == 201 and after.data["unit_id"] == retried.data["unit_id"]
    children = api.get(f"{V}/units?parent_id={world.unit['city']}").data["items"]
    assert [u["name"] for u in children].count("慢单位") == 1


def _swallow(fn) -> None:
    import contextlib

    with contextlib.suppress(BaseException):  # the simulated stop of the first attempt
        fn()


def test_the_same_key_on_another_path_is_another_request(api, world):
    key = {"Idempotency-Key": "issue-key-1"}
    for_viewer = api.post(f"{V}/users/{world.user['viewer']}/keys", {"label": "ci"}, headers=key)
    for_editor = api.post(f"{V}/users/{world.user['editor']}/keys", {"label": "ci"}, headers=key)
    assert for_viewer.status_code == for_editor.status_code == 201
    assert for_editor.data["key"]["user_id"] == world.user["editor"], "replayed another user's key"
    assert for_editor.data["api_key"] and "Idempotency-Replayed" not in for_editor.headers
    again = api.post(f"{V}/users/{world.user['viewer']}/keys", {"label": "ci"}, headers=key)
    assert again.data["key"]["key_id"] == for_viewer.data["key"]["key_id"]


# ---- item 13: existence probing ----------------------------------------------------------------------------------


def test_taken_ids_answer_alike_wherever_they_are(api, world):
    """A city admin cannot tell a town screen (or account) from one of his own, nor learn its branch."""
    city_admin = api.as_(world.keys["admin"])
    theirs, mine = world.screen["town"], world.screen["city"]
    assert city_admin.get(f"{V}/screens/{theirs}").status_code == 404
    answers = []
    for code in (theirs, mine):
        r = city_admin.post(
            f"{V}/screens",
            {"screen_id": code, "unit_id": world.unit["city"], "name": "新屏", "appid": world.appid["city"]},
        )
        answers.append((r.status_code, r.data))
    assert answers[0] == answers[1], answers
    assert answers[0][0] == 409 and answers[0][1]["error"]["code"] == "unavailable"
    assert world.unit["town"] not in str(answers[0][1])

    accounts = []
    for appid in (world.appid["town"], world.appid["city"]):
        r = city_admin.post(
            f"{V}/accounts",
            {
                "appid": appid,
                "unit_id": world.unit["city"],
                "name": "号",
                "original_id": "gh_dup00000",
                "app_secret": "A" * 32,
                "token": "tok",
            },
        )
        accounts.append((r.status_code, r.data))
    assert accounts[0] == accounts[1] and accounts[0][0] == 409, accounts

    # a screen naming an account: another branch's account reads exactly like one that does not exist
    refusals = []
    for appid in (world.appid["town"], "wxnosuchaccount0000"):
        r = city_admin.post(
            f"{V}/screens", {"screen_id": "PROBE01", "unit_id": world.unit["city"], "name": "屏", "appid": appid}
        )
        refusals.append((r.status_code, r.data))
        patched = city_admin.patch(f"{V}/screens/{mine}", {"appid": appid})
        refusals.append((patched.status_code, patched.data))
    assert refusals[0] == refusals[2] and refusals[1] == refusals[3], refusals
    assert refusals[0][0] == 400 and refusals[0][1]["error"]["field"] == "appid"
