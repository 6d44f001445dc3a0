"""Every phone page in headless Chromium at a phone's viewport, with JavaScript off.

Screenshots land in ``artifacts/screenshots/phone-*.png`` for a person to look
at; the test itself checks what a browser can: the pages load, forms work with
one tap and no script, Chinese is set in a CJK font, nothing overflows the
375-pixel width.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chalicelib import links
from chalicelib.models import Fan, Screen
from devstack.browser import ARGS as CHROMIUM_ARGS
from devstack.browser import CHROMIUM
from tests.phone.conftest import add_regions, manifest_item, publish, write_manifest
from tests.support import PLAIN_APPID, SAFE_APPID

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def chromium(playwright_driver):
    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium is not installed (make browser)")
    fonts = (
        subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False).stdout
        if shutil.which("fc-list")
        else ""
    )
    assert "CJK" in fonts, "no CJK font: install fonts-noto-cjk (make browser), or Chinese renders as boxes"
    browser = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()


@pytest.fixture
def phone(chromium):
    context = chromium.new_context(
        viewport={"width": 375, "height": 812},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        java_script_enabled=False,
        locale="zh-CN",
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.50 NetType/WIFI Language/zh_CN",
    )
    page = context.new_page()
    yield page
    context.close()


def seed_showcase(cdn: str) -> None:
    """A small but lifelike set: regions, fans, manifests with pictures, an urgent notice."""
    add_regions()
    Screen.get("NJ001").update(actions=[Screen.fan_count.set(128)])
    Screen.get("SQ001").update(actions=[Screen.fan_count.set(56), Screen.address.set("玄武区幸福路18号")])
    Screen(
        "NJ003", unit_id="city", name="鼓楼医院门诊大厅", address="鼓楼区中山路321号", appid=PLAIN_APPID, fan_count=342
    ).save()
    pic = [{"url": f"{cdn}/media/pic0.png", "type": "image/png"}]
    pic2 = [{"url": f"{cdn}/media/pic2.png", "type": "image/png"}]
    write_manifest(
        "NJ001",
        [
            manifest_item(
                "c_flu",
                "秋冬季流感防护指南",
                published=NOW - timedelta(hours=2),
                kind="article",
                category="everyday",
                media=pic,
                summary="勤洗手、常通风、接种疫苗，专家教你科学防流感。",
            ),
            manifest_item(
                "c_space",
                "中国空间站：在轨三年的科学成果",
                published=NOW - timedelta(days=1),
                kind="article",
                category="frontier",
                media=pic2,
                summary="从材料科学到生命科学，一文看懂空间站实验。",
            ),
            manifest_item(
                "c_water",
                "本周六上午停水通知",
                published=NOW - timedelta(hours=5),
                summary="因管网检修，北京东路片区周六 9:00-12:00 停水，请提前储水。",
            ),
        ],
    )
    write_manifest(
        "NJ003",
        [
            manifest_item(
                "c_storm",
                "暴雨蓝色预警：请减少外出",
                published=NOW - timedelta(minutes=30),
                priority="urgent",
                summary="预计今天下午有强降雨，请注意出行安全。",
            ),
        ],
    )
    write_manifest(
        "SQ001",
        [
            manifest_item(
                "c_class",
                "社区老年人智能手机课堂",
                published=NOW - timedelta(hours=8),
                category="community_news",
                summary="每周三下午两点，社区活动室。",
            )
        ],
    )
    publish(
        "c_flu",
        "秋冬季流感防护指南",
        screens=["NJ001"],
        kind="article",
        category="everyday",
        media=[{"key": "media/pic0.png", "type": "image/png"}],
        body="<p>进入秋冬季，气温下降，流感进入高发期。专家提醒，做好以下几点可以有效降低感染风险：</p>"
        "<h3>一、勤洗手</h3><p>用流动水和肥皂洗手不少于 20 秒，外出回家、饭前便后都要洗手。</p>"
        "<h3>二、常通风</h3><p>每天开窗通风 2～3 次，每次不少于 30 分钟。</p>"
        "<h3>三、接种疫苗</h3><p>接种流感疫苗是预防流感最有效的手段，老人和儿童尤其应当接种。</p>",
    )


def sign_in(page, url: str, openid: str) -> None:
    """Open a page inside 'WeChat': the stand-in's authorization page plays the user's part."""
    page.goto(url)
    if "模拟微信授权" in page.content():
        page.fill("input[name=openid]", openid)
        page.click("button[type=submit]")
        page.wait_for_load_state()


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"phone-{name}.png"), full_page=True)


def fits_phone(page) -> None:
    """No horizontal scrolling at 375 px, checked from layout boxes (JavaScript is off in the page)."""
    for box in page.locator("main > *").all():
        bounds = box.bounding_box()
        if bounds:
            assert bounds["x"] >= 0 and bounds["x"] + bounds["width"] <= 375 + 0.5, bounds


def test_screenshots_of_every_page(live_app, media_cdn, gw, phone):
    seed_showcase(media_cdn)
    gw.follow("o-shot", scene="NJ001")
    Fan.get(PLAIN_APPID, "o-shot")  # the gateway made him a fan

    sign_in(phone, links.subscription_centre(PLAIN_APPID), "o-shot")
    assert phone.url.startswith(live_app) and "订阅科普大屏" in phone.content()
    font = phone.locator("h1").first.evaluate("e => getComputedStyle(e).fontFamily")
    assert "Noto Sans CJK SC" in font and "PingFang SC" in font
    # one tap, no JavaScript: subscribe to the hospital screen
    card = phone.locator("article.card", has_text="鼓楼医院门诊大厅")
    card.get_by_role("button", name="订阅").click()
    phone.wait_for_load_state()
    assert "已订阅「鼓楼医院门诊大厅」" in phone.content()
    assert Screen.get("NJ003").fan_count == 343
    fits_phone(phone)
    shoot(phone, "subscribe")

    phone.goto(links.my_screens(PLAIN_APPID))
    assert "已订阅的大屏" in phone.content()
    fits_phone(phone)
    shoot(phone, "mine")

    phone.goto(links.screen_mirror(PLAIN_APPID, "NJ001"))
    assert "大屏上的全部内容" in phone.content()
    fits_phone(phone)
    shoot(phone, "mirror")

    phone.goto(links.screen_mirror(PLAIN_APPID, "NJ003"))
    assert "紧急" in phone.content()
    shoot(phone, "mirror-urgent")

    phone.goto(links.push_link(PLAIN_APPID, "o-shot", "c_flu"))
    assert "t=" not in phone.url and "勤洗手" in phone.content()
    image = phone.locator("article.doc img").first
    image.scroll_into_view_if_needed()
    assert image.evaluate("i => i.complete && i.naturalWidth") == 480  # the picture came from the CDN
    fits_phone(phone)
    shoot(phone, "content")

    publish("c_gone", "已撤回的通知", screens=["NJ001"], status="withdrawn")
    response = phone.goto(f"{live_app}/m/{PLAIN_APPID}/content/c_gone?src=mirror")
    assert response.status == 410
    shoot(phone, "error-410")

    response = phone.goto(f"{live_app}/m/{PLAIN_APPID}/screens/NOPE404")
    assert response.status == 404
    shoot(phone, "error-404")

    # a subscription account (订阅号): no web authorization, subscribe by reply
    phone.goto(links.subscription_centre(SAFE_APPID))
    assert "订阅 SQ001" in phone.content()
    shoot(phone, "subscribe-subscription-account")

    for name in ("subscribe", "mine", "mirror", "mirror-urgent", "content", "error-410", "error-404"):
        assert (SHOTS / f"phone-{name}.png").stat().st_size > 10_000


# ---------------------------------------------------------------- issue 11: tap targets, text, the follow prompt

TARGETS_AND_TEXT = """() => {
  const visible = e => { const r = e.getBoundingClientRect(); const st = getComputedStyle(e);
    return r.width > 0 && r.height > 0 && st.visibility !== 'hidden' && st.display !== 'none'; };
  const small = [];
  for (const e of document.querySelectorAll('a, button, input:not([type=hidden]), select, textarea')) {
    if (!visible(e) || e.closest('article.doc .body')) continue;  // links inside running text are exempt
    const r = e.getBoundingClientRect();
    if (r.width < 44 - 0.5 || r.height < 44 - 0.5) {
      small.push([e.textContent.trim() || e.name, Math.round(r.width), Math.round(r.height)]);
    }
  }
  const tiny = [];
  for (const e of document.querySelectorAll('body *')) {
    const own = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const size = getComputedStyle(e).fontSize;
    if (own && visible(e) && parseFloat(size) < 14) tiny.push([e.textContent.trim().slice(0, 20), size]);
  }
  return {small, tiny};
}"""


def test_tap_targets_are_44px_and_text_at_least_14px(live_app, media_cdn, gw, phone):
    seed_showcase(media_cdn)
    gw.follow("o-tap", scene="NJ001")
    sign_in(phone, links.subscription_centre(PLAIN_APPID), "o-tap")
    pages = {
        "subscribe": links.subscription_centre(PLAIN_APPID),
        "mine": links.my_screens(PLAIN_APPID),
        "mirror": links.screen_mirror(PLAIN_APPID, "NJ001"),
        "content": links.push_link(PLAIN_APPID, "o-tap", "c_flu"),
        "subscription-account": links.subscription_centre(SAFE_APPID),
        "mydata": links.my_data(PLAIN_APPID),
        "mydata-confirm": f"{links.my_data(PLAIN_APPID)}?confirm=1",
    }
    found = {}
    for name, url in pages.items():
        phone.goto(url)
        shoot(phone, f"targets-{name}")
        found[name] = phone.evaluate(TARGETS_AND_TEXT)
    assert all(not f["small"] for f in found.values()), {n: f["small"] for n, f in found.items() if f["small"]}
    assert all(not f["tiny"] for f in found.values()), {n: f["tiny"] for n, f in found.items() if f["tiny"]}


def test_follow_prompt_shows_the_account_and_a_qr_code_to_long_press(live_app, media_cdn, phone):
    import segno

    seed_showcase(media_cdn)
    Screen.get("NJ003").update(actions=[Screen.qr_url.set("http://weixin.qq.com/q/02kepuNJ003")])
    sign_in(phone, links.subscription_centre(PLAIN_APPID), "o-stranger")  # signed in, but does not follow
    phone.locator("article.card", has_text="鼓楼医院门诊大厅").get_by_role("button", name="订阅").click()
    phone.wait_for_load_state()
    text = phone.inner_text("main")
    assert "请先关注公众号" in text and "长按识别" in text and "市科普" in text
    qr = phone.locator("figure.follow img")
    box = qr.bounding_box()
    assert box["width"] >= 200 and box["height"] >= 200
    assert qr.get_attribute("src") == segno.make("http://weixin.qq.com/q/02kepuNJ003", error="m").png_data_uri(
        scale=6, border=2
    )  # the screen's own QR code: following through it also subscribes
    assert qr.evaluate("i => i.complete && i.naturalWidth > 0")
    fits_phone(phone)
    shoot(phone, "error-403-follow")


def test_my_data_page_erases_after_confirmation_in_a_browser(live_app, media_cdn, gw, phone):
    """我的数据 in a real browser, no JavaScript: the link from 我的大屏, the confirmation step, the erasure."""
    gw.follow("o-mydata", scene="NJ001")
    sign_in(phone, links.my_screens(PLAIN_APPID), "o-mydata")
    phone.get_by_role("link", name="我的数据 ›").click()
    phone.wait_for_load_state()
    assert "我们保存的信息" in phone.content()
    fits_phone(phone)
    shoot(phone, "mydata")
    phone.get_by_role("link", name="删除我的数据").click()
    phone.wait_for_load_state()
    fits_phone(phone)
    shoot(phone, "mydata-confirm")
    phone.get_by_role("button", name="确认删除").click()
    phone.wait_for_load_state()
    assert "您的数据已删除" in phone.content()
    shoot(phone, "mydata-erased")
    try:
        Fan.get(PLAIN_APPID, "o-mydata")
        raise AssertionError("the fan item should be gone")
    except Fan.DoesNotExist:
        pass
