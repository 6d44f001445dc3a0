"""WeChat's answers drive the channel policy: stop codes, quota pauses, notices and receipts."""

from __future__ import annotations

import pytest

from chalicelib.models import Account, DailyStat, Fan
from chalicelib.models.push import PushJob, PushQuota
from chalicelib.models.stats import china_day
from chalicelib.services.push import bodies as push_bodies
from chalicelib.services.push import policy as push_policy
from tests.push.conftest import NOTICE_ID, NOTICE_PATH, TEMPLATE_PATH, seed_fans
from tests.support import PLAIN_APPID


def fan(openid: str) -> Fan:
    return Fan.get(PLAIN_APPID, openid, consistent_read=True)


@pytest.mark.parametrize("code", [43004, 43019, 40003])
def test_template_stop_codes_stop_that_channel_for_that_fan(push, code):
    seed_fans(push.standin, PLAIN_APPID, ["NJ001"], ["o-stop", "o-fine"])
    push.standin.inject_failure(code, path=TEMPLATE_PATH, openid="o-stop")
    push.publish(["NJ001"])
    push.drain()
    assert push.received("o-stop") == [] and len(push.received("o-fine")) == 1
    assert fan("o-stop").stopped_channels == {push_policy.stop_entry("template", code)}
    push.standin.clear_failures()
    job_id = push.publish(["NJ001"])
    push.drain()
    assert len(push.calls_for(TEMPLATE_PATH, "o-stop")) == 1  # never asked WeChat again
    assert len(push.received("o-fine")) == 2
    job = PushJob.get(job_id)
    assert (job.sent_template, job.suppressed) == (1, 1)


def test_unfollow_stop_lifts_when_the_fan_follows_again(push, gateway, demo):
    seed_fans(push.standin, PLAIN_APPID, ["NJ001"], ["o-back"])
    push.standin.inject_failure(43004, path=TEMPLATE_PATH, openid="o-back")
    push.publish(["NJ001"])
    push.drain()
    assert fan("o-back").stopped_channels == {"template:unfollowed"}
    push.standin.clear_failures()
    gateway.say(demo.plain, demo.plain.follow("o-back", scene="NJ001"))
    assert not fan("o-back").stopped_channels
    push.publish(["NJ001"])
    push.drain()
    assert len(push.received("o-back")) == 1


def test_subscription_notice_where_accepted_and_43101_stops_it(push):
    Account.get(PLAIN_APPID).update(
        actions=[Account.template_id.remove(), Account.subscribe_template_id.set(NOTICE_ID)]
    )
    push.standin.register_account(PLAIN_APPID, "plainsecret", "service")
    seed_fans(push.standin, PLAIN_APPID, ["NJ001"], ["o-yes", "o-no"])
    push.standin.accept_subscribe(PLAIN_APPID, "o-yes", NOTICE_ID, times=None)
    push.publish(["NJ001"], title="一个非常非常长的标题，超过了二十个字符的限制，应当被截断")
    push.drain()
    (notice,) = push.received("o-yes")
    assert notice["channel"] == "subscribe" and notice["payload"]["page"].startswith("https://kepu.example.cn/m/")
    assert push.received("o-no") == []
    assert fan("o-no").stopped_channels == {"subscribe"}
    push.publish(["NJ001"])
    push.drain()
    assert len(push.calls_for(NOTICE_PATH, "o-no")) == 1 and len(push.received("o-yes")) == 2


def test_quota_answer_pauses_the_account_until_china_midnight(push):
    openids = [f"o-q{i:02d}" for i in range(60)]
    seed_fans(push.standin, PLAIN_APPID, ["NJ001"], openids)
    push.standin.set_quota(PLAIN_APPID, TEMPLATE_PATH, 4)
    job_id = push.publish(["NJ001"])
    push.drain(timeout=4)  # the deferred batch waits in the queue (delayed until the reset, ≤ 15 min)
    assert sum(len(push.received(o)) for o in openids) == 4
    quota = PushQuota.get(PLAIN_APPID, push_policy.quota_day(_now()))
    assert quota.pause_code == 45009 and quota.template_sent == 4
    assert quota.paused_until == int(push_policy.next_quota_reset(_now()).timestamp())
    calls = len(push.standin.calls(TEMPLATE_PATH))
    assert 5 <= calls <= 4 + 20  # after 45009 only the sends already in flight (≤ the concurrency) went out
    push.publish(["NJ001"])  # another job while paused: deferred without calling WeChat
    push.drain(timeout=4)
    assert len(push.standin.calls(TEMPLATE_PATH)) == calls
    assert PushJob.get(job_id).failed == 0


def test_per_account_daily_quota_is_tracked_before_wechat_refuses(push):
    Account.get(PLAIN_APPID).update(actions=[Account.template_quota.set(3)])
    openids = [f"o-k{i}" for i in range(5)]
    seed_fans(push.standin, PLAIN_APPID, ["NJ001"], openids)
    push.publish(["NJ001"])
    push.drain(timeout=4)
    assert len(push.standin.calls(TEMPLATE_PATH)) == 3  # we stopped at our own count: no 45009 needed
    assert PushQuota.get(PLAIN_APPID, push_policy.quota_day(_now())).template_sent == 3


def test_receipts_are_attributed_to_the_push_and_a_block_stops_templates(push, gateway, demo):
    seed_fans(push.standin, PLAIN_APPID, ["NJ001"], ["o-ok", "o-block"])
    job_id = push.publish(["NJ001"])
    push.drain()
    ok_id = push.received("o-ok")[0]["msgid"]
    block_id = push.received("o-block")[0]["msgid"]
    p = demo.plain
    receipt = p.template_finished("o-ok", ok_id)
    assert gateway.say(p, receipt) == ""
    gateway.say(p, p.template_finished("o-block", block_id, status="failed:user block"))
    gateway.say(p, receipt)  # WeChat's retry: counted once
    content = DailyStat.get(f"content#{job_id.split(':')[0]}", china_day())
    assert (content.counter("receipts_success"), content.counter("receipts_failed")) == (1, 1)
    job = PushJob.get(job_id)
    assert (job.receipts_success, job.receipts_failed) == (1, 1)
    assert fan("o-block").stopped_channels == {"template"}
    push.publish(["NJ001"])
    push.drain()
    assert len(push.calls_for(TEMPLATE_PATH, "o-block")) == 1 and len(push.received("o-ok")) == 2


def test_template_fields_obey_the_2023_rules():
    data = push_bodies.template_data(
        {
            "title": "第一行\n第二行  很长很长很长很长很长很长很长很长",
            "priority": "urgent",
            "unit_name": "市科协",
            "published_at": "2026-11-29T08:00:00+00:00",
        },
        _now(),
    )
    assert data["thing1"]["value"].startswith("【紧急】第一行 第二行")
    assert all(len(v["value"]) <= 20 and "\n" not in v["value"] for v in data.values())
    assert data["time3"]["value"] == "2026-11-29 16:00"


def test_answers_are_classified_as_wechat_documents_them():
    assert {push_policy.classify(c) for c in (43004, 43019, 43101, 40003, 45015, 45047)} == {push_policy.STOPPED}
    assert {push_policy.classify(c) for c in (45009, 45011)} == {push_policy.PAUSED}
    assert {push_policy.classify(-1), push_policy.classify(None), push_policy.classify(0, 503)} == {
        push_policy.TRANSIENT
    }
    assert push_policy.classify(47003) == push_policy.FAILED


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)
