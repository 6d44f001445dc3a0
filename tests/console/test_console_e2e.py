"""The console in a real browser against the whole local system (issue 14's end-to-end list)."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import requests

from tests.console.conftest import LAPTOP, ROOT, login, wait_for_charts

PHONE = {"width": 390, "height": 844}


def _wait_text(page, selector: str, text: str, timeout: float = 20.0) -> None:
    page.wait_for_function(
        "([s, t]) => [...document.querySelectorAll(s)].some(e => e.innerText.includes(t))",
        arg=[selector, text],
        timeout=timeout * 1000,
    )


def test_password_sign_in_sets_a_secure_strict_cookie_and_shows_home(browser, system, shots):
    context = browser.new_context(viewport=LAPTOP, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{system['cdn_base']}/console/")
    page.wait_for_selector("input[name=username]")
    page.screenshot(path=str(shots / "login-1366.png"))
    page.fill("input[name=username]", "editor")
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    _wait_text(page, "[data-test=login-error]", "用户名或密码错误")
    context.close()
    context, page = login(browser, system, "editor")
    cookie = next(c for c in context.cookies() if c["name"] == "kepu_session")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/api"
    _wait_text(page, "[data-test=online]", "/")
    assert "演示editor" in page.inner_text("[data-test=who]")
    page.wait_for_timeout(800)
    page.screenshot(path=str(shots / "home-1366.png"))
    context.close()


def test_create_review_publish_reaches_the_player_and_the_phone_mirror(browser, system, shots):
    nj001 = next(s for s in system["screens"] if s["screen_id"] == "NJ001")
    _simulate(system, "o-forecast-fan", nj001["qr_url"])  # a resident follows NJ001: the forecast must count him
    editor_ctx, editor = login(browser, system, "editor")
    editor.goto(f"{system['cdn_base']}/console/#/content/new")
    editor.wait_for_selector("input[name=title]")
    title = f"端到端科普讲座{int(time.time()) % 100000}"
    editor.wait_for_selector(".el-form >> text=南京市科协")
    editor.fill("input[name=title]", title)
    editor.fill("textarea[name=body]", "本周六上午十点，科技馆报告厅，欢迎居民参加。")
    # before publishing: the API's forecast for these targets, and the item on the phone page's own template
    _wait_text(editor, "[data-test=forecast-now]", "位居民：模板消息")
    before = editor.inner_text("[data-test=forecast-now]")
    assert re.fullmatch(r"将推送给约 \d+ 位居民：模板消息 \d+，客服消息 \d+，未读 \d+(；另有 .*)?", before), before
    assert int(re.search(r"约 (\d+) 位", before).group(1)) >= 1, before
    phone = editor.frame_locator("[data-test=preview-phone] iframe")
    phone.locator("h1", has_text=title).wait_for(timeout=20000)
    assert "科技馆报告厅" in phone.locator(".body").inner_text()
    assert phone.locator("body").evaluate("b => b.ownerDocument.defaultView.innerWidth") == 375  # a phone's width
    editor.wait_for_timeout(1500)  # the players' preview frames settle
    editor.locator("[data-test=forecast]").scroll_into_view_if_needed()
    editor.wait_for_timeout(300)
    editor.screenshot(path=str(shots / "content-editor-1366.png"))
    editor.set_viewport_size({"width": 1920, "height": 1080})
    editor.wait_for_timeout(1200)
    editor.screenshot(path=str(shots / "content-editor-1920.png"))
    editor.set_viewport_size(LAPTOP)
    editor.click("[data-test=save-submit]")
    editor.wait_for_url(re.compile(r"#/content/c"), timeout=20000)
    _wait_text(editor, "[data-test=status]", "待审核")
    content_id = editor.url.rsplit("/", 1)[1]

    reviewer_ctx, reviewer = login(browser, system, "reviewer")
    reviewer.goto(f"{system['cdn_base']}/console/#/content/{content_id}")
    reviewer.wait_for_selector("[data-test=approve]")
    assert reviewer.locator("[data-test=publish]").count() == 0  # a reviewer approves, he does not publish
    reviewer.screenshot(path=str(shots / "content-review-1366.png"))
    reviewer.click("[data-test=approve]")
    _wait_text(reviewer, "[data-test=status]", "已通过")
    reviewer_ctx.close()

    editor.reload()
    editor.wait_for_selector("[data-test=publish]")
    editor.click("[data-test=publish]")
    _wait_text(editor, ".el-message-box__message", "将推送给约")  # the confirmation already gives the forecast
    assert before in editor.inner_text(".el-message-box__message")
    editor.wait_for_timeout(600)  # the box fades in
    editor.screenshot(path=str(shots / "content-publish-confirm-1366.png"))
    editor.click(".el-message-box__btns .el-button--primary")
    _wait_text(editor, "[data-test=status]", "已发布")
    _wait_text(editor, "[data-test=delivery]", "起播放", timeout=40)
    # the publish confirmation gives the forecast publish answered, the progress reads the job's real counters
    forecast = editor.inner_text("[data-test=publish-forecast]")
    assert re.search(r"已发布。将推送给约 \d+ 位居民：模板消息 \d+，客服消息 \d+，未读 \d+", forecast), forecast
    shown = _api(editor, "GET", f"/api/v1/content/{content_id}")["body"]["push_status"]
    totals = {k: sum(a["channels"][k] for a in shown["forecast"]["accounts"]) for k in ("template", "custom", "unread")}
    assert f"模板消息 {totals['template']}，客服消息 {totals['custom']}，未读 {totals['unread']}" in forecast
    assert forecast.startswith(f"已发布。{before}")  # what the editor showed before is what publish said
    _wait_text(editor, "[data-test=push-state]", "已完成", timeout=40)
    counts = editor.inner_text("[data-test=push-counts]")
    assert "计划" in counts and "已发" in counts and "送达" in counts and "阅读" in counts and "未读" in counts
    editor.screenshot(path=str(shots / "content-published-1366.png"))
    editor_ctx.close()

    # the item on a player page (the player's own code, mirroring NJ001) and in the phone mirror
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    player = context.new_page()
    player.goto(f"{system['cdn_base']}/player/index.html?preview=1&screen=NJ001")
    player.wait_for_function(
        "t => document.body.innerText.includes(t) || "
        "[...document.querySelectorAll('.ticker, .slide')].some(e => e.textContent.includes(t))",
        arg=title,
        timeout=60000,
    )
    appid = next(s for s in system["screens"] if s["screen_id"] == "NJ001")
    mirror = requests.get(f"{system['api_base']}/m/{system['accounts'][0]['appid']}/screens/NJ001", timeout=10)
    assert mirror.status_code == 200 and title in mirror.text, appid
    context.close()


def test_the_screen_wall_shows_every_visible_screen_live(browser, system, shots):
    context, page = login(browser, system, "admin")
    page.goto(f"{system['cdn_base']}/console/#/wall")
    page.wait_for_selector("[data-test=wall-tile]")
    assert page.locator("[data-test=wall-tile]").count() == len(system["screens"])
    frame = page.frame_locator("[data-test=wall-tile] iframe").first
    frame.locator(".slide").first.wait_for(timeout=30000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(shots / "wall-1366.png"))
    context.close()


def test_a_viewer_cannot_publish_and_the_api_agrees(browser, system):
    context, page = login(browser, system, "viewer")
    page.goto(f"{system['cdn_base']}/console/#/content")
    page.wait_for_selector("[data-test=content-table] .el-table__row")
    assert page.locator("[data-test=new-content]").count() == 0
    page.locator("[data-test=content-table] .el-table__row a").first.click()
    page.wait_for_selector("[data-test=status]")
    for action in ("publish", "approve", "submit", "withdraw"):
        assert page.locator(f"[data-test={action}]").count() == 0
    content_id = page.url.rsplit("/", 1)[1]
    status = page.evaluate(
        """async (id) => {
        const s = await (await fetch('/api/v1/auth/session')).json();
        const r = await fetch(`/api/v1/content/${id}/withdraw`, {method: 'POST',
            headers: {'X-CSRF-Token': s.csrf_token}});
        return r.status }""",
        content_id,
    )
    assert status == 403
    context.close()


def test_an_editor_of_a_sibling_branch_sees_nothing_of_the_other(browser, system, shots):
    context, page = login(browser, system, "community-editor")
    page.goto(f"{system['cdn_base']}/console/#/screens")
    page.wait_for_selector("[data-test=screens-table] .el-table__row")
    rows = page.inner_text("[data-test=screens-table] .el-table__body")
    assert "SQ001" in rows and "NJ001" not in rows and "NJ002" not in rows
    page.goto(f"{system['cdn_base']}/console/#/content")
    page.wait_for_selector("[data-test=content-table]")
    page.wait_for_timeout(800)
    assert "秋季如何预防流感" not in page.inner_text("[data-test=content-table]")
    status = page.evaluate("async () => (await fetch('/api/v1/screens/NJ001')).status")
    assert status == 404
    page.screenshot(path=str(shots / "screens-sibling-1366.png"))
    context.close()


def test_scan_to_sign_in_with_the_simulator(browser, system, shots):
    """Bind once while signed in (scan in the simulator), then sign in on a fresh browser by scanning."""
    openid = "o-console-staff"
    context, page = login(browser, system, "reviewer")
    page.goto(f"{system['cdn_base']}/console/#/settings/me")
    page.click("[data-test=bind-wechat]")
    qr = page.get_attribute("[data-test=scan-qr]", "data-qr", timeout=20000)
    _simulate(system, openid, qr)
    page.wait_for_selector("text=微信已绑定", timeout=10000)
    context.close()

    context = browser.new_context(viewport=LAPTOP, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{system['cdn_base']}/console/#/login")
    page.get_by_role("tab", name="微信扫码").click()
    qr = page.get_attribute("[data-test=scan-qr]", "data-qr", timeout=20000)
    page.screenshot(path=str(shots / "login-scan-1366.png"))
    _simulate(system, openid, qr)
    # The page polls every second, so it signs in about a second after the scan; the bound here is
    # generous because wall time on a shared machine is no measure (no timed assertions in tests).
    page.wait_for_selector("[data-test=who]", state="attached", timeout=30000)
    assert "演示reviewer" in page.inner_text("[data-test=who]")
    context.close()


def _simulate(system, openid: str, qr_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "devstack.simulator", "--openid", openid, "follow", "--qr-url", qr_url],
        cwd=system["tmp"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_home_and_review_work_on_a_phone(browser, system, shots):
    context, page = login(browser, system, "admin", viewport=PHONE)
    _wait_text(page, "[data-test=online]", "/")
    page.wait_for_timeout(800)
    page.screenshot(path=str(shots / "home-390.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1
    context.close()


def _pending_item(browser, system, title: str) -> str:
    """An item waiting for review, made by the demo editor through the API (as the console makes calls)."""
    context, page = login(browser, system, "editor")
    unit = next(u["unit_id"] for u in system["logins"] if u["username"] == "editor")
    made = _api(
        page,
        "POST",
        "/api/v1/content",
        {
            "unit_id": unit,
            "kind": "notice",
            "title": title,
            "body": "下周一起图书馆闭馆维修三天。",
            "targets": {"units": [unit]},
        },
    )
    assert made["status"] == 201, made
    done = _api(page, "POST", f"/api/v1/content/{made['body']['content_id']}/submit", None, made["body"]["revision"])
    assert done["status"] == 200, done
    context.close()
    return made["body"]["content_id"]


def test_the_review_actions_work_on_a_390_px_phone(browser, system, shots):
    """A reviewer on his phone: the item, its diff and both actions fit the screen, and rejecting works."""
    content_id = _pending_item(browser, system, "手机上审核的通知")
    context, page = login(browser, system, "reviewer", viewport=PHONE)
    page.goto(f"{system['cdn_base']}/console/#/content/{content_id}")
    page.wait_for_selector("[data-test=approve]")
    page.wait_for_timeout(800)
    page.screenshot(path=str(shots / "content-review-390.png"), full_page=True)
    assert "南京市科协（含下级）" in page.inner_text("[data-test=targets]")  # before publishing: the chosen targets
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    for action in ("approve", "reject"):
        box = page.locator(f"[data-test={action}]").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] and box["height"] >= 32, (action, box)
    page.click("[data-test=reject]")
    page.fill(".el-message-box__input input", "请写明闭馆的具体日期")
    page.wait_for_timeout(300)
    page.screenshot(path=str(shots / "content-reject-390.png"))
    page.click(".el-message-box__btns .el-button--primary")
    _wait_text(page, "[data-test=status]", "已驳回")
    status = _api(page, "GET", f"/api/v1/content/{content_id}")["body"]
    assert status["status"] == "rejected" and status["reject_reason"] == "请写明闭馆的具体日期"
    context.close()


def test_the_poster_downloads_as_an_a4_pdf_with_the_png_inside(browser, system, shots, tmp_path):
    """The PDF is one A4 page holding exactly the 300 dpi PNG, whose QR code decodes to the screen's code URL."""
    import io

    import pypdf
    import zxingcpp
    from PIL import Image

    context, page = login(browser, system, "admin")
    screen = next(s for s in system["screens"] if s["screen_id"] == "NJ001")
    page.goto(f"{system['cdn_base']}/console/#/screens/NJ001")
    page.wait_for_selector("[data-test=poster-pdf]:not([disabled])")
    files = {}
    for kind in ("pdf", "png"):
        with page.expect_download() as download:
            page.click(f"[data-test=poster-{kind}]")
        files[kind] = tmp_path / download.value.suggested_filename
        download.value.save_as(files[kind])
    assert files["pdf"].name == "NJ001-二维码海报-A4.pdf"
    reader = pypdf.PdfReader(files["pdf"])
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width) * 25.4 / 72), round(float(box.height) * 25.4 / 72)) == (210, 297)  # A4 in mm
    assert screen["name"] in reader.metadata.title and "微信扫码 订阅本屏" in reader.metadata.title
    [embedded] = reader.pages[0].images
    inside = embedded.image.convert("RGB")
    png = Image.open(files["png"])
    assert png.size == inside.size == (2480, 3508) and round(png.info["dpi"][0]) == 300
    assert inside.tobytes() == png.convert("RGB").tobytes()  # the very raster of the PNG, not a re-drawing
    [code] = zxingcpp.read_barcodes(inside.resize((1240, 1754)))
    assert code.text == screen["qr_url"]
    Image.open(io.BytesIO(files["png"].read_bytes())).convert("RGB").resize((620, 877)).save(
        shots / "poster-preview.png"
    )
    context.close()


