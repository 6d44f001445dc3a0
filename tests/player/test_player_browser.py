"""The player in a real browser (Debian's Chromium), served by the local CDN, talking to the app over HTTP.

Time is controlled with Playwright's ``page.clock``: the page's clock is paused
and moved on explicitly, so durations, polls and windows are exact and the
tests take seconds.  Screenshots of each content type land in
``artifacts/screenshots/``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest

pytestmark = pytest.mark.browser
playwright_sync = pytest.importorskip("playwright.sync_api")

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def _last_tuesday_ten() -> datetime:
    """The latest Tuesday 10:00 China time in the past: plays must not come from the future."""
    moment = datetime.now(UTC).replace(hour=2, minute=0, second=0, microsecond=0)  # 10:00 in China
    while moment.weekday() != 1 or moment > datetime.now(UTC):
        moment -= timedelta(days=1)
    return moment


T0 = _last_tuesday_ten()


@dataclass
class System:
    api: object
    cdn: object
    pump: object
    key: str
    bucket: str

    @property
    def player_url(self) -> str:
        return f"{self.cdn.base_url}/player/index.html?screen=NJ001&key={self.key}&flush=3600"

    def manifest(self) -> dict:
        body = boto3.client("s3").get_object(Bucket=self.bucket, Key="screens/NJ001/manifest.json")["Body"]
        return json.loads(body.read())

    def stop(self) -> None:
        from devstack.cdn import close_connections

        self.cdn.stop()
        self.api.server.shutdown()
        self.api.server.server_close()
        close_connections(self.api.server)

    def restart(self) -> None:
        from app import app
        from devstack.cdn import start_cdn

        self.cdn = start_cdn(self.bucket, port=self.cdn.server_address[1])
        self.api = _api(app, port=self.api.server.server_address[1])


def _api(app, port=0):
    from devstack.cdn import track_connections
    from devstack.local_api import start_api

    server = start_api(app, port=port)
    track_connections(server.server)
    return server


@pytest.fixture(scope="module")
def browser(playwright_driver):
    from devstack.browser import launch

    b = launch(playwright_driver)
    yield b
    b.close()


@pytest.fixture(scope="module")
def media_files(browser):
    from devstack.browser import make_png, make_webm

    page = browser.new_page()
    page.set_content("<html><body></body></html>")
    files = {"png": make_png(page, "显微镜下的雪花"), "webm": make_webm(page, "科普短片", seconds=2.0)}
    page.close()
    return files


@pytest.fixture
def system(aws, demo, monkeypatch):
    from app import app
    from chalicelib.models.screens import Screen
    from chalicelib.resources import queue_specs
    from chalicelib.settings import get_settings
    from devstack.cdn import start_cdn
    from devstack.local_api import base_url
    from devstack.screens_local import enroll_screen
    from devstack.sqs_pump import SqsPump
    from tools.upload_player import upload_player

    bucket = get_settings().player_bucket
    api = _api(app)
    cdn = start_cdn(bucket)
    monkeypatch.setenv("PUBLIC_BASE_URL", base_url(api))
    monkeypatch.setenv("CDN_BASE_URL", cdn.base_url)
    get_settings.cache_clear()
    upload_player(bucket)
    key = enroll_screen("NJ001")
    Screen("NJ001").update(actions=[Screen.qr_url.set("http://weixin.qq.com/q/02kepuNJ001"), Screen.fan_count.set(128)])
    pump = SqsPump(app, specs=queue_specs(get_settings()), visibility_override=0, stage="test")
    s = System(api, cdn, pump, key, bucket)
    yield s
    s.stop()
    monkeypatch.undo()
    get_settings.cache_clear()


def _page(browser, system, *, t0=T0, service_workers="block", viewport=(1280, 720), url=None):
    context = browser.new_context(
        viewport={"width": viewport[0], "height": viewport[1]}, service_workers=service_workers
    )
    page = context.new_page()
    page.clock.install(time=t0 - timedelta(seconds=1))  # pause_at must not be in the clock's past
    page.clock.pause_at(t0)
    page.goto(url or system.player_url)
    return page


def _playing(page) -> str:
    return page.evaluate("document.body.dataset.playing")


def _wait_playing(page, content_id: str, timeout: float = 5000) -> None:
    page.wait_for_function("id => document.body.dataset.playing === id", arg=content_id, timeout=timeout)


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(900)  # the fade-in is a CSS animation, in real time
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def _stat(kind: str, ident: str, day: str) -> int:
    from chalicelib.models.stats import DailyStat

    try:
        return DailyStat.get(f"{kind}#{ident}", day).counter("plays")
    except DailyStat.DoesNotExist:
        return 0


def test_plays_in_order_with_durations_and_reports_exactly_once(browser, system, media_files):
    from devstack.screens_local import publish, put_media

    image = put_media(media_files["png"], "image/png", "png")
    publish(
        "c_art",
        ["NJ001"],
        kind="article",
        title="雪花为什么是六边形？",
        duration=4,
        category="frontier",
        body="<p>水分子通过氢键连接，在结冰时排列成六方晶格。</p><p>雪花在云中生长时，温度和湿度决定它长成"
        "星状、针状还是柱状。每一片雪花所经历的路径都不同，所以几乎找不到两片完全相同的雪花。</p>",
    )
    publish("c_img", ["NJ001"], kind="image", title="显微镜下的雪花", media=[image], duration=6)
    publish(
        "c_notice",
        ["NJ001"],
        kind="notice",
        title="社区义诊通知",
        duration=5,
        category="community_notice",
        body="本周六上午9点至11点，市第一医院专家在社区服务中心提供免费义诊，请携带医保卡。",
    )
    system.pump.drain()
    order = [i["content_id"] for i in system.manifest()["items"]]
    assert order == ["c_notice", "c_img", "c_art"]

    page = _page(browser, system)
    plays_requests: list[str] = []
    page.on("request", lambda r: plays_requests.append(r.method) if r.url.endswith("/plays") else None)
    _wait_playing(page, "c_notice")
    _shot(page, "notice-landscape")
    assert "社区义诊通知" in page.inner_text("#ticker-text")
    assert page.inner_text(".fans") == "已有 128 人订阅" and page.query_selector("#qr svg")
    timeline = []
    for _ in range(16):  # 16 s: notice 5 s, image 6 s, article 4 s, then the notice again
        timeline.append(_playing(page))
        page.clock.run_for(1000)
        if _playing(page) == "c_art" and timeline[-1] != "c_art":
            _shot(page, "article-landscape")
    assert timeline == ["c_notice"] * 5 + ["c_img"] * 6 + ["c_art"] * 4 + ["c_notice"]

    # proof of play: three plays; the first upload's answer is lost, the retry must not count twice
    lost = {"n": 0}

    def lose_first_answer(route):
        response = route.fetch()
        if lost["n"] == 0:
            lost["n"] = 1
            return route.abort()
        return route.fulfill(response=response)

    page.route("**/plays", lose_first_answer)
    page.evaluate("window.kepuPlayer.flush()")
    page.wait_for_function("() => window.kepuPlayer && JSON.parse(localStorage['kepu.plays']).length === 3")
    page.wait_for_timeout(300)
    page.evaluate("window.kepuPlayer.flush()")
    page.wait_for_function("() => JSON.parse(localStorage['kepu.plays'] || '[]').length === 0")
    from chalicelib.models.stats import china_day

    day = china_day(T0)
    assert (_stat("content", "c_notice", day), _stat("content", "c_img", day), _stat("content", "c_art", day)) == (
        1,
        1,
        1,
    )
    assert _stat("screen", "NJ001", day) == 3
    assert plays_requests.count("POST") == 2

    from chalicelib.models.screens import Screen

    screen = Screen.get("NJ001")
    beat = screen.heartbeat.as_dict()
    assert beat["manifest_version"] == system.manifest()["version"] and beat["player_version"] != "dev-build"
    assert beat["screen_width"] == 1280


def test_screenshots_of_each_content_type(browser, system, media_files):
    from chalicelib.aws import send_json
    from chalicelib.settings import get_settings
    from devstack.screens_local import publish, put_media

    send_json(
        get_settings().manifest_queue_name, {"type": "rebuild", "screen_ids": ["NJ001"], "reason": "screen_updated"}
    )
    system.pump.drain()
    page = _page(browser, system)
    page.wait_for_function("document.body.dataset.version !== ''")
    _wait_playing(page, "idle")
    assert page.query_selector(".slide.idle:not(.out) .qr svg") and "128" in page.inner_text(".slide.idle:not(.out)")
    _shot(page, "idle-no-content")
    page.close()
    portrait_idle = _page(browser, system, viewport=(1080, 1920))
    _wait_playing(portrait_idle, "idle")
    _shot(portrait_idle, "idle-portrait")
    portrait_idle.close()

    image = put_media(media_files["png"], "image/png", "png")
    clip = put_media(media_files["webm"], "video/webm", "webm")
    link_key = "demo/link.html"
    boto3.client("s3").put_object(
        Bucket=system.bucket,
        Key=link_key,
        ContentType="text/html; charset=utf-8",
        Body="<body style='font:40px sans-serif;padding:2em'><h1>科普网页示例</h1>"
        "<p>链接内容在沙箱框架中显示。</p></body>".encode(),
    )
    publish(
        "c_link", ["NJ001"], kind="link", title="科普网页", link_url=f"{system.cdn.base_url}/{link_key}", duration=5
    )
    publish("c_video", ["NJ001"], kind="video", title="科普短片", media=[clip], duration=30)
    publish("c_img", ["NJ001"], kind="image", title="显微镜下的雪花", media=[image], duration=5)
    system.pump.drain()
    page = _page(browser, system)
    _wait_playing(page, "c_img")
    page.wait_for_function("document.querySelector('.slide.image img')?.complete")
    _shot(page, "image-landscape")
    page.clock.run_for(5000)
    _wait_playing(page, "c_video")
    page.wait_for_function("document.querySelector('.slide.video video')?.currentTime > 0.3")
    _shot(page, "video-landscape")
    # the clip is 2 s long and its item says 30 s: the player advances when the video ends (real time here)
    _wait_playing(page, "c_link", timeout=8000)
    page.wait_for_timeout(500)
    assert page.get_attribute(".slide.link iframe", "sandbox") == "allow-scripts"
    _shot(page, "link-landscape")
    page.close()

    portrait = _page(browser, system, viewport=(1080, 1920))
    _wait_playing(portrait, "c_img")
    portrait.wait_for_function("document.querySelector('.slide.image img')?.complete")
    _shot(portrait, "image-portrait")
    portrait.close()


def test_new_publish_shows_within_poll_interval_and_urgent_interrupts(browser, system):
    from devstack.screens_local import publish, withdraw

    publish("c_a", ["NJ001"], title="甲", body="第一条", duration=8)
    system.pump.drain()
    page = _page(browser, system)
    _wait_playing(page, "c_a")

    publish("c_b", ["NJ001"], title="乙：新发布", body="第二条", duration=8)
    system.pump.drain()
    seen_at = None
    for second in range(1, 19):  # poll interval 10 s + the current item's remaining time at most
        page.clock.run_for(1000)
        page.wait_for_timeout(60)
        if _playing(page) == "c_b":
            seen_at = second
            break
    assert seen_at is not None and seen_at <= 10 + 8

    publish(
        "c_u",
        ["NJ001"],
        kind="notice",
        title="紧急：暴雨红色预警",
        priority="urgent",
        duration=10,
        body="今天下午有特大暴雨，请居民减少外出，远离低洼地带。",
    )
    system.pump.drain()
    page.clock.run_for(10_000)
    _wait_playing(page, "c_u", timeout=3000)  # at once: no item boundary needed
    _shot(page, "urgent-landscape")
    for _ in range(4):  # stays while valid
        page.clock.run_for(10_000)
        assert _playing(page) == "c_u"
    withdraw("c_u")
    system.pump.drain()
    page.clock.run_for(10_000)
    page.wait_for_function("document.body.dataset.playing !== 'c_u'", timeout=3000)
    assert _playing(page) in ("c_a", "c_b")


def test_validity_and_weekly_windows_on_the_player_clock(browser, system):
    from devstack.screens_local import publish

    # Tuesday 09:59:50 China time, in the future: the builder drops content already expired on the server's clock
    start = T0 + timedelta(days=7) - timedelta(seconds=10)
    publish("c_always", ["NJ001"], title="常驻", duration=5)
    publish(
        "c_window",
        ["NJ001"],
        title="周二上午十点起",
        duration=5,
        weekly_windows=[{"days": [2], "start": "10:00", "end": "10:01"}],
    )
    publish(
        "c_valid",
        ["NJ001"],
        title="限时",
        duration=5,
        valid_from=start + timedelta(seconds=90),
        valid_until=start + timedelta(seconds=100),
    )
    publish(
        "c_monday",
        ["NJ001"],
        title="只在周一",
        duration=5,
        weekly_windows=[{"days": [1], "start": "00:00", "end": "24:00"}],
    )
    system.pump.drain()
    page = _page(browser, system, t0=start)
    page.wait_for_function("document.body.dataset.playing === 'c_always'")
    seen: dict[int, str] = {}
    for second in range(0, 130):
        seen[second] = _playing(page)
        page.clock.run_for(1000)
    shown = {cid for cid in seen.values()}
    assert "c_monday" not in shown
    assert all(cid == "c_always" for s, cid in seen.items() if s < 10)
    window_seconds = [s for s, cid in seen.items() if cid == "c_window"]
    assert window_seconds and min(window_seconds) >= 10 and max(window_seconds) < 70
    valid_seconds = [s for s, cid in seen.items() if cid == "c_valid"]
    assert valid_seconds and min(valid_seconds) >= 90 and max(valid_seconds) < 100


def test_keeps_playing_offline_and_recovers(browser, system, media_files):
    from devstack.screens_local import publish, put_media

    image = put_media(media_files["png"], "image/png", "png")
    publish("c_img", ["NJ001"], kind="image", title="显微镜下的雪花", media=[image], duration=5)
    publish("c_txt", ["NJ001"], title="离线也能看", body="网络中断时继续播放缓存的节目。", duration=5)
    system.pump.drain()
    page = _page(browser, system, service_workers="allow")
    _wait_playing(page, "c_txt")
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=10_000)
    page.wait_for_function(
        "caches.open('kepu-media').then(c => c.keys()).then(k => window.__media = k.length) && window.__media === 1",
        timeout=10_000,
    )

    system.stop()  # CDN and API gone
    page.clock.run_for(10_000)  # a poll fails
    page.wait_for_function("!document.getElementById('status').hidden", timeout=5000)
    seen = set()
    for _ in range(20):
        page.clock.run_for(1000)
        seen.add(_playing(page))
    assert seen == {"c_img", "c_txt"}
    page.wait_for_function("document.querySelector('.slide.image img')?.naturalWidth > 0")
    page.reload()  # even a reload with the network down: the service worker has the player and the manifest
    page.wait_for_function("['c_img', 'c_txt'].includes(document.body.dataset.playing)", timeout=10_000)
    _shot(page, "offline-after-reload")
    queued = page.evaluate("JSON.parse(localStorage['kepu.plays'] || '[]').length")
    assert queued >= 4

    system.restart()
    publish("c_back", ["NJ001"], title="网络恢复", duration=5)
    system.pump.drain()
    for _ in range(30):
        page.clock.run_for(1000)
        page.wait_for_timeout(50)
        if _playing(page) == "c_back":
            break
    assert _playing(page) == "c_back"
    assert page.evaluate("document.getElementById('status').hidden")
    page.evaluate("window.kepuPlayer.flush()")
    page.wait_for_function("JSON.parse(localStorage['kepu.plays'] || '[]').length === 0", timeout=5000)


def _timeline(page, seconds: int) -> list[str]:
    """What plays at each of the next ``seconds`` seconds of the page's clock (polls answered in real time)."""
    seen = []
    for _ in range(seconds):
        page.clock.run_for(1000)
        page.wait_for_timeout(80)
        seen.append(_playing(page))
    return seen


