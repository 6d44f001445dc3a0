"""What the public functions import at load, and the bytecode the package ships (no timings: see bench/).

Each check runs a fresh interpreter, as a Lambda cold start does.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile

from infra.bytecode import add_bytecode
from tests.support import fresh_python


def _loaded_after(statement: str) -> set[str]:
    script = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    env = {"PATH": "/usr/bin:/bin", "STAGE": "dev", "AWS_DEFAULT_REGION": "cn-north-1", "PYTHONDONTWRITEBYTECODE": "1"}
    return set(fresh_python(script, env)[-1])


# What the callback function must not import at load: admin routes and services, the models of tables it never
# touches, the admin schemas' pydantic, templates (first rendered reply), the HTTP client, the AES cipher (first
# encrypted message), the erasure service (its command), the X-Ray SDK (first traced call, in Lambda only), and the
# Powertools parameter providers it does not use.
CALLBACK_MUST_NOT_LOAD = (
    "chalicelib.handlers.admin",
    "chalicelib.handlers.phone",
    "chalicelib.handlers.push_queue",
    "chalicelib.handlers.screens",
    "chalicelib.services.access.users",
    "chalicelib.services.access.grants",
    "chalicelib.services.access.sessions",
    "chalicelib.services.access.session_cookies",
    "chalicelib.services.access.audit",
    "chalicelib.services.access.units",
    "chalicelib.services.access.unit_moves",
    "chalicelib.services.content.workflow",
    "chalicelib.services.shared.idempotency",
    "chalicelib.services.subscriptions.personal_data",
    "chalicelib.services.push.planner",
    "chalicelib.services.push.sender",
    "chalicelib.services.push.invocation",
    "chalicelib.services.analytics",
    "chalicelib.models.users",
    "chalicelib.models.audit",
    "chalicelib.models.idempotency",
    "chalicelib.models.rollups",
    "chalicelib.models.units",
    "chalicelib.models.screen_reports",
    "chalicelib.models.screen_links",
    "chalicelib.models.tokens",
    "chalicelib.models.reads",
    "pydantic",
    "jinja2",
    "requests",
    "wechatpy.client",
    "wechatpy.pay",
    "wechatpy.crypto",
    "cryptography",
    "nh3",
    "segno",
    "itsdangerous",
    "aws_xray_sdk",
    "wrapt",
    "aws_lambda_powertools.utilities.parameters.appconfig",
    "aws_lambda_powertools.utilities.parameters.dynamodb",
    "aws_lambda_powertools.utilities.parameters.secrets",
)


def test_the_callback_function_loads_nothing_admin_routes_pages_or_the_http_client_need():
    loaded = _loaded_after(
        "import chalicelib.entries.callback; import chalicelib.models as m; assert 'ALL_MODELS' not in vars(m)"
    )  # the package's __init__ has not run
    assert {
        "chalicelib.handlers.wechat_callback",
        "wechatpy.parser",
        "chalicelib.models.accounts",
        "chalicelib.secrets",
        "aws_lambda_powertools.utilities.parameters.ssm",
    } <= loaded
    unwanted = sorted(m for m in loaded if m.startswith(CALLBACK_MUST_NOT_LOAD))
    assert not unwanted


def test_what_the_callback_defers_is_there_when_a_message_needs_it():
    loaded = _loaded_after(
        "import chalicelib.entries.callback; from chalicelib.models import ALL_MODELS; "
        "from chalicelib.wechat.crypto import unseal; "
        "from chalicelib.services.gateway import engine; import chalicelib.services.subscriptions.personal_data; "
        "assert len(ALL_MODELS) > 20; "
        "from aws_lambda_powertools.utilities import parameters; assert parameters.SSMProvider\n"
        "try:\n    unseal('a' * 43, 'wx1', 'A' * 43 + '=')\nexcept ValueError:\n    pass"
    )
    assert {
        "cryptography",
        "wechatpy.crypto",
        "chalicelib.models.users",
        "chalicelib.services.subscriptions.personal_data",
        "aws_lambda_powertools.utilities.parameters.appconfig",
    } <= loaded


def test_a_deferred_package_still_gives_every_name_when_asked():
    loaded = _loaded_after(
        "import chalicelib.entries.callback; from wechatpy import WeChatClient, parse_message; "
        "from chalicelib.replies import render_text; assert render_text('help', unknown_command='', centre_url='u')"
    )
    assert {"wechatpy.client", "requests", "jinja2"} <= loaded


def test_the_public_pages_function_loads_no_admin_code():
    loaded = _loaded_after("import chalicelib.entries.public")
    assert "chalicelib.handlers.phone_pages" in loaded and "chalicelib.handlers.screens" in loaded
    assert not {
        m
        for m in loaded
        if m.startswith(
            ("chalicelib.handlers.admin", "chalicelib.services.access.users", "chalicelib.handlers.push_queue")
        )
    }


def test_shipped_bytecode_is_what_the_interpreter_runs(tmp_path):
    """Unchecked-hash .pyc files are used as shipped: after the source changes, the old code still runs."""
    package = tmp_path / "deployment.zip"
    with zipfile.ZipFile(package, "w") as zf:
        zf.writestr("pkg/__init__.py", "")
        zf.writestr("pkg/answer.py", "VALUE = 'compiled'\n")
        zf.writestr("pkg/broken.py", "def broken(:\n")
    with zipfile.ZipFile(package, "a") as zf:  # a stale one, as a project dir's __pycache__ can hold
        zf.writestr(f"pkg/__pycache__/answer.{sys.implementation.cache_tag}.pyc", b"stale")
    assert add_bytecode(package) == 2
    assert add_bytecode(package) == 2  # the same again: rebuilt, not duplicated
    names = zipfile.ZipFile(package).namelist()
    assert len(names) == len(set(names)) == 5
    root = tmp_path / "task"
    zipfile.ZipFile(package).extractall(root)
    (root / "pkg" / "answer.py").write_text("VALUE = 'source'\n")
    out = subprocess.run(
        [sys.executable, "-S", "-c", "import pkg.answer; print(pkg.answer.VALUE)"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert out.stdout.strip() == "compiled"