def test_every_page_at_laptop_size(browser, system, shots):
    """Screenshots of every page at 1366×768 (looked at by a person), and none shows an error."""
    context, page = login(browser, system, "admin")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    pages = {
        "screens": "#/screens",
        "screen-detail": "#/screens/NJ001",
        "content": "#/content",
        "analytics": "#/analytics",
        "settings-me": "#/settings/me",
        "settings-units": "#/settings/units",
        "settings-accounts": "#/settings/accounts",
        "settings-users": "#/settings/users",
        "settings-keys": "#/settings/keys",
        "settings-audit": "#/settings/audit",
    }
    charts = {}
    for name, path in pages.items():
        page.goto(f"{system['cdn_base']}/console/{path}")
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(600)  # the page's own requests after the first paint
        charts[name] = wait_for_charts(page)
        page.screenshot(path=str(shots / f"{name}-1366.png"))
    assert charts["analytics"] >= 2, charts  # fans trend, reads and plays: drawn to the end before the shot
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{system['cdn_base']}/console/#/")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(800)
    page.screenshot(path=str(shots / "home-1920.png"))
    assert not errors
    context.close()


def test_a_stale_edit_offers_reload_and_compare(browser, system, shots):
    context, page = login(browser, system, "editor")
    page.goto(f"{system['cdn_base']}/console/#/content/new")
    page.wait_for_selector("input[name=title]")
    page.wait_for_selector(".el-form >> text=南京市科协")  # the editor has loaded the units and the targets
    page.fill("input[name=title]", "冲突测试原标题")
    page.click("[data-test=save]")  # a notice without a body: the API's error shows under 正文
    page.wait_for_selector(".el-form-item:has(textarea[name=body]) .el-form-item__error")
    page.fill("textarea[name=body]", "原来的正文")
    page.click("[data-test=save]")
    page.wait_for_function("() => /#\\/content\\/c_/.test(location.hash)", timeout=20000)
    content_id = page.url.rsplit("/", 1)[1]
    page.goto(f"{system['cdn_base']}/console/#/content/{content_id}/edit")
    page.wait_for_function("() => document.querySelector('input[name=title]')?.value === '冲突测试原标题'")
    status = page.evaluate(
        """async (id) => {  // someone else edits meanwhile (here: the same user, another tab)
        const s = await (await fetch('/api/v1/auth/session')).json();
        const c = await (await fetch(`/api/v1/content/${id}`)).json();
        const r = await fetch(`/api/v1/content/${id}`, {method: 'PATCH', headers: {'X-CSRF-Token': s.csrf_token,
            'Content-Type': 'application/json', 'If-Match': `"${c.revision}"`},
            body: JSON.stringify({title: '别人改的标题'})});
        return r.status }""",
        content_id,
    )
    assert status == 200
    page.fill("input[name=title]", "我改的标题")
    page.click("[data-test=save]")
    try:
        page.click("text=重新载入并对比", timeout=15000)
    except Exception:
        page.screenshot(path=str(shots / "conflict-debug.png"))
        raise
    page.wait_for_selector("[data-test=conflict-compare]")
    compare = page.locator("[data-test=conflict-compare]")
    assert compare.locator(".diff-removed").first.inner_text() == "别人"
    assert compare.locator(".diff-added").first.inner_text() == "我"
    assert "投放目标" not in compare.inner_text()  # only what really differs
    page.screenshot(path=str(shots / "content-conflict-1366.png"))
    context.close()


