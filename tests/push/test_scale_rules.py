"""Rules that matter at scale: minute pauses, receipt routes with real msgids, late answers made visible."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.models.push import PushJob, PushMsgRoute, PushQuota
from chalicelib.services.push import policy as push_policy
from chalicelib.services.push import sender as push_sender
from chalicelib.services.push.pacing import AccountRate, SendWindow
from tests.push.conftest import TEMPLATE_PATH, seed_fans
from tests.support import PLAIN_APPID


def _quota() -> PushQuota:
    return PushQuota.get(PLAIN_APPID, push_policy.quota_day(datetime.now(UTC)), consistent_read=True)


def test_per_minute_limit_pauses_the_account_for_about_a_minute(push):
    seed_fans(push.standin, PLAIN_APPID, ["NJ001"], [f"o-m{i:02d}" for i in range(30)])
    push.standin.inject_failure(45011, path=TEMPLATE_PATH, count=1)
    push.publish(["NJ001"])
    push.drain(timeout=4)  # the deferred rest waits in the queue for about a minute
    quota = _quota()
    left = quota.paused_until - datetime.now(UTC).timestamp()
    assert quota.pause_code == 45011 and 30 < left <= push_sender.MINUTE_PAUSE  # not until China midnight


def test_daily_quota_still_pauses_until_china_midnight():
    now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    assert push_sender.pause_until(45009, now) == push_policy.next_quota_reset(now).timestamp()
    assert push_sender.pause_until(45011, now) == now.timestamp() + push_sender.MINUTE_PAUSE


def test_receipts_with_real_msgids_share_route_items_and_are_attributed(push, gateway, demo):
    push.standin.use_random_msgids(seed=12)
    openids = [f"o-r{i:03d}" for i in range(150)]
    seed_fans(push.standin, PLAIN_APPID, ["NJ001"], openids)
    job_id = push.publish(["NJ001"])
    push.drain()
    msgids = [push.received(o)[0]["msgid"] for o in openids]
    assert len({m // 100 for m in msgids}) > 140  # as WeChat's: every push would have had an item of its own
    routes = list(PushMsgRoute.query(PLAIN_APPID))
    assert 1 <= len(routes) <= 4 and sum(len(r.routes) for r in routes) == 150  # one per send minute
    for openid, msgid in zip(openids[:12], msgids[:12], strict=True):
        gateway.say(demo.plain, demo.plain.template_finished(openid, msgid))
    assert PushJob.get(job_id, consistent_read=True).receipts_success == 12


def test_the_send_window_bounds_unrecorded_sends_across_batches():
    window = SendWindow(20)
    assert window.take(15) == 15 and window.take(15, timeout=0.01) == 0  # whole waves only
    assert window.take(5) == 5 and window.take(1, timeout=0.01) == 0 and window.unrecorded == 20
    window.give(7)
    assert window.take_more(10) == 7 and window.unrecorded == 20


def test_the_account_rate_spreads_sends_over_time():
    clock = [0.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        clock[0] += seconds

    rate = AccountRate(per_second=lambda: 10.0, clock=lambda: clock[0], sleep=sleep)
    for _ in range(30):
        rate.wait("wxa")
    assert 1.9 <= clock[0] <= 2.1  # 10 at once (one second's burst), then 10 per second


def test_the_sender_paces_each_account_at_its_share_of_the_rate(push, monkeypatch):
    """PUSH_ACCOUNT_RATE / PUSH_SENDER_CONCURRENCY per sender: 120 sends at 40/s cannot take under 2 s.

    (The push fixture turns pacing off for the other tests.)  Only a lower bound on the time is asserted:
    a slow machine makes the spread longer, never shorter.
    """
    monkeypatch.setenv("PUSH_ACCOUNT_RATE", "80")
    monkeypatch.setenv("PUSH_SENDER_CONCURRENCY", "2")  # 40/s for this one sender, a burst of 40
    fans = [f"o-r{i:03d}" for i in range(120)]
    seed_fans(push.standin, PLAIN_APPID, ["NJ001"], fans)
    job_id = push.publish(["NJ001"])
    push.drain(timeout=60)
    sends = sorted(c["at"] for c in push.standin.calls(TEMPLATE_PATH))
    assert len(sends) == len(fans)
    assert sends[-1] - sends[0] >= (120 - 40) / 40 * 0.95  # the burst at once, then 40 per second
    assert PushJob.get(job_id, consistent_read=True).sent_template == len(fans)
