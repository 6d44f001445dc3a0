"""The staff console end to end: ``make dev`` in a subprocess, Debian's Chromium driving the built console.

The console must have been built (``make console``; ``make test`` does it first).
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from tests.test_local_system import _start

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "console"
LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    if not (ROOT / "console" / "dist" / "index.html").is_file():
        pytest.fail("the console is not built: run `make console` first")
    tmp = tmp_path_factory.mktemp("console-dev")
    process, state, log = _start(tmp)
    state["cdn_base"] = state["api_base"].rsplit(":", 1)[0] + ":" + _cdn_port(log.read_text())
    state["tmp"] = tmp
    yield state
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def _cdn_port(banner: str) -> str:
    for line in banner.splitlines():
        if line.strip().startswith("Console") and "/console/" in line:
            return line.split("/console/")[0].rsplit(":", 1)[1]
    raise AssertionError(f"no console URL in the banner:\n{banner[-2000:]}")


@pytest.fixture(scope="module")
def browser(playwright_driver):
    from devstack.browser import launch

    b = launch(playwright_driver)
    yield b
    b.close()


@pytest.fixture
def shots():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def login(browser, system, username: str, viewport=LAPTOP):
    """A fresh browser context signed in through the login page."""
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{system['cdn_base']}/console/")
    page.wait_for_selector("input[name=username]")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password_of(system, username))
    page.click("button[type=submit]")
    page.wait_for_selector("[data-test=who]", state="attached")
    return context, page


def password_of(system, username: str) -> str:
    return next(u["password"] for u in system["logins"] if u["username"] == username)


def wait_for_charts(page, timeout: int = 15000) -> int:
    """Wait until every ECharts chart on the page has finished drawing (``data-chart-ready``); how many there are.

    A fixed pause caught the analytics fans line half drawn in a screenshot (the line stopped ten days short
    and the bars were still growing): ECharts animates for about a second after the data arrives.
    """
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-chart]')].every(c => c.hasAttribute('data-chart-ready'))",
        timeout=timeout,
    )
    return page.locator("[data-chart]").count()