def test_a_lost_network_shows_a_banner_and_recovers(browser, system):
    context, page = login(browser, system, "viewer")
    page.goto(f"{system['cdn_base']}/console/#/screens")  # the page's code is loaded; then the network goes
    page.wait_for_selector("[data-test=screens-table] .el-table__row")
    page.goto(f"{system['cdn_base']}/console/#/")
    page.wait_for_selector("[data-test=online]")
    context.set_offline(True)
    page.goto(f"{system['cdn_base']}/console/#/screens")
    page.wait_for_selector(".offline-banner", timeout=10000)
    context.set_offline(False)
    page.wait_for_selector("[data-test=screens-table] .el-table__row", timeout=30000)
    page.wait_for_selector(".offline-banner", state="detached", timeout=10000)
    context.close()


_API_FETCH = """async ([method, path, body, revision]) => {
    const s = await (await fetch('/api/v1/auth/session')).json();
    const headers = {'X-CSRF-Token': s.csrf_token, 'Content-Type': 'application/json'};
    if (revision !== null) headers['If-Match'] = `"${revision}"`;
    const r = await fetch(path, {method, headers, body: body === null ? undefined : JSON.stringify(body)});
    return {status: r.status, body: r.status === 204 ? null : await r.json()} }"""


def _api(page, method: str, path: str, body=None, revision=None) -> dict:
    """An admin API call with the page's own session (cookie + CSRF), as the console makes it."""
    return page.evaluate(_API_FETCH, [method, path, body, revision])


