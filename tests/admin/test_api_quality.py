"""Idempotency keys, ETag / If-Match, cursor pagination, the OpenAPI document, keys and moves."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta

import requests

from app import app
from chalicelib.models import ApiKey, AuditEntry, Content, DailyStat, Unit
from chalicelib.models.stats import china_day
from chalicelib.services.content import workflow as content_service

V = "/api/v1"


def unit_body(world, name="新单位", parent="city"):
    return {"parent_id": world.unit[parent], "name": name, "kind": "community"}


# ---- idempotency ------------------------------------------------------------------------------------------------


def test_retried_create_creates_one_object(api, world):
    key = {"Idempotency-Key": "create-unit-7"}
    first = api.post(f"{V}/units", unit_body(world), headers=key)
    second = api.post(f"{V}/units", unit_body(world), headers=key)
    assert first.status_code == second.status_code == 201
    assert first.data == second.data and second.headers["Idempotency-Replayed"] == "true"
    children = api.get(f"{V}/units?parent_id={world.unit['city']}").data["items"]
    assert [u["name"] for u in children].count("新单位") == 1
    reused = api.post(f"{V}/units", unit_body(world, "别的单位"), headers=key)
    assert reused.status_code == 422 and reused.data["error"]["code"] == "idempotency_key_reused"
    other_user = api.as_(world.keys["admin"]).post(f"{V}/units", unit_body(world), headers=key)
    assert other_user.status_code == 201 and other_user.data["unit_id"] != first.data["unit_id"]  # keys are per caller


def test_failed_create_releases_the_key(api, world):
    key = {"Idempotency-Key": "screen-1"}
    bad = {"screen_id": "NJ900", "unit_id": world.unit["city"], "name": "屏", "appid": world.appid["town"]}
    assert api.post(f"{V}/screens", bad, headers=key).status_code == 400
    good = dict(bad, appid=world.appid["city"])
    # same key, different body: the failed attempt left nothing behind
    created = api.post(f"{V}/screens", good, headers=key)
    assert created.status_code == 201 and created.data["player_key"]
    replay = api.post(f"{V}/screens", good, headers=key)
    assert replay.status_code == 201 and replay.data["player_key"] is None  # a shown-once key is never stored
    assert replay.data["screen"]["screen_id"] == "NJ900"


def test_retried_key_issue_does_not_store_the_key(api, world):
    key = {"Idempotency-Key": "k1"}
    first = api.post(f"{V}/users/{world.user['viewer']}/keys", {"label": "ci"}, headers=key)
    again = api.post(f"{V}/users/{world.user['viewer']}/keys", {"label": "ci"}, headers=key)
    assert first.data["api_key"] and again.data["api_key"] is None
    assert first.data["key"]["key_id"] == again.data["key"]["key_id"]
    assert len(api.get(f"{V}/users/{world.user['viewer']}/keys").data["items"]) == 2  # the world's one + this one


def test_idempotency_key_is_bounded(api, world):
    r = api.post(f"{V}/units", unit_body(world), headers={"Idempotency-Key": "x" * 200})
    assert r.status_code == 400 and r.data["error"]["field"] == "Idempotency-Key"


# ---- optimistic locking -----------------------------------------------------------------------------------------


def test_etag_and_if_match(api, world):
    read = api.get(f"{V}/units/{world.unit['city']}")
    etag = read.headers["ETag"]
    assert etag == f'"{read.data["revision"]}"'
    ok = api.patch(f"{V}/units/{world.unit['city']}", {"district": "玄武区"}, headers={"If-Match": etag})
    assert ok.status_code == 200 and ok.headers["ETag"] != etag
    stale = api.patch(f"{V}/units/{world.unit['city']}", {"district": "鼓楼区"}, headers={"If-Match": etag})
    assert stale.status_code == 412 and stale.data["error"]["field"] == "If-Match"
    garbage = api.patch(f"{V}/units/{world.unit['city']}", {"district": "x"}, headers={"If-Match": "yesterday"})
    assert garbage.status_code == 400
    item = api.post(
        f"{V}/content",
        {
            "unit_id": world.unit["city"],
            "kind": "notice",
            "title": "通知",
            "body": "x",
            "targets": {"units": [world.unit["city"]]},
        },
    ).data
    stale_publish = api.post(f"{V}/content/{item['content_id']}/publish", headers={"If-Match": '"99"'})
    assert stale_publish.status_code == 412


def test_concurrent_edit_is_a_409(api, world, monkeypatch):
    """Two editors read revision 1; the second write loses the race and gets 409, not a silent overwrite."""
    item = api.post(
        f"{V}/content",
        {
            "unit_id": world.unit["city"],
            "kind": "notice",
            "title": "通知",
            "body": "x",
            "targets": {"units": [world.unit["city"]]},
        },
    ).data
    real_get = Content.get

    def get_then_someone_else_writes(*args, **kwargs):
        found = real_get(*args, **kwargs)
        Content(item["content_id"]).update(actions=[Content.revision.add(1)])
        return found

    monkeypatch.setattr(Content, "get", get_then_someone_else_writes)
    r = api.patch(f"{V}/content/{item['content_id']}", {"title": "改"})
    assert r.status_code == 409 and r.data["error"]["code"] == "edit_conflict"
    monkeypatch.setattr(Content, "get", real_get)
    assert content_service.Content.get(item["content_id"]).title == "通知"


# ---- pagination -------------------------------------------------------------------------------------------------


def test_cursor_pagination_walks_every_item_once(api, world):
    for n in range(7):
        api.post(
            f"{V}/screens",
            {
                "screen_id": f"PG{n:03d}",
                "unit_id": world.unit["district" if n % 2 else "city"],
                "name": f"屏{n}",
                "appid": world.appid["city"],
            },
        )
    seen, cursor, pages = [], None, 0
    while True:
        r = api.get(f"{V}/screens?limit=2&unit_id={world.unit['city']}" + (f"&cursor={cursor}" if cursor else ""))
        assert r.status_code == 200 and len(r.data["items"]) <= 2
        seen += [s["screen_id"] for s in r.data["items"]]
        pages += 1
        cursor = r.data["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted([f"PG{n:03d}" for n in range(7)] + ["CI000", "DI001"])
    assert len(seen) == len(set(seen)) and pages >= 5
    forged = api.get(f"{V}/screens?cursor=eyJzIjoidG93biJ9.forged")
    assert forged.status_code == 400 and forged.data["error"]["field"] == "cursor"
    units = api.get(f"{V}/units?limit=2")
    assert len(units.data["items"]) == 2 and units.data["next_cursor"]
    rest = api.get(f"{V}/units?limit=50&cursor={units.data['next_cursor']}")
    assert len(units.data["items"]) + len(rest.data["items"]) == 4 and rest.data["next_cursor"] is None


# ---- OpenAPI ----------------------------------------------------------------------------------------------------


def test_openapi_lists_exactly_the_served_routes(api):
    doc = api.as_(None).get(f"{V}/openapi.json")
    assert doc.status_code == 200 and doc.data["openapi"].startswith("3.")
    documented = {(m.upper(), p) for p, ops in doc.data["paths"].items() for m in ops}
    served = {(m, p) for p, methods in app.routes.items() if p.startswith(V) for m in methods}
    assert documented == served
    schemas = doc.data["components"]["schemas"]
    for path, ops in doc.data["paths"].items():
        for method, op in ops.items():
            for ref in _refs(op):
                assert ref.removeprefix("#/components/schemas/") in schemas, (method, path, ref)
    assert "app_secret" in schemas["AccountCreate"]["properties"]
    assert "app_secret" not in schemas["AccountOut"]["properties"]


def _refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                yield v
            else:
                yield from _refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _refs(v)


# ---- keys and users ---------------------------------------------------------------------------------------------


def test_keys_revoke_and_expire(api, world):
    viewer = api.as_(world.keys["viewer"])
    assert viewer.get(f"{V}/me").data["grants"] == [{"unit_id": world.unit["city"], "role": "viewer"}]
    key_id = world.keys["viewer"].split("_")[1]
    assert api.delete(f"{V}/users/{world.user['viewer']}/keys/{key_id}").data["revoked_at"]
    assert viewer.get(f"{V}/me").status_code == 401
    fresh = api.post(f"{V}/users/{world.user['viewer']}/keys", {"expires_in_days": 1}).data
    new = api.as_(fresh["api_key"])
    assert new.get(f"{V}/me").status_code == 200
    ApiKey(fresh["key"]["key_id"]).update(actions=[ApiKey.expires_at.set(datetime.now(UTC) - timedelta(seconds=1))])
    assert new.get(f"{V}/me").status_code == 401
    stored = ApiKey.get(fresh["key"]["key_id"])
    assert stored.key_hash == hashlib.sha256(fresh["api_key"].encode()).hexdigest()
    disabled = api.post(f"{V}/users/{world.user['editor']}/keys", {}).data["api_key"]
    api.patch(f"{V}/users/{world.user['editor']}", {"disabled": True})
    assert api.as_(disabled).get(f"{V}/me").status_code == 401


def test_admin_cannot_grant_above_his_scope(api, world):
    admin = api.as_(world.keys["admin"])
    r = admin.put(f"{V}/users/{world.user['viewer']}/grants/{world.unit['prov']}", {"role": "admin"})
    assert r.status_code == 404  # prov is above his grant: outside his scope
    ok = admin.put(f"{V}/users/{world.user['viewer']}/grants/{world.unit['district']}", {"role": "editor"})
    assert {"unit_id": world.unit["district"], "role": "editor"} in ok.data["grants"]


# ---- units ------------------------------------------------------------------------------------------------------


def test_moving_a_unit_moves_its_subtree(api, world):
    leaf = api.post(f"{V}/units", unit_body(world, "街道", "district")).data
    moved = api.patch(f"{V}/units/{world.unit['district']}", {"parent_id": world.unit["town"]})
    assert moved.status_code == 200, moved.data
    town = Unit.get(world.unit["town"])
    assert moved.data["path"] == f"{town.path}{world.unit['district']}/"
    assert Unit.get(leaf["unit_id"]).path == f"{moved.data['path']}{leaf['unit_id']}/"
    # the city's editor no longer reaches the district nor its screen
    editor = api.as_(world.keys["editor"])
    assert editor.get(f"{V}/units/{world.unit['district']}").status_code == 404
    assert editor.get(f"{V}/screens/{world.screen['district']}").status_code == 404
    below_itself = api.patch(f"{V}/units/{world.unit['town']}", {"parent_id": leaf["unit_id"]})
    assert below_itself.status_code == 400 and below_itself.data["error"]["field"] == "parent_id"
    entries = list(AuditEntry.by_object.query(f"unit#{world.unit['district']}"))
    assert any(e.action == "unit.move" for e in entries)


def test_unit_with_children_or_screens_cannot_be_deleted(api, world):
    assert api.delete(f"{V}/units/{world.unit['city']}").data["error"]["code"] == "not_empty"
    assert api.delete(f"{V}/units/{world.unit['district']}").data["error"]["code"] == "not_empty"
    assert api.delete(f"{V}/units/{world.unit['prov']}").status_code == 403


# ---- audit ------------------------------------------------------------------------------------------------------


def test_audit_records_who_what_before_after(api, world):
    api.patch(f"{V}/screens/{world.screen['city']}", {"name": "新名字"})
    history = api.get(f"{V}/audit/screen/{world.screen['city']}").data["items"]
    latest = history[0]
    assert latest["action"] == "screen.update" and latest["actor"] == world.root.user_id
    assert latest["before"] == {"name": "city screen"} and latest["after"] == {"name": "新名字"}
    assert history[-1]["action"] == "screen.create"
    unit_log = api.as_(world.keys["viewer"]).get(f"{V}/units/{world.unit['city']}/audit?limit=3")
    assert len(unit_log.data["items"]) == 3 and unit_log.data["next_cursor"]
    assert api.as_(world.keys["viewer"]).get(f"{V}/audit/screen/{world.screen['town']}").status_code == 404
    assert api.get(f"{V}/audit/widget/x").status_code == 400


# ---- analytics --------------------------------------------------------------------------------------------------


def test_screen_stats_and_unit_ranking(api, world):
    today = china_day()
    DailyStat(f"screen#{world.screen['city']}", today, subs_qr=5, subs_menu=2, unsubs=1, plays=40, reads_push=3).save()
    DailyStat(f"screen#{world.screen['town']}", today, subs_qr=1, plays=90).save()
    stats = api.as_(world.keys["viewer"]).get(f"{V}/screens/{world.screen['city']}/stats?from={today}&to={today}")
    assert stats.status_code == 200, stats.data
    day = stats.data["days"][0]
    assert day["subscriptions"] == {"qr": 5, "menu": 2, "text": 0, "page": 0} and day["unsubscriptions"] == 1
    assert stats.data["totals"]["new_fans"] == 7 and stats.data["totals"]["plays"] == 40
    assert stats.data["from"] == today
    backwards = api.get(f"{V}/screens/{world.screen['city']}/stats?from=2026-02-01&to=2026-01-01")
    assert backwards.status_code == 400
    ranking = api.get(f"{V}/units/{world.unit['prov']}/ranking?metric=plays&from={today}&to={today}")
    assert [(i["name"], i["value"], i["rank"]) for i in ranking.data["items"]] == [("社区", 90, 1), ("市科协", 40, 2)]
    growth = api.get(f"{V}/units/{world.unit['prov']}/ranking?metric=growth").data["items"]
    assert growth[0]["name"] == "市科协" and growth[0]["value"] == 6
    assert api.get(f"{V}/units/{world.unit['prov']}/ranking?metric=money").status_code == 400
    assert api.as_(world.keys["viewer"]).get(f"{V}/units/{world.unit['prov']}/ranking").status_code == 404


# ---- media ------------------------------------------------------------------------------------------------------


def test_media_upload_by_presigned_post_and_verification(api, world):
    png = b"\x89PNG\r\n\x1a\n" + b"kepu" * 50
    sha = hashlib.sha256(png).hexdigest()
    ask = api.post(
        f"{V}/media/uploads", {"unit_id": world.unit["city"], "sha256": sha, "size": len(png), "type": "image/png"}
    )
    assert ask.status_code == 200 and ask.data["key"] == f"media/{sha}.png" and not ask.data["exists"]
    form = ask.data["upload"]
    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    assert {"Content-Type": "image/png"} in policy["conditions"]
    assert ["content-length-range", len(png), len(png)] in policy["conditions"]
    staging = form["fields"]["key"]  # the form writes a staging key, never the published one
    assert staging.startswith(f"uploads/staging/{sha}/") and {"key": staging} in policy["conditions"]
    item = {
        "unit_id": world.unit["city"],
        "kind": "image",
        "title": "图片",
        "targets": {"units": [world.unit["city"]]},
        "media": [{"sha256": sha, "size": len(png), "type": "image/png"}],
    }
    not_yet = api.post(f"{V}/content", item)
    assert not_yet.status_code == 400 and not_yet.data["error"]["field"] == "media.0"
    # S3 enforces the policy; the emulator does not, so the check after upload is what is exercised here
    wrong_type = requests.post(
        form["url"], data={**form["fields"], "Content-Type": "text/html"}, files={"file": ("x.png", png)}, timeout=10
    )
    assert wrong_type.status_code < 300
    refused = api.post(f"{V}/content", item)
    assert refused.status_code == 400 and refused.data["error"]["field"] == "media.0"
    uploaded = requests.post(form["url"], data=form["fields"], files={"file": ("x.png", png)}, timeout=10)
    assert uploaded.status_code in (200, 201, 204), uploaded.text
    created = api.post(f"{V}/content", item)
    assert created.status_code == 201, created.data
    assert created.data["media"] == [{"key": f"media/{sha}.png", "type": "image/png", "size": len(png), "sha256": sha}]
    again = api.post(
        f"{V}/media/uploads", {"unit_id": world.unit["city"], "sha256": sha, "size": len(png), "type": "image/png"}
    )
    assert again.data["exists"] and again.data["upload"] is None
    huge = api.post(
        f"{V}/media/uploads",
        {"unit_id": world.unit["city"], "sha256": sha, "size": 11 * 1024 * 1024, "type": "image/png"},
    )
    assert huge.status_code == 400
    html = api.post(
        f"{V}/media/uploads", {"unit_id": world.unit["city"], "sha256": sha, "size": 10, "type": "text/html"}
    )
    assert html.status_code == 400 and html.data["error"]["field"] == "type"


def test_forged_bytes_under_a_hash_are_refused_and_removed(api, world):
    from chalicelib.aws import client
    from chalicelib.settings import get_settings

    real = b"real image bytes"
    sha = hashlib.sha256(real).hexdigest()
    client("s3").put_object(
        Bucket=get_settings().player_bucket, Key=f"media/{sha}.png", Body=b"fake image bytes", ContentType="image/png"
    )
    r = api.post(
        f"{V}/content",
        {
            "unit_id": world.unit["city"],
            "kind": "image",
            "title": "图",
            "targets": {"units": [world.unit["city"]]},
            "media": [{"sha256": sha, "size": len(real), "type": "image/png"}],
        },
    )
    assert r.status_code == 400 and "sha256" in r.data["error"]["message"]
