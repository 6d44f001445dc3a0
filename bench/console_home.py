"""What the console's home page costs in DynamoDB requests (issue 14: at most 10 for its API calls in all).

In one process: moto, the WeChat stand-in and the demo world (``devstack.demo``),
plus ``--screens`` screens (default 1,000, reporting at different ages) and
``--items`` content items (default 10,000, every status) written in bulk over
the demo's subtree.  Then, for the demo's root admin, with the console's
session cookie and with a bearer key, after a warm-up pass each:

* the old home page's calls — screens (every page), content waiting for
  review, the 5 latest published items and each one's read (for its push
  status), accounts, this month's subtree series;
* the new one — ``GET /api/v1/units/{id}/summary``;

counting every botocore request per route, and printing the ratio of the two
in the same run.  The shell's own session read (``GET /auth/session``) is paid
once per page load, not by the home page, and is left out of both.

With ``--browser`` it also opens the built console (``make console``) in
Debian's Chromium through the local CDN and API, signed in as that admin, and
prints how long the home page took to render after its summary call answered
(the Resource Timing entry's ``responseEnd`` to the page's
``kepu:home-rendered`` mark; budget 1 s), median of five loads.

    .venv/bin/python -m bench.console_home [--screens 1000] [--items 10000] [--browser]
"""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import UTC, datetime, timedelta

from bench.harness import AwsRequestCounter, start_local_aws

BUDGET = 10


def home_calls(client, headers: dict[str, str], unit_id: str) -> list[tuple[str, object]]:
    """The home page's API calls in Home.vue's order (the per-item content reads follow the list)."""
    today = (datetime.now(UTC) + timedelta(hours=8)).date()
    calls: list[tuple[str, object]] = []

    def get(path: str):
        response = client.http.get(path, headers=headers)
        assert response.status_code == 200, (path, response.status_code, response.body[:300])
        calls.append((path, response.json_body))
        return response.json_body

    cursor = None
    while True:
        page = get("/api/v1/screens?limit=200" + (f"&cursor={cursor}" if cursor else ""))
        cursor = page.get("next_cursor")
        if not cursor:
            break
    get("/api/v1/content?status=pending_review&limit=10")
    published = get("/api/v1/content?status=published&limit=5")
    get("/api/v1/accounts?limit=200")
    for item in published["items"]:
        get(f"/api/v1/content/{item['content_id']}")
    get(f"/api/v1/analytics/subtree/{unit_id}/series?from={today.replace(day=1)}&to={today}")
    return calls


def summary_calls(client, headers: dict[str, str], unit_id: str) -> list[tuple[str, object]]:
    """What Home.vue calls now: the unit's summary, one request."""
    response = client.http.get(f"/api/v1/units/{unit_id}/summary", headers=headers)
    assert response.status_code == 200, (response.status_code, response.body[:300])
    return [(f"/api/v1/units/{unit_id}/summary", response.json_body)]


