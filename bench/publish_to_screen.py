"""Publish-to-screen latency, measured in a real browser, and the player's transfer size.

Starts its own local system in this process, the way ``make dev`` does: moto,
the WeChat API stand-in, the app over HTTP with Chalice's local server, the
SQS pump delivering the queues like Lambda, the local CDN, and the demo world
(``devstack.demo.seed``).  It opens demo screen NJ001's player in Debian's
Chromium with default settings (poll 10 s, minimum dwell 5 s, real clock) and
publishes N notices one after the other **through the admin API**, as the
demo editor would: ``POST /api/v1/content`` (a draft), then
``POST /api/v1/content/{id}/publish``; the manifest rebuild travels over the
manifest queue and the pump, exactly as in production.  For each item it
measures, in the browser, the time from the publish call returning to the
item being on screen.

Items last 15 s (the API's default).  Each publish happens at a random moment
(seeded), as a person's would, not in step with the player's loop or polls.
Expected: poll wait (0–10 s) + what is left of the current item's minimum
dwell (0–5 s) + the server side.

Baseline, same process: publish returned → manifest object updated in the
bucket (the server side alone); the ratio shows what polling and the player's
soft boundary add.

    python -m bench.publish_to_screen [--n 10]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import threading
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10, help="items to publish")
    parser.add_argument("--poll", type=int, default=0, help="override the player's poll interval (s); 0 = default")
    parser.add_argument("--dwell", type=float, default=0, help="override the minimum dwell (s); 0 = default")
    args = parser.parse_args()

    from bench.harness import start_local_aws

    start_local_aws()
    from devstack.wechat_standin import WeChatStandIn

    standin = WeChatStandIn().start()
    os.environ.update(WECHAT_API_BASE=standin.base_url, WECHAT_OAUTH_BASE=standin.base_url)

    import boto3
    import requests
    from playwright.sync_api import sync_playwright

    from chalicelib.settings import get_settings
    from devstack.cdn import start_cdn
    from devstack.local_api import base_url, start_api

    get_settings.cache_clear()
    settings = get_settings()
    cdn = start_cdn(settings.player_bucket)
    from app import app

    api = start_api(app, port=0)
    os.environ.update(PUBLIC_BASE_URL=base_url(api), CDN_BASE_URL=cdn.base_url)
    get_settings.cache_clear()
    settings = get_settings()

    from chalicelib.resources import queue_specs
    from devstack import demo
    from devstack.browser import launch
    from devstack.sqs_pump import SqsPump
    from tools.upload_player import upload_player

    upload_player(settings.player_bucket)
    stop = threading.Event()
    SqsPump(app, specs=queue_specs(settings), stage=settings.stage).run_forever(stop)
    world = demo.seed(standin)
    screen = next(s for s in world["screens"] if s["screen_id"] == "NJ001")
    editor = next(u for u in world["users"] if u["role"] == "editor")
    http = requests.Session()
    http.headers.update({"Authorization": f"Bearer {editor['api_key']}"})
    api_v1 = f"{base_url(api)}/api/v1"
    api_calls = {"n": 0, "seconds": 0.0}

    def call(method: str, path: str, **kwargs) -> dict:
        started = time.perf_counter()
        response = http.request(method, api_v1 + path, timeout=30, **kwargs)
        api_calls["n"] += 1
        api_calls["seconds"] += time.perf_counter() - started
        if response.status_code >= 300:
            raise SystemExit(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

    s3 = boto3.client("s3")
    manifest_key = f"screens/{screen['screen_id']}/manifest.json"

    def manifest_version() -> str | None:
        try:
            return s3.head_object(Bucket=settings.player_bucket, Key=manifest_key)["Metadata"].get("version")
        except s3.exceptions.ClientError:
            return None

    deadline = time.time() + 30
    while manifest_version() is None and time.time() < deadline:  # the seed's rebuilds, through the pump
        time.sleep(0.1)

    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        transfer: dict[str, int] = {}
        if os.environ.get("BENCH_TRACE"):
            page.on(
                "request",
                lambda r: (
                    print(f"    {time.time():.2f} {r.method} {r.url.split('/')[-1][:40]}")
                    if "manifest" in r.url
                    else None
                ),
            )
        page.on(
            "response",
            lambda r: (
                transfer.__setitem__(r.url.split("?")[0], len(r.body()))
                if "/player/" in r.url and r.request.method == "GET" and r.status == 200
                else None
            ),
        )
        extra = (f"&poll={args.poll}" if args.poll else "") + (f"&dwell={args.dwell}" if args.dwell else "")
        page.goto(f"{cdn.base_url}/player/index.html?screen={screen['screen_id']}&key={screen['player_key']}{extra}")
        page.wait_for_function("!['', 'idle', undefined].includes(document.body.dataset.playing)", timeout=30_000)

        to_screen, to_bucket = [], []
        phase = random.Random(5)
        for n in range(1, args.n + 1):
            time.sleep(phase.uniform(0, 15))  # publishers do not wait for an item boundary or a poll
            before = manifest_version()
            draft = call(
                "POST",
                "/content",
                json={
                    "unit_id": editor["unit_id"],
                    "kind": "notice",
                    "title": f"基准第{n}条",
                    "body": "发布到屏幕的时延",
                    "category": "community_notice",
                    "targets": {"screens": [screen["screen_id"]]},
                },
            )
            cid = draft["content_id"]
            call("POST", f"/content/{cid}/publish", headers={"If-Match": f'"{draft["revision"]}"'})
            returned = time.time() * 1000
            while manifest_version() == before:
                time.sleep(0.02)
            to_bucket.append(time.time() * 1000 - returned)
            shown_at = page.evaluate(
                """id => new Promise(resolve => {
                const check = () => document.body.dataset.playing === id ? resolve(Date.now()) : setTimeout(check, 20);
                check(); })""",
                cid,
            )
            to_screen.append(shown_at - returned)
            print(f"  item {n:>2}: bucket {to_bucket[-1] / 1000:5.2f} s   screen {to_screen[-1] / 1000:5.2f} s")
        browser.close()
    stop.set()

    player_bytes = sum(size for url, size in transfer.items() if url.endswith((".html", ".js", ".css")))
    median_screen, median_bucket = statistics.median(to_screen), statistics.median(to_bucket)
    print(
        f"\npublish → on screen   (n={args.n}, poll {args.poll or 10} s, dwell {args.dwell or 5:g} s, items 15 s): "
        f"median {median_screen / 1000:.2f} s, max {max(to_screen) / 1000:.2f} s   (goal: median ≤ 10 s)"
    )
    print(
        f"publish → manifest in bucket (baseline): median {median_bucket / 1000:.2f} s, "
        f"max {max(to_bucket) / 1000:.2f} s"
    )
    print(f"ratio screen/bucket (median): {median_screen / max(median_bucket, 1):.1f}x")
    print(
        f"admin API: {api_calls['n']} requests (create + publish per item), "
        f"{api_calls['seconds'] / max(api_calls['n'], 1) * 1000:.0f} ms each on average"
    )
    print(
        f"player transfer on first load: {player_bytes} bytes (HTML+JS+CSS), "
        f"{len(transfer)} files; CDN served {cdn.requests} requests, {cdn.bytes_sent} bytes in total"
    )
    cdn.stop()
    api.server.shutdown()
    standin.stop()


if __name__ == "__main__":
    main()
