"""The mirror applies the player's own rules (issue 11 item 18): an item whose window has not opened,
or an urgent item past its hold, is never "正在播放", whatever the player last reported."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from chalicelib.models import Screen
from chalicelib.models.stats import CHINA_TZ
from tests.phone.conftest import manifest_item, write_manifest
from tests.support import PLAIN_APPID

NOW = datetime.now(UTC)


def _text(response) -> str:
    assert response.status_code == 200, response.body
    return response.body.decode()


def _hhmm(moment: datetime) -> str:
    return moment.astimezone(CHINA_TZ).strftime("%H:%M")


def _playing(body: str) -> str:
    card = re.search(r'class="card playing".*?</article>', body, re.S)
    return card.group(0) if card else ""


def test_an_item_whose_window_opens_later_today_is_not_playing(browser, demo):
    from chalicelib.services.screens import catalogue as screen_catalogue

    local = NOW.astimezone(CHINA_TZ)
    if local.hour >= 22:  # the window must open later *today* in China time
        local -= timedelta(hours=3)
    opens, closes = local + timedelta(hours=1), local + timedelta(hours=2)
    today = local.isoweekday()
    write_manifest(
        "NJ001",
        [
            manifest_item(
                "c_later",
                "一小时后才播放",
                published=NOW,
                weekly_windows=[{"days": [today], "start": _hhmm(opens), "end": _hhmm(closes)}],
            ),
            manifest_item("c_now", "现在播放", published=NOW - timedelta(hours=1)),
        ],
    )
    # the player (its clock behind or ahead) last reported the later item
    Screen.get("NJ001").update(actions=[Screen.last_seen.set(NOW), Screen.heartbeat.set({"playing": "c_later"})])
    screen_catalogue.clear()
    body = _text(browser.get(f"/m/{PLAIN_APPID}/screens/NJ001"))
    assert "现在播放" in _playing(body) and "一小时后才播放" not in body


def test_an_urgent_item_past_its_hold_is_not_playing(browser, demo):
    from chalicelib.services.screens import catalogue as screen_catalogue

    write_manifest(
        "NJ002",
        [
            manifest_item(
                "c_u",
                "昨天的停水通知",
                published=NOW - timedelta(hours=30),
                priority="urgent",
                urgent_until=(NOW - timedelta(hours=6)).isoformat(),
            ),
            manifest_item("c_a", "普通内容", published=NOW - timedelta(hours=3)),
        ],
    )
    screen_catalogue.clear()
    body = _text(browser.get(f"/m/{PLAIN_APPID}/screens/NJ002"))
    assert "普通内容" in _playing(body)
    assert "昨天的停水通知" not in body