def test_fresh_item_cuts_in_after_min_dwell_and_urgent_stays_immediate(browser, system):
    from devstack.screens_local import publish

    publish("c_long", ["NJ001"], title="长条目", body="三十秒", duration=30)
    publish("c_short", ["NJ001"], title="短条目", body="八秒", duration=8)
    system.pump.drain()
    assert [i["content_id"] for i in system.manifest()["items"]] == ["c_short", "c_long"]
    page = _page(browser, system)
    _wait_playing(page, "c_short")
    seen = _timeline(page, 7)  # t = 1..7 s
    publish("c_new", ["NJ001"], title="新发布", body="刚刚发布的内容", duration=30)
    system.pump.drain()
    seen += _timeline(page, 5)  # t = 8..12 s; c_long starts at 8 s, the poll at 10 s finds c_new
    page.clock.run_for(1000)  # 13 s: c_long has had its minimum dwell
    page.wait_for_timeout(250)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "fresh-cut-in-mid-transition.png"))  # the cross-fade, not a jump
    _shot(page, "fresh-cut-in")
    seen += [_playing(page), *_timeline(page, 4)]
    assert seen[:7] == ["c_short"] * 7
    # c_long had been on screen 2 s at the poll: it keeps its minimum dwell of 5 s, then c_new plays
    # (its full duration would have ended at 38 s)
    assert seen[7:12] == ["c_long"] * 5 and seen[12:] == ["c_new"] * 5, seen
    assert page.locator(".slide.notice:not(.out) h1").inner_text() == "新发布"

    # an urgent notice does not wait for any dwell: c_new has been on screen only 5 s when the tab
    # becomes visible again, and the poll that this triggers brings the urgent notice at once
    publish("c_u", ["NJ001"], title="紧急：停电通知", priority="urgent", duration=10, body="今晚检修线路。")
    system.pump.drain()
    requests = []
    page.on("request", lambda r: requests.append(r.url) if "manifest.json" in r.url else None)
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    _wait_playing(page, "c_u", timeout=3000)
    assert len(requests) == 1

    # afterwards the loop resumes where it was, and c_new is not cut in a second time
    from devstack.screens_local import withdraw

    withdraw("c_u")
    system.pump.drain()
    after = _timeline(page, 12)
    assert "c_u" not in after[-2:] and set(after) - {"c_u"} <= {"c_long", "c_short", "c_new"}