def seed_scale(root_unit_id: str, n_screens: int, n_items: int) -> dict[str, int]:
    """``n_screens`` screens and ``n_items`` content items spread over the demo's subtree, written in bulk.

    Screens report at different ages (most online, some offline, a tenth over
    an hour); the ``screen_health`` pass marks their presence, the stream pump
    carries it into the roll-ups, and ``home_feed_rebuild.rebuild`` writes the feed of
    the bulk-written content (as the first deploy would).
    """
    from chalicelib.handlers.operations import measure_screens
    from chalicelib.models import Account, Content, Screen, Unit
    from chalicelib.services.analytics import home_feed_rebuild

    root = Unit.get(root_unit_id)
    units = list(Unit.subtree.query(root.root_id, Unit.path.startswith(root.path)))
    appid_of = {a.unit_id: a.appid for a in Account.scan()}
    fallback = next(iter(appid_of.values()))
    now = datetime.now(UTC)
    with Screen.batch_write() as batch:
        for n in range(n_screens):
            unit = units[n % len(units)]
            age = timedelta(seconds=20) if n % 10 < 7 else timedelta(minutes=10) if n % 10 < 9 else timedelta(hours=3)
            batch.save(
                Screen(
                    f"BX{n:05d}",
                    unit_id=unit.unit_id,
                    name=f"压测屏 {n}",
                    appid=appid_of.get(unit.unit_id, fallback),
                    last_seen=now - age,
                )
            )
    statuses = (
        "draft",
        "draft",
        "pending_review",
        "published",
        "published",
        "published",
        "withdrawn",
        "rejected",
        "draft",
        "published",
    )
    with Content.batch_write() as batch:
        for n in range(n_items):
            unit = units[n % len(units)]
            status = statuses[n % len(statuses)]
            at = now - timedelta(minutes=n)
            batch.save(
                Content(
                    f"bx{n:06d}",
                    unit_id=unit.unit_id,
                    kind="notice",
                    title=f"压测内容 {n}",
                    body="这是一条压测内容。" * 20,
                    status=status,
                    push=False,
                    created_at=at,
                    updated_at=at,
                    published_at=at if status in ("published", "withdrawn") else None,
                    targets={"units": [unit.unit_id]},
                )
            )
    marked = measure_screens()
    return {"units": len(units), "screens": n_screens, "items": n_items, **marked, **home_feed_rebuild.rebuild()}


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--screens", type=int, default=1000)
    parser.add_argument("--items", type=int, default=10000)
    parser.add_argument("--browser", action="store_true", help="also time the home page's render in Chromium")
    args = parser.parse_args()
    from devstack.wechat_standin import WeChatStandIn

    standin = WeChatStandIn("127.0.0.1", 0).start()
    os.environ.update(
        WECHAT_API_BASE=standin.base_url,
        WECHAT_OAUTH_BASE=standin.base_url,
        PUBLIC_BASE_URL="http://127.0.0.1:9",
        CDN_BASE_URL="http://127.0.0.1:9",
    )
    start_local_aws()  # reads the settings afresh, WeChat's address included
    from chalice.test import Client

    from app import app
    from devstack import demo
    from devstack.stream_pump import StreamPump

    info = demo.seed(standin)
    admin = next(u for u in info["users"] if u["role"] == "root admin")
    pump = StreamPump(app, stage="bench")
    pump.drain(timeout=120)
    if args.screens or args.items:
        print(f"seeded: {seed_scale(admin['unit_id'], args.screens, args.items)}")
        pump.drain(timeout=600)
        from chalicelib.services.analytics import home_feed_rebuild

        home_feed_rebuild.rebuild()  # presence counters set from the records once the stream has been applied
    counter = AwsRequestCounter()
    counter.install()
    totals: dict[str, int] = {}
    try:
        with Client(app) as client:
            login = client.http.post(
                "/api/v1/auth/login",
                headers={"Content-Type": "application/json"},
                body=json.dumps({"username": admin["username"], "password": admin["password"]}),
            )
            assert login.status_code == 200, login.body
            cookie = login.headers["Set-Cookie"].split(";", 1)[0]
            for label, headers in (
                ("console session cookie", {"Cookie": cookie}),
                ("bearer API key", {"Authorization": f"Bearer {admin['api_key']}"}),
            ):
                for name, calls in (
                    ("old calls (screens, content lists and reads, accounts, series)", home_calls),
                    ("summary", summary_calls),
                ):
                    calls(client, headers, admin["unit_id"])  # warm: caches a Lambda keeps between requests
                    per_route: list[tuple[str, Counter]] = []
                    with counter.measure() as everything:
                        for _path, _body in _each(client, headers, admin["unit_id"], counter, per_route, calls):
                            pass
                    totals[f"{label}/{name}"] = _report(
                        f"{label}, {name}", admin, per_route, everything, args.screens, args.items
                    )
                old, new = (
                    totals[f"{label}/old calls (screens, content lists and reads, accounts, series)"],
                    totals[f"{label}/summary"],
                )
                print(
                    f"=> {label}: summary {new} vs old {old} DynamoDB requests = {new / old:.3f} × "
                    f"({old / new:.1f} times fewer); budget {BUDGET}: {'met' if new <= BUDGET else 'NOT met'}"
                )
    finally:
        counter.uninstall()
    try:
        if args.browser:
            browser_render(app, admin)
    finally:
        standin.stop()


