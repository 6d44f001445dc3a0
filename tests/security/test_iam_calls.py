"""Every AWS call each Lambda function makes is allowed by the role infra generates for it.

The roles are least-privilege and derived from the code (``infra.access``); a
miss shows up only in production, as an AccessDenied the function may log and
swallow -- the daily digest did exactly that every evening (its role lacked the
``access_tokens`` table it needs for WeChat's access token).  This runs a
representative day: WeChat callbacks, admin API calls (content published, a
menu created), a screen's heartbeat, the push planner and sender and the
manifest builder draining their queues, and the evening digest.  Every call
each function makes is recorded and checked against that function's policy.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from chalice.test import Client

from app import app
from chalicelib.aws import send_json
from chalicelib.models import Account, Content
from chalicelib.models.content import PUBLISHED
from chalicelib.resources import queue_specs
from chalicelib.services.gateway import tokens
from chalicelib.services.push import sender as push_sender
from chalicelib.settings import get_settings
from devstack.screens_local import enroll_screen
from devstack.sqs_pump import SqsPump
from devstack.stream_pump import StreamPump
from tests import support
from tests.admin.world import Api, build
from tests.gateway.conftest import Gateway
from tests.push.conftest import TEMPLATE_ID, seed_fans
from tests.security.iam import CallRecorder, allowed, function_policies, lambda_functions
from tests.support import PLAIN_APPID, SAFE_APPID

V = "/api/v1"


@pytest.fixture
def recorder():
    recorder = CallRecorder()
    recorder.install()
    yield recorder
    recorder.uninstall()


def cold_process() -> None:
    """What a fresh Lambda process starts with: nothing cached by any other function."""
    support.reset_process_caches()
    tokens._installed = None
    tokens.install_shared_provider()
    push_sender.reset_caches()
    # (the planner keeps no account cache: it reads accounts afresh for every run)


@pytest.fixture
def day(wechat, demo, monkeypatch):
    """Accounts, fans and screens as a working day finds them (set up outside any function)."""
    cold_process()
    monkeypatch.setattr(push_sender, "BACKOFF_BASE", 0)
    Account.get(PLAIN_APPID).update(actions=[Account.template_id.set(TEMPLATE_ID)])
    Account.get(SAFE_APPID).update(actions=[Account.digest_tag_id.set(7)])
    seed_fans(wechat, PLAIN_APPID, ["NJ001"], ["o-p1"])
    seed_fans(wechat, SAFE_APPID, ["SQ001"], ["o-d1"], last_interaction_at=datetime.now(UTC) - timedelta(hours=50))
    wechat.tag_user(SAFE_APPID, "o-d1", 7)
    world = build(wechat)
    return world, enroll_screen("NJ001")


def _publish_outside_the_api(screen_id: str, unit_id: str, title: str) -> None:
    """A published item on a subscription account's screen (its fans are outside every window)."""
    content_id = "c_digest_1"
    Content(
        content_id, unit_id=unit_id, kind="notice", title=title, status=PUBLISHED, published_at=datetime.now(UTC)
    ).save()
    send_json(
        get_settings().push_queue_name,
        {
            "type": "publish",
            "job_id": f"{content_id}:1",
            "content_id": content_id,
            "revision": 1,
            "unit_id": unit_id,
            "screen_ids": [screen_id],
            "title": title,
            "summary": "今日科普",
            "kind": "notice",
            "category": "community_notice",
            "priority": "normal",
            "published_at": datetime.now(UTC).isoformat(),
        },
    )


def test_every_call_each_function_makes_is_allowed_by_its_role(day, demo, recorder):
    world, player_key = day
    policies = function_policies(app)
    event_functions = [source.name for source in app.event_sources]
    originals = recorder.wrap_handlers(app, event_functions, cold_start=cold_process)
    try:
        with Client(app) as client:
            cold_process()
            with recorder.running("api_handler"):
                gateway = Gateway(client)
                gateway.say(demo.plain, demo.plain.follow("o-new", scene="NJ002"))
                gateway.say(demo.safe, demo.safe.text("o-new2", "订阅 SQ001"))
                api = Api(client, world.root_key)
                assert api.get(f"{V}/units").status_code == 200
                assert api.get(f"{V}/accounts/{world.appid['city']}").status_code == 200
                assert api.post(f"{V}/accounts/{world.appid['city']}/menu").status_code == 200
                item = api.post(
                    f"{V}/content",
                    {
                        "unit_id": world.unit["city"],
                        "kind": "notice",
                        "title": "社区义诊通知",
                        "body": "本周六上午9点",
                        "category": "community_notice",
                        "targets": {"units": [world.unit["city"]]},
                    },
                )
                assert item.status_code == 201, item.data
                published = api.post(
                    f"{V}/content/{item.data['content_id']}/publish",
                    headers={"If-Match": item.headers.get("ETag") or item.headers["etag"]},
                )
                assert published.status_code == 200, published.data
                beat = client.http.post(
                    "/screens/NJ001/heartbeat",
                    body=json.dumps({}),
                    headers={"Content-Type": "application/json", "Authorization": f"Bearer {player_key}"},
                )
                assert beat.status_code == 200, beat.body
            _publish_outside_the_api("SQ001", "town", "今日要闻")
            pump = SqsPump(app, specs=queue_specs(get_settings()), visibility_override=1, stage="test")
            pump.drain(timeout=30)  # push planner, push sender, manifest builder
            evening = client.events.generate_cw_event(
                "aws.events", "Scheduled Event", {}, [], region=get_settings().region
            )
            result = app.handler_map["push_digest"](evening, None)
            assert result == {SAFE_APPID: "sent"}, result
            # the analytics roll-ups read the day's changes from the tables' streams, as Lambda polls them
            assert StreamPump(app, stage="test").drain(timeout=60) > 0
            for schedule in ("analytics_close_day", "analytics_wechat_datacube", "screen_health"):
                app.handler_map[schedule](evening, None)
    finally:
        app.handler_map.update(originals)

    not_run = sorted(set(lambda_functions(app)) - set(recorder.calls))
    assert not not_run, f"functions this test does not exercise yet (add them): {not_run}"
    denied = {}
    for function, calls in recorder.calls.items():
        refused = sorted(
            {
                (action, resource)
                for _s, _o, action, resource in calls
                if not allowed(policies[function], action, resource)
            }
        )
        if refused:
            denied[function] = refused
    assert denied == {}, "calls the generated roles would refuse:\n" + "\n".join(
        f"  {function}: {action} on {resource}" for function, refused in denied.items() for action, resource in refused
    )
    counts = {function: len(calls) for function, calls in sorted(recorder.calls.items())}
    print(f"\nrecorded AWS calls per function: {counts}")