def test_edits_and_reorders_wait_for_the_full_item_boundary(browser, system):
    from devstack.screens_local import publish

    publish("c_long", ["NJ001"], title="长条目", body="三十秒", duration=30)
    publish("c_short", ["NJ001"], title="短条目", body="八秒", duration=8)
    system.pump.drain()
    page = _page(browser, system)
    _wait_playing(page, "c_short")
    first_version = page.evaluate("document.body.dataset.version")
    seen = _timeline(page, 7)
    # an edit of an item the screen already plays (new title, and newer: it moves to the front), and a new
    # item that may not play yet: neither is fresh content to cut in for
    publish("c_short", ["NJ001"], title="短条目（已修改）", body="八秒", duration=8, revision=2)
    publish("c_later", ["NJ001"], title="明天起", body="尚未生效", duration=8, valid_from=T0 + timedelta(days=1))
    system.pump.drain()
    assert [i["content_id"] for i in system.manifest()["items"]] == ["c_later", "c_short", "c_long"]
    seen += _timeline(page, 31)  # t = 8..38 s
    assert seen[:7] == ["c_short"] * 7
    assert seen[7:37] == ["c_long"] * 30, seen  # the poll at 10 s does not shorten c_long
    assert page.evaluate("document.body.dataset.version") != first_version  # applied at the boundary (38 s)
    assert seen[37] == "c_short"
    assert page.locator(".slide.notice:not(.out) h1").inner_text() == "短条目（已修改）"


