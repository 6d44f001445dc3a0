"""Shared fixtures: AWS emulated by moto (in this process, and its server for subprocesses), fresh state per test.

The environment is set before anything from ``chalicelib`` is imported: table
names are read when the models are defined.  The tests' own clients resolve
the regional endpoints as production does and moto answers them in-process
(``moto_endpoint``); ``make dev`` and the subprocesses reach moto's server
through ``AWS_ENDPOINT_URL``, which tests/devstack checks on its own.
"""

from __future__ import annotations

import os

os.environ.update(
    STAGE="test",
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="cn-north-1",
    PUBLIC_BASE_URL="https://kepu.example.cn",
    POWERTOOLS_LOG_LEVEL="WARNING",
    POWERTOOLS_TRACE_DISABLED="true",  # no X-Ray daemon here; tests/ops/test_tracing.py turns it on in a subprocess
)
os.environ.pop("AWS_PROFILE", None)

import logging

import pytest

from tests import support

logging.getLogger("werkzeug").setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def playwright_driver():
    """One Playwright driver per test process, shared by every browser test file.

    A sync Playwright driver leaves its asyncio loop marked as running on the thread
    while it is open, so a second ``sync_playwright()`` in the same process fails
    ("Sync API inside the asyncio loop"). Under xdist one worker runs several
    browser files in turn; each launches and closes its own browser on this driver.
    """
    playwright_sync = pytest.importorskip("playwright.sync_api")
    with playwright_sync.sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def moto_endpoint():
    """moto for the whole session: in this process for the tests' own calls, over HTTP for their subprocesses.

    The tests' own calls go to moto in-process (``mock_aws``): the same botocore requests, parsed and answered
    by the same moto backends, without the HTTP hop, which cost 2.85x a request (``bench.emulator_hop``).
    moto's server runs in this process too and serves those same backends: subprocesses (token workers, fresh
    interpreters, the root-admin command) reach them with ``support.emulator_env()``, and the devstack tests
    that check ``AWS_ENDPOINT_URL`` itself set it.  Returns the server's URL.
    """
    from moto import mock_aws

    from devstack.moto_server import start_moto

    server, endpoint = start_moto()
    os.environ.pop("AWS_ENDPOINT_URL", None)
    # botocore's account-based endpoints (<account>.streams-ddb.<region>...) are unknown to moto in-process
    os.environ["AWS_ACCOUNT_ID_ENDPOINT_MODE"] = "disabled"
    os.environ[support.EMULATOR_ENDPOINT_VARIABLE] = endpoint
    in_process = mock_aws()
    in_process.start()
    yield endpoint
    in_process.stop()
    server.stop()


@pytest.fixture(scope="session")
def standin_server():
    """The local WeChat API stand-in, reached through WECHAT_API_BASE like the real one."""
    from chalicelib.settings import get_settings
    from devstack.wechat_standin import WeChatStandIn

    server = WeChatStandIn().start()
    os.environ["WECHAT_API_BASE"] = server.base_url
    os.environ["WECHAT_OAUTH_BASE"] = server.base_url
    get_settings.cache_clear()
    yield server
    server.stop()


@pytest.fixture
def wechat(standin_server, demo):
    """A reset stand-in that knows the demo accounts and their secrets."""
    standin_server.reset()
    support.register_demo_accounts(standin_server)
    yield standin_server


@pytest.fixture
def aws(moto_endpoint):
    """A clean emulated AWS with every table, queue and the bucket provisioned."""
    support.reset_emulator(moto_endpoint)
    yield moto_endpoint


@pytest.fixture
def demo(aws):
    """A small tree of units, two accounts (one in safe mode) and three screens."""
    return support.seed_minimal()


# The longest files, started first: with --dist loadfile a long file that starts last keeps one worker busy
# while the other has nothing left (the run's tail).  tests/infra/test_packaging.py builds the packages the
# other infra files read (one build per run, tests/infra/conftest.py), so those come last, when it is done.
LONGEST_FIRST = (
    "tests/push/test_failures.py",
    "tests/infra/test_packaging.py",
    "tests/console/test_console_e2e.py",
    "tests/player/test_player_browser.py",
    "tests/test_local_system.py",
    "tests/devstack/test_first_steps.py",
    "tests/console/test_console_history.py",
    "tests/console/test_home_screens.py",
)


def pytest_collection_modifyitems(session, config, items):
    def rank(item) -> int:
        path = item.nodeid.split("::", 1)[0]
        if path in LONGEST_FIRST:
            return LONGEST_FIRST.index(path)
        return len(LONGEST_FIRST) + (1 if path.startswith("tests/infra/") else 0)

    items.sort(key=rank)  # stable: each file keeps its own order
