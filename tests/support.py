"""Helpers shared by the tests: provisioning and a minimal, known data set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities import parameters

from chalicelib import aws as aws_clients
from chalicelib.dal import accounts as account_repo
from chalicelib.models import ALL_MODELS, Account, Screen, Unit
from chalicelib.resources import queue_specs
from chalicelib.secrets import store_account_secrets
from chalicelib.services.gateway import directory
from chalicelib.settings import get_settings
from devstack.wechat_messages import WeChatSender

REPO = Path(__file__).resolve().parents[1]
EMULATOR_ENDPOINT_VARIABLE = "KEPU_TEST_MOTO_ENDPOINT"  # the session's moto server (tests/conftest.py)

PLAIN_APPID, SAFE_APPID = "wxplain0000000001", "wxsafe00000000002"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
AES_KEY_2 = "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkj"


def emulator_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: this process's) pointed at the session's moto server, for a subprocess.

    The tests' own calls reach moto in-process, with no ``AWS_ENDPOINT_URL``; a subprocess must get the
    server's URL, or its clients would look for AWS itself.
    """
    return {**(os.environ if env is None else env), "AWS_ENDPOINT_URL": os.environ[EMULATOR_ENDPOINT_VARIABLE]}


def fresh_python(script: str, env: dict[str, str], timeout: float = 120) -> list[Any]:
    """Run ``script`` in a new interpreter at the repository's root, as a cold start sees it; the JSON lines it printed.

    Fails the test, with the end of its stderr, when the script exits non-zero.
    """
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith(("{", "["))]


def reset_process_caches() -> None:
    """Forget clients and cached look-ups made against a previous emulator state."""
    account_repo.clear()
    directory.clear()
    parameters.clear_caches()
    import chalicelib.secrets as secrets_module

    secrets_module._provider = None
    aws_clients.queue_url.cache_clear()
    from chalicelib.services.gateway import tokens
    from chalicelib.services.push import metrics as push_metrics
    from chalicelib.services.push import sender as push_sender

    # Each of these outlived a test while each test took long enough for their
    # 60 s lifetimes to run out; with a fast emulator reset they must be cleared.
    push_sender.reset_caches()
    tokens._installed = None
    push_metrics.flush()


_provisioned = None


def reset_emulator(endpoint: str) -> None:
    """A clean emulated AWS: emptied in place when only data changed, else reset and provisioned again.

    The first call in a process (and any call after a test changed the resources
    themselves) pays for moto's reset and a full provisioning; the others only
    empty the tables, queues, bucket and parameters (see ``devstack.emulator_reset.clear_data``).
    """
    import requests

    from chalicelib.secrets import ensure_app_signing_key
    from devstack.emulator_reset import clear_data, snapshot_resources

    global _provisioned
    reset_process_caches()
    if _provisioned is not None and clear_data(_provisioned):
        ensure_app_signing_key()
        return
    requests.post(f"{endpoint}/moto-api/reset", timeout=10)
    reset_process_caches()
    provision()
    _provisioned = snapshot_resources()


def provision() -> None:
    """Tables, queues (with their dead-letter queues) and the bucket, exactly as ``make dev`` makes them."""
    from chalicelib.secrets import ensure_app_signing_key
    from devstack.provisioning import provision as provision_local

    settings = get_settings()
    provision_local(ALL_MODELS, queue_specs(settings), settings.player_bucket)
    ensure_app_signing_key()


@dataclass
class Demo:
    plain: WeChatSender
    safe: WeChatSender


def register_demo_accounts(standin) -> None:
    standin.register_account(PLAIN_APPID, "plainsecret", "service")
    standin.register_account(SAFE_APPID, "safesecret", "subscription")


def ticking_clock(step: float = 1.0):
    """A clock that moves on with every reading, as time does between a person's actions.

    Events are de-duplicated on FromUserName+CreateTime+Event+EventKey, as WeChat
    prescribes; two deliberate scans cannot share a second in real life.
    """
    import itertools
    import time

    ticks = itertools.count()
    return lambda: time.time() + step * next(ticks) - 120


def seed_minimal() -> Demo:
    Unit("prov", root_id="prov", path="prov/", name="省科协", kind="association").save()
    Unit("city", root_id="prov", path="prov/city/", parent_id="prov", name="市科协", kind="association").save()
    Unit("town", root_id="prov", path="prov/town/", parent_id="prov", name="社区服务中心", kind="community").save()
    Account(PLAIN_APPID, unit_id="city", name="市科普", original_id="gh_plain000001").save()
    Account(
        SAFE_APPID, unit_id="town", name="社区科普", account_type="subscription", original_id="gh_safe0000002"
    ).save()
    store_account_secrets(PLAIN_APPID, token="plaintoken", app_secret="plainsecret")
    store_account_secrets(SAFE_APPID, token="safetoken", aes_key=AES_KEY, app_secret="safesecret")
    Screen("NJ001", unit_id="city", name="市科技馆大厅", address="鼓楼区北京东路1号", appid=PLAIN_APPID).save()
    Screen("NJ002", unit_id="city", name="市图书馆", appid=PLAIN_APPID).save()
    Screen("SQ001", unit_id="town", name="幸福社区服务中心", appid=SAFE_APPID).save()
    return Demo(
        plain=WeChatSender(PLAIN_APPID, "gh_plain000001", "plaintoken", clock=ticking_clock()),
        safe=WeChatSender(SAFE_APPID, "gh_safe0000002", "safetoken", AES_KEY, mode="safe", clock=ticking_clock()),
    )