# ---------------------------------------------------------------- issue 11: what visitors and staff hit

LONG_NOTICE = "\n".join(
    [
        "因市政供水管网改造施工，本社区将于本周三上午八点至下午六点暂停供水，请居民提前储水，关好家中水龙头，"
        "防止恢复供水时跑水。施工期间社区服务中心一楼设临时供水点，可携带容器前往取水。",
        "恢复供水初期水质可能浑浊，请打开水龙头放水两到三分钟，待水质清澈后再饮用。如发现家中漏水或水压异常，"
        "请及时拨打物业服务电话，维修人员二十四小时值班，会尽快上门处理。",
        "高层住户请注意：二次供水设备需要重新加压，十五楼以上恢复时间可能晚半小时左右，请耐心等候，不要反复开关"
        "水阀。行动不便的老人和独居居民，可提前联系楼栋长，志愿者会帮助送水上门。",
        "本次改造完成后，小区老旧管道将全部更换为新型不锈钢管，供水压力和水质都会明显改善。感谢大家的理解与支持，"
        "施工给您带来的不便，敬请谅解。最后一句：全文到此结束。",
    ]
)


def _text_end_visible(page) -> bool:
    """The notice's last character lies inside every box that clips it (not cut off below)."""
    return page.evaluate("""() => {
      const s = document.querySelector('.slide.notice:not(.out)'); if (!s) return false;
      const text = s.querySelector('.text'), node = text.lastChild, range = document.createRange();
      range.setStart(node, node.length - 1); range.setEnd(node, node.length);
      const last = range.getBoundingClientRect();
      for (let e = text; e && e !== document.body; e = e.parentElement) {
        const st = getComputedStyle(e);
        if (st.overflow !== 'visible' && last.bottom > e.getBoundingClientRect().bottom + 1) return false;
      }
      return last.bottom <= innerHeight;
    }""")