def test_an_account_s_cross_unit_policy_and_template_ids_are_saved_with_if_match(browser, system, shots):
    context, page = login(browser, system, "admin")
    appid = system["accounts"][0]["appid"]
    original = _api(page, "GET", f"/api/v1/accounts/{appid}")["body"]
    assert original["cross_unit"] == "unread"  # the default the console must show
    page.goto(f"{system['cdn_base']}/console/#/settings/accounts")
    row = page.locator(".el-table__row", has_text=appid)
    row.wait_for()
    assert "仅列为未读" in row.inner_text()
    row.get_by_role("button", name="设置").click()
    form = page.locator("[data-test=account-form]")
    form.wait_for()
    assert form.locator(".el-radio-button.is-active").inner_text().strip() == "仅列为未读"
    form.locator(".el-radio-button", has_text="推送").click()
    _wait_text(page, "[data-test=account-form]", "与本单位内容一样推送")
    page.fill("input[data-test=subscribe-template-id]", "SUB_tpl_e2e_001")
    page.wait_for_timeout(300)
    page.screenshot(path=str(shots / "settings-account-edit-1366.png"))
    page.click("[data-test=save-account]")
    _wait_text(page, ".el-table__row", "SUB_tpl_e2e_001")
    saved = _api(page, "GET", f"/api/v1/accounts/{appid}")["body"]
    assert (saved["cross_unit"], saved["subscribe_template_id"]) == ("push", "SUB_tpl_e2e_001")
    assert saved["template_id"] == original["template_id"] and saved["revision"] == original["revision"] + 1
    assert "推送" in page.locator(".el-table__row", has_text=appid).inner_text()

    # someone else saves meanwhile: the stale If-Match is refused and the console shows the latest version
    row.get_by_role("button", name="设置").click()
    form.wait_for()
    other = _api(page, "PATCH", f"/api/v1/accounts/{appid}", {"cross_unit": "none"}, saved["revision"])
    assert other["status"] == 200
    form.locator(".el-radio-button", has_text="仅列为未读").click()
    page.fill("input[data-test=subscribe-template-id]", "")
    page.click("[data-test=save-account]")
    _wait_text(page, "[data-test=account-stale]", "不显示")
    page.screenshot(path=str(shots / "settings-account-stale-1366.png"))
    page.click("[data-test=save-account]")  # the user's edits are still in the form: saving now wins
    page.wait_for_selector("[data-test=account-form]", state="hidden")
    final = _api(page, "GET", f"/api/v1/accounts/{appid}")["body"]
    assert (final["cross_unit"], final["subscribe_template_id"]) == ("unread", None)
    context.close()


