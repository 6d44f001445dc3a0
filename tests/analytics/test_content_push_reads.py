"""A content item's pushes planned by channel and its time from push to first read, through the real pipeline.

Publish → planner → sender over the queues (SQS pump), fans tap the links in
what the WeChat stand-in received, the stream pump runs the roll-ups, and the
admin API's content series must agree with the push job's own records and
with the delays the taps really had.  A rebuild of the roll-ups leaves it all
unchanged.
"""

from __future__ import annotations

import statistics
from datetime import date, timedelta
from urllib.parse import parse_qs, urlparse

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.models.push import PushJob
from chalicelib.models.stats import china_day
from chalicelib.page_tokens import verify_link
from chalicelib.services.analytics import closing, first_reads
from chalicelib.services.content import reads
from devstack.screens_local import publish as publish_content
from tests.analytics.conftest import V
from tests.phone.conftest import PhoneBrowser
from tests.push.conftest import _link_of, push, seed_fans  # noqa: F401 (the push fixture)
from tests.support import PLAIN_APPID, SAFE_APPID
from tools import check_rollups

DELAYS = [30, 95, 7_500, 10_800, 172_900]  # seconds from the push to each fan's first tap


def _series(admin, content_id: str) -> dict:
    today = date.fromisoformat(china_day())  # the taps' days: up to two days after the push
    reply = admin["city"].get(
        f"{V}/analytics/content/{content_id}/series?from={today}&to={today + timedelta(days=3)}&bucket=month"
    )
    assert reply.status_code == 200, reply.body
    return reply.data


def test_planned_by_channel_and_median_first_read_agree_with_the_records(push, client, pump, admin, monkeypatch):  # noqa: F811
    plain = [f"o-read-{i}" for i in range(len(DELAYS))]
    seed_fans(push.standin, PLAIN_APPID, ["NJ001"], plain)  # service account: template messages
    seed_fans(push.standin, SAFE_APPID, ["SQ001"], ["o-safe-1", "o-safe-2"])  # no open channel: unread entries
    content = publish_content("c-first-read", ["NJ001", "SQ001"], title="停水通知")
    job_id = push.publish(["NJ001", "SQ001"], content_id=content.content_id)
    push.drain()

    taps = []
    for openid, delay in zip(plain, DELAYS, strict=True):
        [message] = push.received(openid, content.content_id)
        url = _link_of(message)
        claims = verify_link(parse_qs(urlparse(url).query)["t"][0])
        tapped_at = claims.issued_at + timedelta(seconds=delay)
        monkeypatch.setattr(reads, "_now", lambda tapped_at=tapped_at: tapped_at)
        browser = PhoneBrowser(client)
        tap = browser.request("GET", url)
        assert tap.status_code == 302 and "src=push" in tap.headers["Location"]
        assert browser.get(tap.headers["Location"]).status_code == 200
        taps.append((browser, url))
    monkeypatch.setattr(
        reads, "_now", lambda: verify_link(parse_qs(urlparse(taps[0][1]).query)["t"][0]).issued_at + timedelta(days=3)
    )
    again = taps[0][0].request("GET", taps[0][1])  # the same fan opens his push again: not a first read
    assert again.status_code == 302
    forwarded = PhoneBrowser(client, openid="o-someone-else")  # a forwarded push read under OAuth is a link read
    forwarded.get(f"/m/{PLAIN_APPID}/subscribe")
    assert forwarded.request("GET", taps[1][1]).status_code == 302
    pump.drain()

    job = PushJob.get(job_id)
    totals = _series(admin, content.content_id)["totals"]
    assert totals["pushes_planned"] == job.planned == len(plain) + 2
    assert (totals["pushes_planned_template"], totals["pushes_sent"]) == (job.sent_template, job.sent_template)
    assert totals["pushes_planned_unread"] == totals["pushes_unread"] == job.queued_unread
    assert totals["pushes_planned_notice"] == job.sent_notice and totals["pushes_planned_custom"] == job.sent_custom
    assert totals["pushes_planned_none"] == job.suppressed
    true_median = statistics.median_low(DELAYS)
    assert totals["first_reads"] == len(DELAYS)
    low, high = totals["median_first_read_bucket"]
    assert low <= true_median < high and totals["median_first_read_seconds"] == high
    points = _series(admin, content.content_id)["points"]
    assert sum(p["first_reads"] for p in points) == len(DELAYS)
    assert sum(p["pushes_planned"] for p in points) == job.planned

    today = date.fromisoformat(china_day())
    closing.rebuild(today - timedelta(days=1), today)  # the roll-ups' rebuild: the source counters stay as they are
    assert _series(admin, content.content_id)["totals"] == totals
    assert check_rollups.main(["--from", (today - timedelta(days=1)).isoformat(), "--to", today.isoformat()]) == 0


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.integers(min_value=0, max_value=10 * 86400), min_size=1, max_size=40))
def test_the_median_bucket_holds_the_median_of_the_delays(delays):
    counters: dict[str, int] = {}
    for delay in delays:
        name = first_reads.counter_name(delay)
        counters[name] = counters.get(name, 0) + 1
    low, high = first_reads.median(first_reads.histogram(counters))
    true_median = statistics.median_low(delays)
    assert low <= true_median and (high is None or true_median < high)
    assert high is None or sum(d < high for d in delays) * 2 >= len(delays)  # "half came within high seconds"
