"""Concurrent deliveries over real HTTP: WeChat's retries racing the original, fans racing each other."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from app import app
from chalicelib.models import CallbackRecord, Screen
from devstack.local_api import base_url, start_api


@pytest.fixture
def api(demo):
    server = start_api(app, port=0)
    yield base_url(server)
    server.shutdown()


def _post(api: str, appid: str, request) -> requests.Response:
    return requests.post(
        f"{api}/wechat/{appid}?{request.query_string}",
        data=request.body,
        headers={"Content-Type": "text/xml"},
        timeout=30,
    )


def test_retries_racing_the_original_are_processed_once(api, demo):
    sender = demo.safe
    deliveries = []
    for i in range(8):
        request = sender.follow(f"o-race-{i}", scene="SQ001")
        deliveries += [request] * 4  # the original and WeChat's three retries, all at once
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda r: _post(api, sender.appid, r), deliveries))
    assert all(r.status_code == 200 for r in responses)
    assert Screen.get("SQ001").fan_count == 8
    replies_per_user: dict[str, set[str]] = {}
    for request, response in zip(deliveries, responses, strict=True):
        replies_per_user.setdefault(request.query["openid"], set()).add(sender.open_reply(response.text))
    assert all(len(replies) == 1 for replies in replies_per_user.values())  # every retry got the first answer
    assert len([r for r in CallbackRecord.scan() if r.key.startswith(sender.appid)]) == 8


def test_many_fans_subscribing_at_once_keep_the_count_exact(api, demo):
    sender = demo.plain
    requests_ = [sender.text(f"o-crowd-{i}", "订阅 NJ002") for i in range(24)]
    requests_ += [sender.text(f"o-crowd-{i}", "退订 NJ002") for i in range(0, 24, 3)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = [r.status_code for r in pool.map(lambda r: _post(api, sender.appid, r), requests_[:24])]
        statuses += [r.status_code for r in pool.map(lambda r: _post(api, sender.appid, r), requests_[24:])]
    assert set(statuses) == {200}
    assert Screen.get("NJ002").fan_count == 24 - 8
