"""Publish → planner → sender through the real queues: each fan once, nothing lost, nothing twice."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from chalicelib.models import DailyStat
from chalicelib.models.push import PLANNED, PushBatch, PushJob
from chalicelib.models.stats import china_day
from chalicelib.page_tokens import verify_link
from tests.push.conftest import TEMPLATE_ID, TEMPLATE_PATH, seed_fans
from tests.support import PLAIN_APPID


def stat(subject: str, counter: str) -> int:
    try:
        return DailyStat.get(subject, china_day()).counter(counter)
    except DailyStat.DoesNotExist:
        return 0


def test_fan_on_three_targeted_screens_gets_one_push(push):
    seed_fans(push.standin, PLAIN_APPID, ["NJ001", "NJ002", "NJ003"], ["o-three"])
    seed_fans(push.standin, PLAIN_APPID, ["NJ002"], ["o-one"])
    job_id = push.publish(["NJ001", "NJ002", "NJ003"], title="关于本周六社区义诊活动的详细安排\n请相互转告")
    push.drain()
    content_id = job_id.split(":")[0]
    three = push.received("o-three")
    assert len(three) == 1 and len(push.received("o-one")) == 1
    message = three[0]["payload"]
    assert message["template_id"] == TEMPLATE_ID
    for field in message["data"].values():  # WeChat's 2023 rules, or it answers 47003
        assert len(field["value"]) <= 20 and "\n" not in field["value"]
    claims = verify_link(parse_qs(urlparse(message["url"]).query)["t"][0])
    assert (claims.appid, claims.openid, claims.content_id) == (PLAIN_APPID, "o-three", content_id)
    assert stat(f"content#{content_id}", "pushes_sent") == 2
    assert stat(f"content#{content_id}", "pushes_template") == 2
    assert [stat(f"screen#{s}", "pushes_sent") for s in ("NJ001", "NJ002", "NJ003")] == [1, 2, 1]
    job = PushJob.get(job_id)
    assert (job.status, job.planned, job.sent_template) == (PLANNED, 2, 2)


def test_large_audience_is_planned_in_several_runs_and_redelivery_sends_nothing(push, monkeypatch):
    from chalicelib.services.push import batching as push_batching
    from chalicelib.services.push import sender as push_sender

    monkeypatch.setattr(push_batching, "BATCHES_PER_RUN", 1)  # force the cursor and self re-enqueue path
    fans_a = [f"o-a{i:03d}" for i in range(150)]
    fans_b = [f"o-b{i:03d}" for i in range(100)]
    seed_fans(push.standin, PLAIN_APPID, ["NJ001"], fans_a)
    seed_fans(push.standin, PLAIN_APPID, ["NJ001", "NJ002"], fans_b[:30])  # 30 % overlap
    seed_fans(push.standin, PLAIN_APPID, ["NJ002"], fans_b[30:])
    bodies = []
    original = push_sender.process
    monkeypatch.setattr(push_sender, "process", lambda body, **kw: (bodies.append(body), original(body, **kw))[1])
    job_id = push.publish(["NJ001", "NJ002"])
    push.drain()
    everyone = fans_a + fans_b
    assert all(len(push.received(o)) == 1 for o in everyone)
    job = PushJob.get(job_id)
    assert job.status == PLANNED and job.planned == 250 and job.batches == 3  # 98 + 98 + 54
    assert sum(1 for _ in PushBatch.query(job_id)) == 3
    calls = len(push.standin.calls(TEMPLATE_PATH))
    # Redelivery of everything: the publish message and every batch message
    push.publish(["NJ001", "NJ002"], content_id=job_id.split(":")[0])
    push.drain()
    for body in bodies:
        assert original(body) == {"skipped": len(body["recipients"])}
    assert len(push.standin.calls(TEMPLATE_PATH)) == calls
    assert all(len(push.received(o)) == 1 for o in everyone)


def test_transient_5xx_and_token_expiry_mid_run_lose_nothing_and_duplicate_nothing(push, monkeypatch):
    from chalicelib.services.push import sender as push_sender

    openids = [f"o-t{i:03d}" for i in range(300)]
    seed_fans(push.standin, PLAIN_APPID, ["NJ001"], openids)
    push.standin.inject_failure(-1, path=TEMPLATE_PATH, probability=0.1, http_status=500)
    original, batches = push_sender.process, []

    def expire_after_first(body, **kw):
        result = original(body, **kw)
        batches.append(body)
        if len(batches) == 1:
            push.standin.expire_tokens(PLAIN_APPID)
        return result

    monkeypatch.setattr(push_sender, "process", expire_after_first)
    job_id = push.publish(["NJ001"])
    push.drain()
    assert all(len(push.received(o)) == 1 for o in openids)
    calls = push.standin.calls(TEMPLATE_PATH)
    assert sum(1 for c in calls if c["http_status"] == 500) > 10
    assert sum(1 for c in calls if c["errcode"] == 42001) >= 1
    assert len(push.standin.calls("/cgi-bin/stable_token")) == 2  # the first token and one shared refresh
    assert any(b["attempt"] > 0 for b in batches)  # transient failures came back as delayed retries
    assert PushJob.get(job_id).sent_template == 300