@pytest.mark.parametrize("viewport", [(1920, 1080), (1080, 1920)], ids=["landscape", "portrait"])
def test_long_notice_scrolls_to_its_end_and_stays_until_read(browser, system, viewport):
    from devstack.screens_local import publish

    publish("c_long", ["NJ001"], title="停水通知", body=LONG_NOTICE, duration=15, category="community_notice")
    publish("c_next", ["NJ001"], title="下一条", body="短内容", duration=5)
    system.pump.drain()
    page = _page(browser, system, viewport=viewport)
    page.wait_for_function("document.body.dataset.version !== ''")
    page.clock.run_for(5000)  # c_next first (newer), then the long notice
    _wait_playing(page, "c_long")
    assert not _text_end_visible(page)  # the stage really is too small for it: the test means something
    name = "long-notice-" + ("landscape" if viewport[0] > viewport[1] else "portrait")
    _shot(page, name + "-start")
    end_seen = 0
    for _ in range(120):
        page.clock.run_for(1000)
        if _playing(page) != "c_long":
            break
        if _text_end_visible(page):
            if not end_seen:
                _shot(page, name + "-end")
            end_seen += 1
    assert end_seen >= 2, "the notice's end was never readable before it left the screen"
    assert _playing(page) == "c_next"


def test_urgent_item_without_an_end_stops_holding_the_screen_after_24_hours(browser, system):
    from devstack.screens_local import publish

    publish("c_normal", ["NJ001"], title="日常内容", duration=5)
    publish("c_u", ["NJ001"], title="停水通知", body="今天14:00-18:00停水。", priority="urgent", duration=10)
    system.pump.drain()
    urgent = next(i for i in system.manifest()["items"] if i["content_id"] == "c_u")
    published = datetime.fromisoformat(urgent["published_at"])
    assert datetime.fromisoformat(urgent["urgent_until"]) == published + timedelta(hours=24)
    page = _page(browser, system, t0=published + timedelta(seconds=5))
    _wait_playing(page, "c_u")
    page.clock.fast_forward("23:00:00")
    page.clock.run_for(2000)
    assert _playing(page) == "c_u"  # still within its day
    page.clock.fast_forward("01:00:00")
    page.clock.run_for(2000)
    assert _playing(page) == "c_normal"


