"""What the pages show: the centre's order and search, the mirror, the content page, errors."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.aws import client as aws_client
from chalicelib.models import DailyStat, Fan, Screen
from chalicelib.models.content import WITHDRAWN
from chalicelib.models.stats import CHINA_TZ
from chalicelib.services.screens.manifest_store import manifest_key
from chalicelib.settings import get_settings
from tests.phone.conftest import PhoneBrowser, add_regions, manifest_item, publish, write_manifest
from tests.support import PLAIN_APPID, SAFE_APPID

NOW = datetime.now(UTC)
PAGE_LIMIT = 100 * 1024


def text(response) -> str:
    body = response.body.decode()
    assert "Traceback" not in body and len(response.body) < PAGE_LIMIT
    return body


def order_of(body: str, *needles: str) -> list[int]:
    return [body.index(n) for n in needles]


@pytest.fixture
def wider_tree(demo):
    """Another district's unit with screens, and a screen in a different tree altogether."""
    from chalicelib.models import Unit

    add_regions()
    Unit(
        "east",
        root_id="prov",
        path="prov/east/",
        parent_id="prov",
        name="东区科协",
        province="江苏省",
        city="南京市",
        district="栖霞区",
    ).save()
    Screen("EA001", unit_id="east", name="栖霞图书馆", address="栖霞区文苑路9号", appid=PLAIN_APPID).save()
    Unit("far", root_id="far", path="far/", name="外省科技馆", province="浙江省", city="杭州市").save()
    Screen("HZ001", unit_id="far", name="杭州科技馆", appid=PLAIN_APPID).save()


def test_centre_lists_near_screens_first_then_by_region(browser, wider_tree):
    write_manifest("NJ001", [manifest_item("c1", "防震减灾知识", published=NOW - timedelta(hours=2))])
    body = text(browser.get(f"/m/{PLAIN_APPID}/subscribe"))
    # near: the account's own unit (市科协); then the rest of the tree by region and unit
    regions = ("江苏省 南京市 玄武区", "江苏省 南京市 栖霞区")
    near, own, xuanwu, qixia = order_of(body, "离您最近", "市科技馆大厅", *regions)
    assert near < own < min(xuanwu, qixia)
    assert body.index("社区服务中心", xuanwu) < body.index("幸福社区服务中心", xuanwu)  # region, then unit
    assert body.index("东区科协", qixia) < body.index("栖霞图书馆", qixia)
    assert "杭州科技馆" not in body  # another tree appears only when searched by code
    # each card: unit, address, fan count, what it shows now
    assert "鼓楼区北京东路1号" in body and "0 位居民订阅" in body
    assert re.search(r"正在播放</span><a href=\"[^\"]+/content/c1\?src=mirror&amp;s=NJ001\">防震减灾知识", body)


def test_centre_search_by_name_code_and_other_tree(browser, wider_tree):
    body = text(browser.get(f"/m/{PLAIN_APPID}/subscribe?q=图书馆"))
    assert "市图书馆" in body and "栖霞图书馆" in body and "市科技馆大厅" not in body
    body = text(browser.get(f"/m/{PLAIN_APPID}/subscribe?q=sq001"))
    assert "幸福社区服务中心" in body and "市图书馆" not in body
    body = text(browser.get(f"/m/{PLAIN_APPID}/subscribe?q=HZ001"))
    assert "按编号找到" in body and "杭州科技馆" in body
    body = text(browser.get(f"/m/{PLAIN_APPID}/subscribe?q=" + "长" * 300))
    assert "没有找到" in body


def test_centre_pages_through_a_large_tree(browser, demo):
    for i in range(45):
        Screen(f"BIG{i:03d}", unit_id="city", name=f"大屏{i:03d}", appid=PLAIN_APPID).save()
    first = text(browser.get(f"/m/{PLAIN_APPID}/subscribe"))
    assert "第 1 / 2 页" in first and "下一页" in first
    second = text(browser.get(f"/m/{PLAIN_APPID}/subscribe?page=2"))
    assert "第 2 / 2 页" in second and "幸福社区服务中心" in second
    assert text(browser.get(f"/m/{PLAIN_APPID}/subscribe?page=99")).count("第 2 / 2 页") == 1


def test_centre_does_not_scan(browser, demo, monkeypatch):
    from pynamodb.models import Model

    def no_scan(*args, **kwargs):
        raise AssertionError("the subscription centre must not scan")

    monkeypatch.setattr(Model, "scan", classmethod(no_scan))
    assert browser.get(f"/m/{PLAIN_APPID}/subscribe?q=NJ").status_code == 200


