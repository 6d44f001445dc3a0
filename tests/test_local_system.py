"""`make dev` end to end: the whole system in a subprocess, driven by the user simulator.

This is issue 2's definition of done: with the local system running, the
simulator follows an account, scans a screen's QR code, and the screen's fan
count goes up by exactly one however often WeChat retries; Ctrl-C stops it
cleanly and it starts again without errors.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(tmp_path: Path, history_days: int = 0) -> tuple[subprocess.Popen, dict, Path]:
    ports = {name: _free_port() for name in ("MOTO", "WECHAT", "API", "CDN")}
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({f"KEPU_{name}_PORT": str(port) for name, port in ports.items()})
    # No analytics history unless asked: it subscribes demo fans in the background for minutes, which would move
    # the counts this test checks; tests/analytics/test_demo_history.py covers the history.
    env.update(STAGE="dev", PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", KEPU_DEMO_HISTORY_DAYS=str(history_days))
    for name in ("WECHAT_API_BASE", "WECHAT_OAUTH_BASE", "PUBLIC_BASE_URL", "CDN_BASE_URL"):
        env.pop(name, None)
    log = tmp_path / "dev.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack.dev"], cwd=tmp_path, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    deadline = time.time() + 90
    while time.time() < deadline:
        if "Ctrl-C stops everything" in log.read_text():
            state = json.loads((tmp_path / ".local" / "dev-state.json").read_text())
            return process, state, log
        if process.poll() is not None:
            pytest.fail(f"make dev exited early:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
    process.kill()
    pytest.fail(f"make dev did not come up in time:\n{log.read_text()[-3000:]}")


def _simulate(tmp_path: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "devstack.simulator", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _fan_count(state: dict, screen_id: str, api_key: str) -> int:
    response = requests.get(
        f"{state['api_base']}/api/v1/screens/{screen_id}", headers={"Authorization": f"Bearer {api_key}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()["fan_count"]


def test_make_dev_runs_the_whole_system_and_the_simulator_subscribes_exactly_once(tmp_path):
    process, state, log = _start(tmp_path)
    try:
        banner = log.read_text()
        assert "/wechat/{appid}" in banner and "player:" in banner and "token=" in banner
        screen_id = state["screens"][0]["screen_id"]
        root_key = state["root_api_key"]
        before = _fan_count(state, screen_id, root_key)
        out = _simulate(
            tmp_path, "--openid", "o-e2e", "--retries", "3", "follow", "--qr-url", state["screens"][0]["qr_url"]
        )
        assert "订阅" in out and out.count("same reply as the first") == 3
        assert _fan_count(state, screen_id, root_key) == before + 1
        second = state["screens"][1]["screen_id"]
        before_second = _fan_count(state, second, root_key)
        out = _simulate(tmp_path, "--openid", "o-e2e", "--retries", "3", "scan", second)
        assert out.count("same reply as the first") == 3
        assert _fan_count(state, second, root_key) == before_second + 1
        assert _fan_count(state, screen_id, root_key) == before + 1
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    assert process.returncode == 0, log.read_text()[-2000:]
    assert "Stopped." in log.read_text()
    # and it starts again without errors
    process, _state, log = _start(tmp_path)
    process.send_signal(signal.SIGINT)
    process.wait(timeout=30)
    assert process.returncode == 0, log.read_text()[-2000:]
