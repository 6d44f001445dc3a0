"""The console's home page and screens table in Chromium against ``make dev`` (issue 14: pages 1 and 2).

The home page makes one call (``GET /units/{id}/summary``); its alerts name
only accounts that really cannot push (the demo's 幸福社区 is a subscription
account: customer-service messages, no template needed).  The screens table
shows what a reporting screen plays now and its plays today.  Screenshots at
1366×768, 1920×1080 and 390 px go to artifacts/console/.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime

import requests

from tests.console.conftest import LAPTOP, login, password_of

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1920, "height": 1080}


def _wait_text(page, selector: str, text: str, timeout: float = 20.0) -> None:
    page.wait_for_function(
        "([s, t]) => [...document.querySelectorAll(s)].some(e => e.innerText.includes(t))",
        arg=[selector, text],
        timeout=timeout * 1000,
    )


def _report_from_nj001(system) -> str:
    """NJ001 reports as its player would: a heartbeat naming what it plays, and two plays of it."""
    base = system["cdn_base"]
    r = requests.post(
        f"{base}/api/v1/auth/login", json={"username": "admin", "password": password_of(system, "admin")}, timeout=10
    )
    assert r.status_code == 200, r.text
    cookie = r.headers["Set-Cookie"].split(";", 1)[0]  # Secure: requests keeps it from http://, a header does not
    items = requests.get(
        f"{base}/api/v1/content?status=published&limit=50", headers={"Cookie": cookie}, timeout=10
    ).json()["items"]
    item = next(i for i in items if "NJ001" in i["screen_ids"])
    key = next(s["player_key"] for s in system["screens"] if s["screen_id"] == "NJ001")
    api = system["api_base"]
    beat = requests.post(
        f"{api}/screens/NJ001/heartbeat",
        data=json.dumps({"player_key": key, "playing": item["content_id"]}),
        headers={"Content-Type": "text/plain"},
        timeout=10,
    )
    assert beat.status_code == 200, beat.text
    plays = [
        {
            "play_id": uuid.uuid4().hex,
            "content_id": item["content_id"],
            "started_at": datetime.now(UTC).isoformat(),
            "seconds": 12,
        }
        for _ in range(2)
    ]
    played = requests.post(
        f"{api}/screens/NJ001/plays",
        data=json.dumps({"player_key": key, "plays": plays}),
        headers={"Content-Type": "text/plain"},
        timeout=10,
    )
    assert played.status_code == 200, played.text
    return item["title"]


def test_home_shows_the_summary_and_no_subscription_account_lacks_a_channel(browser, system, shots):
    _report_from_nj001(system)
    time.sleep(3)  # the local stream pump carries NJ001's presence into the home feed (polls every second)
    context, page = login(browser, system, "admin")
    calls: list[str] = []
    page.on("request", lambda r: calls.append(r.url) if "/api/v1/" in r.url else None)
    page.goto(f"{system['cdn_base']}/console/#/")
    page.reload()
    _wait_text(page, "[data-test=online]", "/")
    page.wait_for_timeout(1000)
    assert [u for u in calls if "/summary" in u], calls
    assert not [u for u in calls if "/api/v1/screens" in u or "/api/v1/content" in u], calls  # one summary call
    assert page.inner_text("[data-test=online]").startswith("1")  # NJ001 just reported
    alerts = page.inner_text(".alerts")
    assert "幸福社区" not in alerts, alerts  # a subscription account: customer-service messages, no template
    page.screenshot(path=str(shots / "home-1366.png"))
    page.set_viewport_size(WIDE)
    page.wait_for_timeout(800)
    page.screenshot(path=str(shots / "home-1920.png"))
    context.close()
    context, page = login(browser, system, "admin", viewport=PHONE)
    _wait_text(page, "[data-test=online]", "/")
    page.wait_for_timeout(1000)
    page.screenshot(path=str(shots / "home-390.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    context.close()


def test_the_screens_table_shows_now_playing_and_plays_today(browser, system, shots):
    title = _report_from_nj001(system)
    context, page = login(browser, system, "admin")
    page.goto(f"{system['cdn_base']}/console/#/screens")
    _wait_text(page, "[data-test=now-playing]", title)
    row = page.locator("[data-test=screens-table] tr", has_text="NJ001")
    assert int(row.locator("[data-test=plays-today]").inner_text()) >= 2
    assert row.locator("[data-test=screen-status]").inner_text() == "在线"
    page.wait_for_timeout(500)
    page.screenshot(path=str(shots / "screens-1366.png"))
    page.set_viewport_size(WIDE)
    page.wait_for_timeout(800)
    page.screenshot(path=str(shots / "screens-1920.png"))
    # the status filter goes to the API: 未上线 leaves NJ001 out
    page.set_viewport_size(LAPTOP)
    page.click("[data-test=status-filter]")
    page.locator(".el-select-dropdown__item:visible", has_text="未上线").click()
    page.wait_for_timeout(1500)
    assert "NJ001" not in page.inner_text("[data-test=screens-table]")
    context.close()