def test_mirror_shows_what_is_valid_now_newest_first(browser, demo):
    later = NOW + timedelta(days=1)
    today = NOW.astimezone(CHINA_TZ).isoweekday()
    not_today = today % 7 + 1
    write_manifest(
        "NJ001",
        [
            manifest_item("c_old", "旧通知", published=NOW - timedelta(days=3)),
            manifest_item("c_new", "新文章", published=NOW - timedelta(hours=1), kind="article"),
            manifest_item("c_future", "明天才生效", published=NOW, valid_from=later.isoformat()),
            manifest_item("c_past", "已经过期", published=NOW, valid_until=(NOW - timedelta(minutes=1)).isoformat()),
            manifest_item(
                "c_never",
                "今天不播放",
                published=NOW,
                weekly_windows=[{"days": [not_today], "start": "00:00", "end": "24:00"}],
            ),
            manifest_item(
                "c_today",
                "今天全天播放",
                published=NOW - timedelta(hours=5),
                weekly_windows=[{"days": [today], "start": "00:00", "end": "24:00"}],
            ),
        ],
    )
    body = text(browser.get(f"/m/{PLAIN_APPID}/screens/NJ001"))
    assert "市科技馆大厅" in body and "市科协" in body
    listing = body[body.index("大屏上的全部内容") :]
    assert listing.index("新文章") < listing.index("今天全天播放") < listing.index("旧通知")
    for hidden in ("明天才生效", "已经过期", "今天不播放"):
        assert hidden not in body
    # the first current item in playlist order is what plays when no player report is fresh
    assert re.search(r"正在播放.*?旧通知", body, re.S)


def test_mirror_urgent_item_and_player_report(browser, demo):
    write_manifest(
        "NJ002",
        [
            manifest_item("c_a", "普通内容A", published=NOW - timedelta(hours=3)),
            manifest_item("c_b", "普通内容B", published=NOW - timedelta(hours=2)),
        ],
    )
    screen = Screen.get("NJ002")
    screen.update(actions=[Screen.last_seen.set(NOW), Screen.heartbeat.set({"content_id": "c_b"})])
    body = text(browser.get(f"/m/{PLAIN_APPID}/screens/NJ002"))
    assert re.search(r'class="card playing".*?普通内容B', body, re.S)
    write_manifest(
        "NJ002",
        [
            manifest_item("c_a", "普通内容A", published=NOW - timedelta(hours=3)),
            manifest_item("c_u", "暴雨红色预警", published=NOW - timedelta(hours=5), priority="urgent"),
        ],
    )
    from chalicelib.services.screens import catalogue as screen_catalogue

    screen_catalogue.clear()
    body = text(browser.get(f"/m/{PLAIN_APPID}/screens/NJ002"))
    assert re.search(r'class="card playing".*?紧急.*?暴雨红色预警', body, re.S)


def test_mirror_marks_unread_items_for_subscription_account_fans(test_client, demo):
    write_manifest(
        "SQ001",
        [
            manifest_item("c_seen", "已读过的", published=NOW - timedelta(hours=3)),
            manifest_item("c_waiting", "还没推送到的", published=NOW - timedelta(hours=1)),
        ],
    )
    publish("c_waiting", "还没推送到的", screens=["SQ001"], unit_id="town")
    Fan(SAFE_APPID, "o-sub", following=True, active_screens={"SQ001"}, unread_content={"c_waiting"}).save()
    from chalicelib import links

    reader = PhoneBrowser(test_client)
    # a push link (customer-service message) names him; no web authorization exists for 订阅号
    reader.get(links.push_link(SAFE_APPID, "o-sub", "c_seen"))
    body = text(reader.get(f"/m/{SAFE_APPID}/screens/SQ001"))
    assert re.search(r'badge new">新</span><a href="[^"]+/content/c_waiting', body)
    assert not re.search(r'badge new">新</span><a href="[^"]+/content/c_seen', body)
    mine = text(reader.get(f"/m/{SAFE_APPID}/mine"))
    assert "未读内容" in mine and "还没推送到的" in mine and "幸福社区服务中心" in mine
    # reading it takes it off the list
    reader.get(f"/m/{SAFE_APPID}/content/c_waiting?src=mirror&s=SQ001")
    assert not Fan.get(SAFE_APPID, "o-sub").unread_content
    assert "未读内容" not in text(reader.get(f"/m/{SAFE_APPID}/mine"))


def test_mirror_without_manifest_and_unknown_screen(browser, demo):
    body = text(browser.get(f"/m/{PLAIN_APPID}/screens/NJ002"))
    assert "现在没有正在展示的内容" in body
    for bad in ("ZZ404", "..%2F..%2Fetc", "x" * 200):
        missing = browser.get(f"/m/{PLAIN_APPID}/screens/{bad}")
        assert missing.status_code == 404 and "找不到这块大屏" in text(missing)


