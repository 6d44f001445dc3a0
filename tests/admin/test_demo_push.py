"""The demo's push reaches its fans: WeChat (the stand-in) knows the followers the demo history made.

Last session's report: after publishing in ``make dev`` the console showed
计划 29, 被拒收 28, 已发 0.  The history wrote its fans through the system's
own functions (as if WeChat had sent their follow events), but the stand-in
never saw them follow, so every template message got 43004 "require
subscribe" — what real WeChat answers a non-follower, which the stand-in
must keep answering.  The demo now registers its followers with the stand-in.
"""

from __future__ import annotations

from app import app
from chalicelib.models import Content, Fan
from chalicelib.resources import queue_specs
from chalicelib.services.access import users
from chalicelib.services.content import workflow as content
from chalicelib.services.gateway import tokens
from chalicelib.services.push import outcomes as push_outcomes
from chalicelib.services.push import sender as push_sender
from chalicelib.settings import get_settings
from devstack import demo, demo_history
from devstack.sqs_pump import SqsPump


def test_a_demo_publish_with_push_is_sent_not_stopped(aws, standin_server, monkeypatch):
    standin_server.reset()
    tokens._installed = None
    tokens.install_shared_provider()
    push_sender.reset_caches()
    monkeypatch.setattr(push_sender, "BACKOFF_BASE", 0)
    info = demo.seed(standin_server)
    demo_history.seed_history(standin_server, info, days=4)
    fans = [f for f in Fan.scan() if f.appid == demo.SERVICE_APPID and f.following]
    assert fans, "the history made no followers of the service account"
    root = users.principal_for(next(u for u in info["users"] if u["role"] == "root admin")["user_id"])
    item = content.create(
        root,
        {
            "unit_id": info["units"]["city"],
            "kind": "notice",
            "title": "演示推送",
            "body": "周六科技馆开放日",
            "targets": {"screens": ["NJ001", "NJ002"]},
        },
    )
    content.transition(root, item.content_id, "publish", None)
    SqsPump(app, specs=queue_specs(get_settings()), visibility_override=1, stage="test").drain(timeout=60)
    status = push_outcomes.status(Content.get(item.content_id))
    outcome = {k: status[k] for k in ("planned", "sent_total", "stopped", "failed", "skipped", "unread")}
    assert status["planned"] > 0
    assert status["stopped"] == 0 and status["failed"] == 0, outcome
    assert status["sent"]["template"] > 0, outcome
