"""The screen API: player-key auth, heartbeats and online status, proof of play counted exactly once."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
import requests
from chalice.test import Client

from app import app
from chalicelib.models.base import utcnow
from chalicelib.models.screens import Screen
from chalicelib.models.stats import DailyStat, china_day
from chalicelib.services.screens import reports as screen_reports
from devstack.screens_local import publish


@pytest.fixture
def client():
    with Client(app) as c:
        yield c


def _post(client, path, body, key=None, header="Authorization", raw=None):
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers[header] = f"Bearer {key}" if header == "Authorization" else key
    return client.http.post(path, headers=headers, body=raw if raw is not None else json.dumps(body))


def _plays(*content_ids, started=None, ids=None):
    started = started or utcnow()
    return {
        "plays": [
            {
                "play_id": (ids[n] if ids else uuid.uuid4().hex),
                "content_id": cid,
                "started_at": started.isoformat(),
                "seconds": 15,
            }
            for n, cid in enumerate(content_ids)
        ]
    }


def test_wrong_or_missing_key_is_401(client, player_key):
    assert _post(client, "/screens/NJ001/heartbeat", {}).status_code == 401
    assert _post(client, "/screens/NJ001/heartbeat", {}, key="nope").status_code == 401
    assert _post(client, "/screens/NJ002/heartbeat", {}, key=player_key).status_code == 401  # another screen's key
    assert _post(client, "/screens/NOPE1/plays", _plays("c1"), key=player_key).status_code == 401
    assert Screen.get("NJ001").last_seen is None


def test_heartbeat_stores_report_and_status(client, player_key):
    screen = Screen.get("NJ001")
    assert screen_reports.screen_status(screen) == "never"
    beat = {
        "manifest_version": "v1",
        "playing": "c1",
        "uptime_seconds": 120,
        "player_version": "abc",
        "screen_width": 1920,
        "screen_height": 1080,
    }
    response = _post(client, "/screens/NJ001/heartbeat", beat, key=player_key, header="X-Player-Key")
    assert response.status_code == 200, response.body
    screen = Screen.get("NJ001")
    assert screen.heartbeat.as_dict()["playing"] == "c1" and screen.heartbeat.as_dict()["screen_width"] == 1920
    assert screen_reports.screen_status(screen) == "online"
    assert screen_reports.screen_status(screen, now=utcnow() + timedelta(seconds=61)) == "offline"


def test_bodies_are_validated_and_capped(client, player_key):
    assert _post(client, "/screens/NJ001/heartbeat", {"surprise": 1}, key=player_key).status_code == 400
    assert _post(client, "/screens/NJ001/heartbeat", None, key=player_key, raw="{not json").status_code == 400
    assert _post(client, "/screens/NJ001/plays", {"plays": []}, key=player_key).status_code == 400
    big = _plays(*["c1"] * 101)
    assert _post(client, "/screens/NJ001/plays", big, key=player_key).status_code in (400, 413)
    padded = {"manifest_version": "x" * 80, "player_version": "y" * 5000}
    assert _post(client, "/screens/NJ001/heartbeat", padded, key=player_key).status_code == 413


def test_plays_counted_once_per_content_and_screen_per_day(client, player_key, pump):
    publish("c1", ["NJ001"], title="一")
    publish("c2", ["NJ001"], title="二")
    publish("c_other", ["NJ002"], title="别处")
    pump.drain()
    ids = [uuid.uuid4().hex for _ in range(4)]
    batch = _plays("c1", "c1", "c2", "c_other", ids=ids)
    first = _post(client, "/screens/NJ001/plays", batch, key=player_key)
    assert first.status_code == 200
    assert first.json_body == {"received": 4, "counted": 3, "duplicates": 0, "rejected": 1}
    again = _post(client, "/screens/NJ001/plays", batch, key=player_key)  # the player retried the same batch
    assert again.json_body == {"received": 4, "counted": 0, "duplicates": 3, "rejected": 1}
    mixed = _plays("c2", "c1", ids=[ids[0], uuid.uuid4().hex])  # one old id, one new
    assert _post(client, "/screens/NJ001/plays", mixed, key=player_key).json_body["counted"] == 1
    day = china_day()
    assert DailyStat.get("content#c1", day).counter("plays") == 3
    assert DailyStat.get("content#c1", day).counter("play_seconds") == 45
    assert DailyStat.get("content#c2", day).counter("plays") == 1
    assert DailyStat.get("screen#NJ001", day).counter("plays") == 4
    assert DailyStat.count("content#c_other") == 0


def test_plays_from_another_day_and_out_of_range(client, player_key, pump):
    publish("c1", ["NJ001"], title="一")
    pump.drain()
    yesterday = utcnow() - timedelta(days=1)
    ancient, future = utcnow() - timedelta(days=60), utcnow() + timedelta(hours=2)
    body = {
        "plays": _plays("c1", started=yesterday)["plays"]
        + _plays("c1", started=ancient)["plays"]
        + _plays("c1", started=future)["plays"]
    }
    assert _post(client, "/screens/NJ001/plays", body, key=player_key).json_body["rejected"] == 2
    assert DailyStat.get("content#c1", china_day(yesterday)).counter("plays") == 1


def test_rate_limited_per_screen(client, player_key, monkeypatch):
    monkeypatch.setattr(screen_reports, "RATE_LIMIT_PER_MINUTE", 3)
    codes = [_post(client, "/screens/NJ001/heartbeat", {}, key=player_key).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]


def test_cors_preflight_allows_the_player_origin(aws):
    from devstack.local_api import base_url, start_api

    server = start_api(app, port=0)
    try:
        response = requests.options(
            f"{base_url(server)}/screens/NJ001/plays",
            timeout=5,
            headers={"Origin": "http://127.0.0.1:8001", "Access-Control-Request-Method": "POST"},
        )
    finally:
        server.server.shutdown()
    assert response.headers.get("Access-Control-Allow-Origin") == "*"
    assert "Authorization" in response.headers.get("Access-Control-Allow-Headers", "")


def test_key_in_a_text_plain_body_needs_no_preflight_and_stays_out_of_the_report(client, player_key, caplog):
    """The player's reports are CORS simple requests: text/plain JSON carrying the key (issue 11 item 14)."""
    beat = {"player_key": player_key, "manifest_version": "v1", "playing": "c1", "player_version": "abc"}
    response = client.http.post(
        "/screens/NJ001/heartbeat", headers={"Content-Type": "text/plain;charset=UTF-8"}, body=json.dumps(beat)
    )
    assert response.status_code == 200, response.body
    stored = Screen.get("NJ001").heartbeat.as_dict()
    assert stored["playing"] == "c1" and player_key not in json.dumps(stored, default=str)
    assert player_key not in caplog.text
    plays = dict(_plays("c1"), player_key=player_key)
    ok = client.http.post("/screens/NJ001/plays", headers={"Content-Type": "text/plain"}, body=json.dumps(plays))
    assert ok.status_code == 200, ok.body
    wrong = client.http.post(
        "/screens/NJ001/heartbeat",
        headers={"Content-Type": "text/plain"},
        body=json.dumps(dict(beat, player_key="nope")),
    )
    assert wrong.status_code == 401
    missing = client.http.post(
        "/screens/NJ001/heartbeat", headers={"Content-Type": "text/plain"}, body=json.dumps({"manifest_version": "v1"})
    )
    assert missing.status_code == 401
    garbage = client.http.post("/screens/NJ001/heartbeat", headers={"Content-Type": "text/plain"}, body="key=1")
    assert garbage.status_code == 401


def test_a_key_issued_before_the_prefix_still_works(client, demo):
    """Keys minted by the old local enrolment were a bare ``token_urlsafe(24)``: their hash stays valid."""
    import hashlib
    import secrets

    legacy = secrets.token_urlsafe(24)
    Screen("NJ001").update(actions=[Screen.player_key_hash.set(hashlib.sha256(legacy.encode()).hexdigest())])
    assert _post(client, "/screens/NJ001/heartbeat", {}, key=legacy).status_code == 200
    assert _post(client, "/screens/NJ001/heartbeat", {}, key="psk_" + legacy).status_code == 401