def test_content_page_article_with_media(browser, demo, media_cdn):
    publish(
        "c_art",
        "秋冬季流感防护指南",
        screens=["NJ001"],
        kind="article",
        body='<p>勤洗手、常通风。</p><script>alert(1)</script><p onclick="x()">接种疫苗</p>'
        '<img src="javascript:alert(1)">',
        media=[{"key": "media/pic0.png", "type": "image/png"}, {"key": "media/clip.mp4", "type": "video/mp4"}],
        category="everyday",
    )
    body = text(browser.get(f"/m/{PLAIN_APPID}/content/c_art?src=mirror&s=NJ001"))
    assert "秋冬季流感防护指南" in body and "勤洗手、常通风。" in body and "生活百科" in body
    assert "<script" not in body and "onclick" not in body and "javascript:" not in body
    assert f'<img src="{media_cdn}/media/pic0.png"' in body
    assert f'<video src="{media_cdn}/media/clip.mp4" controls' in body
    assert "来自大屏" in body and "市科技馆大厅" in body and "发布单位：市科协" in body


def test_content_page_notice_keeps_paragraphs_escaped(browser, demo):
    publish("c_note", "停水通知", screens=["NJ001"], body="明天 9:00-12:00 停水\n请提前储水 <b>谢谢</b>")
    body = text(browser.get(f"/m/{PLAIN_APPID}/content/c_note"))
    assert "<p>明天 9:00-12:00 停水</p>" in body and "&lt;b&gt;谢谢&lt;/b&gt;" in body


@pytest.mark.parametrize(
    ("setup", "status", "words"),
    [
        (lambda: None, 404, "内容不存在"),
        (lambda: publish("c_x", "草稿", screens=["NJ001"], status="draft"), 404, "内容不存在"),
        (lambda: publish("c_x", "撤回了", screens=["NJ001"], status=WITHDRAWN), 410, "内容已下线"),
        (lambda: publish("c_x", "过期了", screens=["NJ001"], valid_until=NOW - timedelta(hours=1)), 410, "内容已下线"),
        (lambda: publish("c_x", "还没开始", screens=["NJ001"], valid_from=NOW + timedelta(hours=1)), 404, "内容不存在"),
    ],
)
def test_content_outside_its_window(browser, demo, setup, status, words):
    setup()
    response = browser.get(f"/m/{PLAIN_APPID}/content/c_x")
    assert response.status_code == status and words in text(response)
    assert not list(DailyStat.query("content#c_x"))  # no read counted for what cannot be read


def test_unknown_account_and_broken_manifest_get_friendly_pages(browser, demo):
    unknown = browser.get("/m/wxnobody/subscribe")
    assert unknown.status_code == 404 and "找不到这个公众号" in text(unknown)
    assert browser.get("/m/wx..%2Fevil/subscribe").status_code == 404
    aws_client("s3").put_object(Bucket=get_settings().player_bucket, Key=manifest_key("NJ001"), Body=b"{not json")
    broken = browser.get(f"/m/{PLAIN_APPID}/screens/NJ001")
    body = text(broken)
    assert broken.status_code == 500 and "页面暂时打不开" in body and "JSONDecodeError" not in body


def test_pages_carry_security_headers(browser, demo):
    response = browser.get(f"/m/{PLAIN_APPID}/subscribe")
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "script-src" not in response.headers["Content-Security-Policy"]  # default-src 'none': no script at all
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "<script" not in response.body.decode()


def test_centre_and_search_survive_a_malformed_screen(browser, wider_tree):
    """A stored screen lacking its name (or with a mistyped attribute) must not break the public pages."""
    from chalicelib.services.screens import catalogue as screen_catalogue
    from tests.support import reset_process_caches

    table = Screen.Meta.table_name
    aws_client("dynamodb").put_item(
        TableName=table, Item={"screen_id": {"S": "EA002"}, "unit_id": {"S": "east"}, "appid": {"S": PLAIN_APPID}}
    )
    aws_client("dynamodb").put_item(
        TableName=table,
        Item={
            "screen_id": {"S": "EA003"},
            "unit_id": {"S": "east"},
            "appid": {"S": PLAIN_APPID},
            "name": {"S": "坏"},
            "fan_count": {"S": "many"},
        },
    )
    reset_process_caches()
    screen_catalogue._trees.clear()
    for query in ("", "?q=图书馆", "?q=EA002", "?q=EA003"):
        r = browser.get(f"/m/{PLAIN_APPID}/subscribe{query}")
        assert r.status_code == 200, (query, r.status_code)
        assert "栖霞图书馆" in text(r) or query.startswith("?q=EA")