def test_the_menu_editor_publishes_a_custom_menu(browser, system, shots):
    context, page = login(browser, system, "admin")
    appid = system["accounts"][0]["appid"]
    page.goto(f"{system['cdn_base']}/console/#/settings/accounts")
    page.locator(".el-table__row", has_text=appid).get_by_role("button", name="菜单").click()
    editor = page.locator("[data-test=menu-editor]")
    _wait_text(page, "[data-test=menu-editor]", "当前为默认菜单")
    tops = editor.locator("[data-test=menu-top]")
    assert [t.inner_text().strip() for t in tops.all()] == ["订阅大屏", "最新内容", "≡ 我的"]
    tops.nth(1).click()
    page.fill("input[data-test=menu-name]", "最新科普")
    tops.nth(2).click()
    editor.locator("[data-test=menu-add-sub]").click()
    page.fill("input[data-test=menu-name]", "科技馆官网")
    editor.locator("[data-test=menu-kind] .el-radio-button", has_text="打开网页").click()
    page.fill("input[data-test=menu-url]", "javascript:alert(1)")
    _wait_text(page, "[data-test=menu-form]", "https://")  # the error under the field, before WeChat sees it
    assert page.locator("[data-test=menu-publish]").is_disabled()
    page.fill("input[data-test=menu-url]", "https://www.example.cn/museum")
    tops.nth(1).click()
    page.fill("input[data-test=menu-name]", "最新科普内容")  # 18 bytes: over WeChat's 16
    _wait_text(page, "[data-test=menu-form]", "16 字节")
    assert page.locator("[data-test=menu-publish]").is_disabled()
    page.fill("input[data-test=menu-name]", "最新科普")
    tops.nth(2).click()
    page.wait_for_timeout(300)
    page.screenshot(path=str(shots / "settings-menu-1366.png"))
    page.click("[data-test=menu-publish]")
    page.click(".el-message-box__btns .el-button--primary")
    _wait_text(page, "[data-test=menu-editor]", "上次发布")
    current = _api(page, "GET", f"/api/v1/accounts/{appid}/menu")["body"]
    assert current["default"] is False
    buttons = current["menu"]["button"]
    assert buttons[1] == {"type": "click", "name": "最新科普", "key": "LATEST"}
    assert buttons[2]["sub_button"][-1] == {
        "type": "view",
        "name": "科技馆官网",
        "url": "https://www.example.cn/museum",
    }
    page.get_by_role("button", name="恢复默认菜单").click()  # leave the demo as it was
    page.click(".el-message-box__btns .el-button--primary")
    _wait_text(page, "[data-test=menu-editor]", "当前为默认菜单")
    assert _api(page, "GET", f"/api/v1/accounts/{appid}/menu")["body"]["default"] is True
    context.close()
