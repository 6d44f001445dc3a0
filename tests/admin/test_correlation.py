"""One publish, followed end to end by its correlation id: admin API -> push planner -> sender -> WeChat.

The admin call runs through the Chalice test client (the app's middleware
gives it the request's id), the queues are drained by the SQS pump exactly as
Lambda would invoke the consumers, the sends reach the WeChat stand-in.
Every line the service logs meanwhile -- Powertools and stdlib loggers of
``chalicelib`` alike -- must carry the same ``correlation_id``.
"""

from __future__ import annotations

import io
import json
import logging

import pytest

from app import app
from chalicelib.logs import logger
from chalicelib.models import Account
from chalicelib.resources import queue_specs
from chalicelib.services.gateway import tokens
from chalicelib.services.push import sender as push_sender
from chalicelib.settings import get_settings
from devstack.sqs_pump import SqsPump
from tests.admin.test_content_workflow import V, make
from tests.admin.world import if_match
from tests.push.conftest import TEMPLATE_ID, seed_fans


@pytest.fixture
def captured_logs():
    """Every JSON line the service writes, through the very formatter production uses."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    targets = [logging.getLogger(logger.name), logging.getLogger("chalicelib")]
    for target in targets:
        target.addHandler(handler)
    logger.setLevel("DEBUG")
    logging.getLogger("chalicelib").setLevel("DEBUG")
    yield stream
    for target in targets:
        target.removeHandler(handler)
    logger.setLevel("WARNING")


def test_one_correlation_id_in_every_log_line_of_a_publish(api, world, standin_server, captured_logs, monkeypatch):
    tokens._installed = None
    tokens.install_shared_provider()
    push_sender.reset_caches()
    monkeypatch.setattr(push_sender, "BACKOFF_BASE", 0)
    appid, screen = world.appid["city"], world.screen["city"]
    Account(appid).update(actions=[Account.template_id.set(TEMPLATE_ID)])
    fans = [f"o-corr-{n}" for n in range(3)]
    seed_fans(standin_server, appid, [screen], fans)
    editor = api.as_(world.keys["editor"])
    item = make(editor, world)
    pump = SqsPump(app, specs=queue_specs(get_settings()), visibility_override=1, stage="test")
    read_revision = if_match(editor, item["content_id"])  # the editor read it before publishing
    captured_logs.truncate(0)
    captured_logs.seek(0)

    published = editor.post(f"{V}/content/{item['content_id']}/publish", headers=read_revision)
    assert published.status_code == 200, published.data
    pump.drain(timeout=30)

    assert all(standin_server.inbox(openid) for openid in fans), "every fan got the push"
    lines = [json.loads(line) for line in captured_logs.getvalue().splitlines() if line.strip()]
    messages = {line["message"] for line in lines}
    assert {"admin message enqueued", "push planner", "push batch done", "manifest batch"} <= messages, messages
    ids = {line.get("correlation_id") for line in lines}
    assert len(ids) == 1 and None not in ids, [(line["message"], line.get("correlation_id")) for line in lines]
    functions = {line.get("function_name") for line in lines}
    assert {
        "kepuscreen-test-push_planner",
        "kepuscreen-test-push_sender",
        "kepuscreen-test-rebuild_manifests",
    } <= functions, functions