def _boxes(page) -> dict:
    return page.evaluate("""() => {
      const r = id => { const b = document.getElementById(id).getBoundingClientRect();
        return {left: b.left, right: b.right, top: b.top, bottom: b.bottom, width: b.width, height: b.height}; };
      const date = document.getElementById('date'), px = e => parseFloat(getComputedStyle(e).fontSize);
      const q = s => document.querySelector(s);
      return {brand: r('brand'), clock: r('clock'), date: r('date'), top: r('top'), stage: r('stage'),
              ticker: r('ticker'), qr: r('qr'), unit: r('unit-name'), screen: r('screen-name'),
              dateClipped: date.scrollWidth > date.clientWidth + 1, dateLine: px(date) * 1.5,
              width: innerWidth, height: innerHeight,
              fonts: {date: px(date), fans: px(q('#fans')),
                      tag: q('.slide:not(.out) .tag') && px(q('.slide:not(.out) .tag')),
                      meta: q('.slide:not(.out) .meta') && px(q('.slide:not(.out) .meta'))}};
    }""")


@pytest.mark.parametrize("viewport", [(1920, 1080), (1080, 1920)], ids=["landscape", "portrait"])
def test_top_bar_text_sizes_and_qr_at_real_size_with_the_longest_names(browser, system, viewport):
    from chalicelib.aws import send_json
    from chalicelib.models.screens import Screen
    from chalicelib.models.units import Unit
    from chalicelib.settings import get_settings
    from devstack.screens_local import publish

    longest = 64  # PlainText(64): the longest screen and unit names the admin API accepts
    unit_id = Screen.get("NJ001").unit_id
    Unit(unit_id).update(actions=[Unit.name.set(("南京市玄武区玄武门街道科学技术协会" * 4)[:longest])])
    screen_name = ("玄武门街道社区党群服务中心一楼大厅东侧科普阅读屏" * 3)[:longest]
    Screen("NJ001").update(actions=[Screen.name.set(screen_name)])
    send_json(
        get_settings().manifest_queue_name, {"type": "rebuild", "screen_ids": ["NJ001"], "reason": "screen_updated"}
    )
    system.pump.drain()
    orientation = "landscape" if viewport[0] > viewport[1] else "portrait"

    page = _page(browser, system, viewport=viewport)
    _wait_playing(page, "idle")
    page.wait_for_function("document.querySelector('.slide.idle:not(.out) .qr svg')")  # the manifest's idle slide
    box = _boxes(page)
    assert box["stage"]["bottom"] >= box["ticker"]["top"] - 1, "empty band between the idle slide and the ticker"
    idle = page.evaluate("""() => {
      const box = s => { const b = document.querySelector('.slide.idle:not(.out) ' + s).getBoundingClientRect();
        return {top: b.top, bottom: b.bottom, width: b.width}; };
      return {qr: box('.qr'), big: box('.big'), subs: [...document.querySelectorAll('.slide.idle:not(.out) .sub')]
        .map(e => e.getBoundingClientRect().bottom)};
    }""")
    assert idle["qr"]["width"] >= 320
    # everything on the idle slide is on screen: names clamp, the QR code is never pushed off
    assert idle["big"]["top"] >= box["stage"]["top"] and idle["qr"]["bottom"] <= box["stage"]["bottom"]
    assert max(idle["subs"]) <= box["stage"]["bottom"]
    _shot(page, f"idle-longest-names-{orientation}")
    page.close()

    publish(
        "c_n",
        ["NJ001"],
        title="社区义诊通知",
        body="本周六上午9点至11点义诊。",
        duration=15,
        category="community_notice",
    )
    system.pump.drain()
    page = _page(browser, system, viewport=viewport)
    _wait_playing(page, "c_n")
    box = _boxes(page)
    _shot(page, f"top-bar-longest-names-{orientation}")
    assert box["brand"]["right"] <= box["clock"]["left"], "the names run under the clock"
    assert box["clock"]["right"] <= box["width"] and box["clock"]["top"] >= box["top"]["top"]
    assert box["clock"]["bottom"] <= box["top"]["bottom"] + 1
    assert not box["dateClipped"] and box["date"]["height"] <= box["dateLine"], "the date wraps or clips"
    for name in ("unit", "screen"):
        assert box[name]["width"] > 100 and box[name]["bottom"] <= box["top"]["bottom"] + 1
    assert min(box["fonts"].values()) >= 32, box["fonts"]
    assert box["qr"]["width"] >= 320 and box["qr"]["height"] >= 320


