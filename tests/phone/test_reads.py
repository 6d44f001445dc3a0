"""Reads count once per reader, per day, per source — on the content and on the screen it came through."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib import links
from chalicelib.models import DailyStat, Fan
from chalicelib.models.stats import china_day
from chalicelib.services.content import reads
from tests.phone.conftest import PhoneBrowser, publish
from tests.support import PLAIN_APPID


def counters(subject: str) -> dict[str, int]:
    try:
        stat = DailyStat.get(subject, china_day())
    except DailyStat.DoesNotExist:
        return {}
    return {
        name: stat.counter(name)
        for name in ("reads_push", "reads_mirror", "reads_menu", "reads_link")
        if stat.counter(name)
    }


def test_each_source_counts_once_a_day_per_fan(browser, gw):
    gw.follow("o-page", scene="NJ002")
    publish("c_r", "垃圾分类新规", screens=["NJ001", "NJ002"])
    browser.get(f"/m/{PLAIN_APPID}/mine")  # signed in through WeChat
    page = f"/m/{PLAIN_APPID}/content/c_r"
    for _ in range(3):  # reloads, back button
        assert browser.get(f"{page}?src=mirror&s=NJ001").status_code == 200
        assert browser.get(f"{page}?src=menu").status_code == 200
    browser.get(links.push_link(PLAIN_APPID, "o-page", "c_r"))
    browser.get(links.push_link(PLAIN_APPID, "o-page", "c_r"))
    assert counters("content#c_r") == {"reads_mirror": 1, "reads_menu": 1, "reads_push": 1}
    # the screen it came through: named by the mirror link, else the fan's own screen among the targets
    assert counters("screen#NJ001") == {"reads_mirror": 1}
    assert counters("screen#NJ002") == {"reads_menu": 1, "reads_push": 1}


def test_other_readers_count_separately_and_anonymous_readers_once(test_client, demo):
    publish("c_s", "科普讲座预告", screens=["NJ001"])
    url = f"/m/{PLAIN_APPID}/content/c_s?src=link"
    for openid in ("o-1", "o-2"):
        reader = PhoneBrowser(test_client)
        reader.get(links.push_link(PLAIN_APPID, openid, "c_s"))
    stranger = PhoneBrowser(test_client)  # a shared link opened outside WeChat
    for _ in range(3):
        assert stranger.get(url).status_code == 200
    assert any(c.startswith("ks_v=") for c in stranger.set_cookie_log)
    another = PhoneBrowser(test_client)
    another.get(url)
    assert counters("content#c_s") == {"reads_push": 2, "reads_link": 2}
    assert counters("screen#NJ001") == {"reads_push": 2, "reads_link": 2}


def test_unknown_source_reads_as_a_shared_link(browser, demo):
    publish("c_u", "健康讲座", screens=["NJ001"])
    browser.get(f"/m/{PLAIN_APPID}/content/c_u?src=<evil>")
    assert counters("content#c_u") == {"reads_link": 1}


def test_record_read_is_idempotent_per_day(demo):
    today = datetime.now(UTC)
    kwargs = {"appid": PLAIN_APPID, "reader": "o-x", "content_id": "c_d", "screen_id": "NJ001", "source": "push"}
    assert reads.record_read(**kwargs, now=today) is True
    assert reads.record_read(**kwargs, now=today) is False
    assert reads.record_read(**kwargs, now=today + timedelta(days=1)) is True  # a new day counts again
    assert DailyStat.get("content#c_d", china_day(today)).counter("reads_push") == 1


def test_mark_seen_ignores_unknown_fans(demo):
    reads.mark_seen(PLAIN_APPID, "o-nobody", "c_x")  # no fan item: nothing to do, nothing created
    assert Fan.count() == 0


def test_inside_wechat_reading_pages_learn_the_reader_silently(test_client, gw):
    gw.follow("o-wx", scene="NJ002")
    publish("c_w", "冬季用电安全", screens=["NJ001", "NJ002"])
    in_wechat = {"User-Agent": "Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 MicroMessenger/8.0.50 NetType/WIFI"}
    reader = PhoneBrowser(test_client, openid="o-wx")
    first = reader.request("GET", f"/m/{PLAIN_APPID}/content/c_w?src=menu", headers=in_wechat)
    assert first.status_code == 302 and "snsapi_base" in first.headers["Location"]
    assert reader.get(first.headers["Location"]).status_code == 200
    assert reader.session_cookie() is not None
    assert counters("screen#NJ002") == {"reads_menu": 1}  # attributed to his own screen
    # outside WeChat the same link stays anonymous instead of hitting WeChat's "open in WeChat" page
    outside = PhoneBrowser(test_client).request("GET", f"/m/{PLAIN_APPID}/content/c_w?src=link")
    assert outside.status_code == 200
