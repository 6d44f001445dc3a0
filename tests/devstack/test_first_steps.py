"""First steps on the local system (issue 11 items 19-23): the first admin key, accounts the
WeChat stand-in knows, the banner, busy ports, the documented statistics example."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from chalice.test import Client

from tests.support import emulator_env

REPO = Path(__file__).resolve().parents[2]
V = "/api/v1"


def _clean_env(**extra: str) -> dict[str, str]:
    """A shell's environment with no AWS settings at all (the developer's own terminal)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in ("STAGE",)}
    env.update(
        PYTHONPATH=str(REPO),
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
        AWS_CONFIG_FILE="/nonexistent",
        AWS_EC2_METADATA_DISABLED="true",
        **extra,
    )
    return env


def _run(args: list[str], cwd: Path, timeout: float = 60, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=_clean_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- 19: the first key


def test_create_root_admin_as_documented_finds_make_dev(aws, tmp_path):
    from chalicelib.settings import get_settings

    state = tmp_path / ".local" / "dev-state.json"
    state.parent.mkdir()
    state.write_text(json.dumps({"aws_endpoint": emulator_env()["AWS_ENDPOINT_URL"], "stage": get_settings().stage}))
    done = _run(["-m", "tools.create_root_admin", "--unit-name", "江苏省科协", "--user-name", "运维"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    key = done.stdout.split("API key (shown once, keep it safe): ")[1].strip()
    from app import app

    with Client(app) as client:
        me = client.http.get(f"{V}/me", headers={"Authorization": f"Bearer {key}"})
    assert me.status_code == 200 and json.loads(me.body)["grants"][0]["role"] == "admin"


def test_create_root_admin_refuses_clearly_without_make_dev_or_without_credentials(tmp_path):
    nothing = _run(["-m", "tools.create_root_admin", "--unit-name", "江苏省科协"], tmp_path)
    assert nothing.returncode == 2 and "make dev" in nothing.stderr and "Traceback" not in nothing.stderr
    stale = tmp_path / ".local" / "dev-state.json"
    stale.parent.mkdir()
    stale.write_text(json.dumps({"aws_endpoint": f"http://127.0.0.1:{_free_port()}", "stage": "dev"}))
    gone = _run(["-m", "tools.create_root_admin", "--unit-name", "江苏省科协"], tmp_path)
    assert gone.returncode == 2 and "does not answer" in gone.stderr and "Traceback" not in gone.stderr
    aws = _run(["-m", "tools.create_root_admin", "--unit-name", "江苏省科协", "--stage", "prod"], tmp_path)
    assert aws.returncode == 2 and "credentials" in aws.stderr and "Traceback" not in aws.stderr


# ---------------------------------------------------------------- 20: every account is known to the stand-in


def test_accounts_created_through_the_api_are_known_to_the_standin(aws, standin_server):
    from app import app
    from chalicelib.models import Screen
    from chalicelib.services.access.users import bootstrap_root_admin
    from devstack.dev import system_account_directory

    standin_server.reset()
    unit, _user, key = bootstrap_root_admin("新省科协", "运维")
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    standin_server.use_directory(system_account_directory)
    try:
        with Client(app) as client:
            made = client.http.post(
                f"{V}/accounts",
                headers=headers,
                body=json.dumps(
                    {
                        "appid": "wx5e1fa11c0de00001",
                        "unit_id": unit.unit_id,
                        "name": "新科普",
                        "account_type": "service",
                        "original_id": "gh_5e1fa11c0de1",
                        "app_secret": "0123456789abcdef0123456789abcdef",
                        "token": "newToken2026",
                    }
                ),
            )
            assert made.status_code == 201, made.body
            menu = client.http.post(f"{V}/accounts/wx5e1fa11c0de00001/menu", headers=headers)
            assert menu.status_code == 200, menu.body
            screen = client.http.post(
                f"{V}/screens",
                headers=headers,
                body=json.dumps(
                    {"screen_id": "XN001", "unit_id": unit.unit_id, "name": "新馆大厅", "appid": "wx5e1fa11c0de00001"}
                ),
            )
            assert screen.status_code == 201, screen.body
    finally:
        standin_server.use_directory(None)
    assert standin_server.menu("wx5e1fa11c0de00001")["button"][0]["name"] == "订阅大屏"
    qr = Screen.get("XN001").qr_url
    assert qr and standin_server.qrcode_scene(qr) == "XN001"


def test_unknown_appids_stay_unknown_with_a_directory(aws, standin_server):
    import requests

    from devstack.dev import system_account_directory

    standin_server.reset()
    standin_server.use_directory(system_account_directory)
    try:
        answer = requests.get(
            f"{standin_server.base_url}/cgi-bin/token",
            timeout=5,
            params={"grant_type": "client_credential", "appid": "wxnobody000000000", "secret": "x" * 32},
        ).json()
    finally:
        standin_server.use_directory(None)
    assert answer["errcode"] == 40013


# ---------------------------------------------------------------- 21: the banner


def test_banner_names_each_accounts_original_id(capsys):
    from devstack.dev import _print_banner

    info = {
        "accounts": [
            {
                "appid": "wxdemo",
                "original_id": "gh_demoservice1",
                "name": "南京科普",
                "type": "service",
                "mode": "plain",
                "token": "t",
                "aes_key": None,
            }
        ],
        "screens": [{"screen_id": "NJ001", "name": "大厅", "player_key": "k"}],
        "users": [{"role": "admin", "unit_name": "市科协", "api_key": "ks_x"}],
    }
    _print_banner(info, "http://api", "http://cdn", "http://wx", "http://aws")
    out = capsys.readouterr().out
    assert re.search(r"wxdemo\s+gh_demoservice1\s+南京科普", out)
    assert "tools.create_root_admin" in out
    assert "#key=k" in out and "&key=" not in out  # the key of the printed player URL never reaches the CDN


# ---------------------------------------------------------------- 22: a busy port


def test_make_dev_fails_fast_naming_the_busy_port_and_its_variable(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            "KEPU_MOTO_PORT": str(_free_port()),
            "KEPU_WECHAT_PORT": str(_free_port()),
            "KEPU_API_PORT": str(port),
            "KEPU_CDN_PORT": str(_free_port()),
        }
        try:
            done = _run(["-m", "devstack.dev"], tmp_path, timeout=30, **env)
        except subprocess.TimeoutExpired:
            pytest.fail("make dev hung on a busy port")
    assert done.returncode == 1
    assert f"port {port}" in done.stderr and "KEPU_API_PORT" in done.stderr and "Traceback" not in done.stderr


# ---------------------------------------------------------------- 23: the documented statistics example


def test_the_documented_statistics_example_covers_today(aws):
    from app import app
    from chalicelib.models import Screen
    from chalicelib.models.stats import china_day
    from chalicelib.services.access.users import bootstrap_root_admin

    doc = (REPO / "docs" / "admin-api.md").read_text()
    line = next(ln for ln in doc.splitlines() if ln.startswith("curl") and "/stats" in ln)
    command = line.split("curl", 1)[1].replace('"${H[@]}"', "").replace("-s ", "", 1).split("#")[0]
    url = (
        subprocess.run(["bash", "-c", f"API=/api/v1; echo {command}"], capture_output=True, text=True, check=True)
        .stdout.strip()
        .strip('"')
    )
    unit, _user, key = bootstrap_root_admin("统计省", "运维")
    Screen("GL001", unit_id=unit.unit_id, name="文化馆", appid="wxstats0000000001").save()
    with Client(app) as client:
        answer = client.http.get(url, headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200, (url, answer.body)
    body = json.loads(answer.body)
    today = china_day(datetime.now(UTC))
    day = f"{today[:4]}-{today[4:6]}-{today[6:]}" if "-" not in today else today
    assert body["from"] <= day <= body["to"], (url, body["from"], body["to"])


# ---------------------------------------------------------------- 19 + 20 on a real `make dev`


def test_under_make_dev_the_first_key_and_a_new_account_work_as_documented(tmp_path):
    import requests

    from tests.test_local_system import _start

    process, state, log = _start(tmp_path)
    try:
        assert re.search(r"\s+gh_demoservice1\s+", log.read_text())  # 21: the banner's original ids
        done = _run(["-m", "tools.create_root_admin", "--unit-name", "江苏省科协", "--user-name", "运维"], tmp_path)
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
        key = done.stdout.split("API key (shown once, keep it safe): ")[1].strip()
        api, headers = f"{state['api_base']}/api/v1", {"Authorization": f"Bearer {key}"}
        me = requests.get(f"{api}/me", headers=headers, timeout=10).json()
        root = me["grants"][0]["unit_id"]
        made = requests.post(
            f"{api}/accounts",
            headers=headers,
            timeout=10,
            json={
                "appid": "wx1234567890abcdef",
                "unit_id": root,
                "name": "鼓楼科普",
                "account_type": "service",
                "original_id": "gh_0123456789ab",
                "app_secret": "0123456789abcdef0123456789abcdef",
                "token": "gulouToken2026",
            },
        )
        assert made.status_code == 201, made.text
        menu = requests.post(f"{api}/accounts/wx1234567890abcdef/menu", headers=headers, timeout=10)
        assert menu.status_code == 200, menu.text  # 20: the stand-in knows the new account
        screen = requests.post(
            f"{api}/screens",
            headers=headers,
            timeout=10,
            json={"screen_id": "GL001", "unit_id": root, "name": "鼓楼区文化馆大厅", "appid": "wx1234567890abcdef"},
        )
        assert screen.status_code == 201, screen.text
        qr = requests.get(f"{api}/screens/GL001", headers=headers, timeout=10).json()["qr"]
        assert qr["ready"] and qr["url"] and not qr["error"], qr
    finally:
        process.terminate()
        process.wait(timeout=30)