def test_a_window_that_opens_counts_as_fresh_content(browser, system):
    from devstack.screens_local import publish

    start = T0 + timedelta(days=7) - timedelta(seconds=10)  # Tuesday 09:59:50 China time
    publish("c_always", ["NJ001"], title="常驻", duration=60)
    publish(
        "c_window",
        ["NJ001"],
        title="十点开始",
        duration=5,
        weekly_windows=[{"days": [2], "start": "10:00", "end": "11:00"}],
    )
    system.pump.drain()
    page = _page(browser, system, t0=start)
    _wait_playing(page, "c_always")
    seen = [_playing(page)]
    for _ in range(20):
        page.clock.run_for(1000)
        seen.append(_playing(page))
    first = seen.index("c_window") if "c_window" in seen else None
    # c_always has been on screen longer than the minimum dwell when the window opens at 10 s: at once
    assert first is not None and 10 <= first <= 11, seen


def test_first_manifest_is_cached_for_offline_playback_after_a_reboot(browser, system):
    from devstack.screens_local import publish

    publish("c_txt", ["NJ001"], title="离线也能看", body="网络中断时继续播放缓存的节目。", duration=5)
    system.pump.drain()
    page = _page(browser, system, service_workers="allow")
    _wait_playing(page, "c_txt")
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=10_000)
    page.reload()  # the worker now sees the polls, which are answered 304 (the manifest never changes)
    _wait_playing(page, "c_txt")
    page.clock.run_for(21_000)
    page.wait_for_function(
        "caches.open('kepu-manifest').then(c => c.keys()).then(k => window.__m = k.length) && window.__m === 1",
        timeout=5000,
    )
    # a reboot that lost localStorage's copy, with the network down: the worker's copy plays
    page.evaluate(
        "Object.keys(localStorage).filter(k => k.startsWith('kepu.manifest') || k.startsWith('kepu.etag'))"
        ".forEach(k => localStorage.removeItem(k))"
    )
    system.stop()
    page.reload()
    page.wait_for_function("document.body.dataset.playing === 'c_txt'", timeout=10_000)
    system.restart()


