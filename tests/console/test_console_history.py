"""Comparisons on the demo history, in the console (issue 14): ``make dev`` with a short history seeded.

A module of its own because it needs a system whose background history has finished (the other console
tests need one whose fan counts stay still).
"""

from __future__ import annotations

import signal
import subprocess
import time

import pytest
import requests

from tests.console.conftest import ROOT, _cdn_port, login, wait_for_charts
from tests.test_local_system import _start

HISTORY_DAYS = 7


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    if not (ROOT / "console" / "dist" / "index.html").is_file():
        pytest.fail("the console is not built: run `make console` first")
    tmp = tmp_path_factory.mktemp("console-history")
    process, state, log = _start(tmp, history_days=HISTORY_DAYS)
    state["cdn_base"] = state["api_base"].rsplit(":", 1)[0] + ":" + _cdn_port(log.read_text())
    deadline = time.time() + 600
    while "Demo history:" not in log.read_text():
        if time.time() > deadline or process.poll() is not None:
            process.kill()
            pytest.fail(f"the demo history was not seeded:\n{log.read_text()[-3000:]}")
        time.sleep(2)
    assert "could not be seeded" not in log.read_text(), log.read_text()[-3000:]
    yield state
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def _compare(state: dict, ids: list[str]) -> dict:
    """The compare API as the root key sees it, once the stream consumers have rolled the history up."""
    headers = {"Authorization": f"Bearer {state['root_api_key']}"}
    deadline = time.time() + 300
    while True:
        r = requests.get(
            f"{state['api_base']}/api/v1/analytics/compare",
            params={"kind": "subtree", "ids": ",".join(ids)},
            headers=headers,
            timeout=30,
        )
        assert r.status_code == 200, r.text
        if all((item["values"].get("fans") or 0) > 0 for item in r.json()["items"]) or time.time() > deadline:
            return r.json()
        time.sleep(3)


def test_units_compared_side_by_side_on_the_demo_history(browser, system, shots):
    units = {u["username"]: u["unit_id"] for u in system["logins"]}
    city, community = units["city-admin"], units["community-editor"]
    expected = _compare(system, [city, community])
    names = [item["name"] for item in expected["items"]]
    assert all((item["values"].get("fans") or 0) > 0 for item in expected["items"]), expected

    context, page = login(browser, system, "admin")
    page.goto(f"{system['cdn_base']}/console/#/analytics")
    card = page.locator("[data-test=compare]")
    card.wait_for(timeout=30000)
    for name in names:  # typed into the unit picker, as staff find a unit among many
        card.locator(".el-select__wrapper").click()
        card.locator("input.el-select__input").fill(name)
        page.locator(".el-tree-node__content:visible", has_text=name).first.click()
    card.locator(".el-card__body").click(position={"x": 5, "y": 5})  # closes the picker
    table = card.locator(".el-table")
    table.wait_for(timeout=30000)
    for name in names:
        card.locator(".el-table__header", has_text=name).wait_for(timeout=30000)
    fans_row = card.locator(".el-table__body tr", has_text="粉丝").first.inner_text().split()
    assert fans_row[0] == "粉丝"
    shown = [int(v.replace(",", "")) for v in fans_row[1:3]]
    assert shown == [int(item["values"]["fans"]) for item in expected["items"]], (fans_row, expected)
    card.scroll_into_view_if_needed()
    wait_for_charts(page)
    page.screenshot(path=str(shots / "analytics-compare-1366.png"))
    context.close()