RENDER_BUDGET_MS = 1000


def browser_render(app, admin: dict, loads: int = 5) -> float:
    """Median ms from the summary's response end to the rendered home page, in Chromium at 1366×768."""
    import statistics

    from playwright.sync_api import sync_playwright

    from chalicelib.settings import get_settings
    from devstack.browser import launch
    from devstack.cdn import start_cdn
    from devstack.local_api import start_api
    from tools.upload_player import upload_console

    if not upload_console(get_settings().player_bucket):
        raise SystemExit("the console is not built: run `make console` first")
    api = start_api(app, port=0, stage="bench")
    api_base = f"http://127.0.0.1:{api.server.server_address[1]}"
    cdn = start_cdn(get_settings().player_bucket, api_base=api_base)
    base = f"http://127.0.0.1:{cdn.server_address[1]}"
    gaps: list[float] = []
    try:
        with sync_playwright() as driver:
            browser = launch(driver)
            context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
            login = context.request.post(
                f"{base}/api/v1/auth/login", data={"username": admin["username"], "password": admin["password"]}
            )
            assert login.ok, login.text()
            page = context.new_page()
            for _ in range(loads):
                page.goto(f"{base}/console/", wait_until="load")
                page.wait_for_function("performance.getEntriesByName('kepu:home-rendered').length > 0", timeout=60_000)
                gap = page.evaluate("""() => {
                    const mark = performance.getEntriesByName('kepu:home-rendered')[0];
                    const call = performance.getEntriesByType('resource').find((e) => e.name.includes('/summary'));
                    return mark.startTime - call.responseEnd;
                }""")
                gaps.append(float(gap))
            browser.close()
    finally:
        cdn.shutdown()
        api.server.shutdown()
    median = statistics.median(gaps)
    print(
        f"home page render after its summary answered, Chromium 1366×768, {loads} loads: median {median:.0f} ms "
        f"(max {max(gaps):.0f} ms) = {median / RENDER_BUDGET_MS:.2f} × the 1 s budget"
    )
    return median


def _report(
    label: str,
    admin: dict,
    per_route: list[tuple[str, Counter]],
    everything: Counter,
    n_screens: int = 0,
    n_items: int = 0,
) -> int:
    dynamo = AwsRequestCounter.total(everything, "dynamodb")
    print(
        f"home page for {admin['unit_name']} (demo + {n_screens} screens + {n_items} items, {label}): "
        f"{len(per_route)} API calls, "
        f"{dynamo} DynamoDB requests = {dynamo / BUDGET:.1f} × the budget of {BUDGET} "
        f"({AwsRequestCounter.total(everything)} AWS requests in all)"
    )
    for path, counts in per_route:
        ops = ", ".join(f"{op} {n}" for (svc, op), n in sorted(counts.items()) if svc == "dynamodb")
        print(f"  {AwsRequestCounter.total(counts, 'dynamodb'):3d}  {path.split('?')[0]:60s} {ops}")
    return dynamo


def _each(client, headers, unit_id, counter, per_route, calls=home_calls):
    """Replays the home calls one by one, recording each call's requests."""
    real_get = client.http.get

    def measured(path, **kwargs):
        with counter.measure() as counts:
            response = real_get(path, **kwargs)
        per_route.append((path, counts))
        return response

    client.http.get = measured
    try:
        yield from calls(client, headers, unit_id)
    finally:
        client.http.get = real_get


if __name__ == "__main__":
    main()