@pytest.mark.parametrize("setup", ["query", "fragment"])
def test_player_key_never_travels_in_a_url_and_reports_need_no_preflight(browser, system, setup, monkeypatch):
    from devstack.local_api import QuietRequestHandler
    from devstack.screens_local import publish

    at_api: list[str] = []  # every request line the API server answers, preflights included
    monkeypatch.setattr(
        QuietRequestHandler, "log_message", lambda self, fmt, *args: at_api.append(str(args[0])) if args else None
    )

    publish("c_a", ["NJ001"], title="甲", body="第一条", duration=8)
    system.pump.drain()
    key = system.key
    url = (
        system.player_url
        if setup == "query"
        else f"{system.cdn.base_url}/player/index.html?screen=NJ001&flush=3600#key={key}"
    )
    context = browser.new_context(service_workers="block")
    page = context.new_page()
    seen: list = []
    page.on("request", lambda r: seen.append(r))
    now = datetime.now(UTC)
    page.clock.install(time=now - timedelta(seconds=1))
    page.clock.pause_at(now)
    page.goto(url)
    page.wait_for_function("document.body.dataset.version !== ''")
    assert key not in page.url
    page.clock.run_for(3000)  # the first heartbeat
    page.wait_for_timeout(800)
    later = [r for r in seen if not r.is_navigation_request()]
    for r in later:
        assert key not in r.url, r.url
        assert key not in (r.headers.get("referer") or ""), (r.url, r.headers.get("referer"))
    if setup == "fragment":
        assert all(key not in r.url for r in seen)
    beats = [r for r in later if r.url.endswith("/heartbeat")]
    assert beats, [r.url for r in later]
    for r in beats:  # a CORS simple request: no preflight before it
        headers = r.all_headers()
        assert r.method == "POST" and headers["content-type"].startswith("text/plain")
        assert "authorization" not in headers and "x-player-key" not in headers
    from chalicelib.models.screens import Screen

    for _ in range(20):
        if Screen.get("NJ001").last_seen is not None:
            break
        page.wait_for_timeout(100)
    assert Screen.get("NJ001").heartbeat.as_dict()["player_version"]
    page.clock.run_for(60_000)  # two more heartbeats (30 s)
    page.wait_for_timeout(800)
    reports = [line for line in at_api if "/screens/NJ001/" in line]
    assert reports and not [line for line in reports if line.startswith("OPTIONS")], reports
    assert len(reports) == len([r for r in seen if r.url.endswith(("/heartbeat", "/plays"))])  # one request each
    assert all(key not in line for line in at_api)
    context.close()
