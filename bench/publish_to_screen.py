"""Publish-to-screen latency, measured in a real browser, and the player's transfer size.

Starts its own local system in this process (moto, the app over HTTP with
Chalice's local server, the SQS pump delivering the manifest queue like
Lambda, the local CDN) and opens the player in Debian's Chromium with default
settings (poll 10 s, real clock).  Then it publishes N items one after the
other and, for each, measures in the browser the time from the publish call
returning to the item being on screen.

Publishing writes ``Content`` and enqueues the rebuild message exactly as
``docs/messages.md`` specifies (``devstack.screens_local.publish``): the admin
API is not on main yet.  Items last 15 s (the model's default), so an item
appears at the first item boundary after the poll that sees it.  Each publish
happens at a random moment (seeded), as a person's would, not in step with the
player's loop.

Baseline, same process: publish → manifest object updated in the bucket
(the server side alone); the ratio shows what polling and item boundaries add.

    python -m bench.publish_to_screen [--n 10]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10, help="items to publish")
    parser.add_argument("--poll", type=int, default=0, help="override the player's poll interval (s); 0 = default")
    args = parser.parse_args()

    from bench.harness import start_local_aws

    start_local_aws()
    import os
    import threading

    import boto3
    from playwright.sync_api import sync_playwright

    from chalicelib.settings import get_settings
    from devstack.cdn import start_cdn
    from devstack.local_api import base_url, start_api

    settings = get_settings()
    cdn = start_cdn(settings.player_bucket)
    from app import app

    api = start_api(app, port=0)
    os.environ.update(PUBLIC_BASE_URL=base_url(api), CDN_BASE_URL=cdn.base_url)
    get_settings.cache_clear()
    settings = get_settings()

    from chalicelib.models import Screen, Unit
    from chalicelib.resources import queue_specs
    from devstack.browser import launch
    from devstack.screens_local import enroll_screen, publish
    from devstack.sqs_pump import SqsPump
    from tools.upload_player import upload_player

    upload_player(settings.player_bucket)
    Unit("bench", root_id="bench", path="bench/", name="基准科协").save()
    Screen("BENCH1", unit_id="bench", name="基准屏", appid="wxbench", qr_url="http://weixin.qq.com/q/bench").save()
    key = enroll_screen("BENCH1")
    stop = threading.Event()
    SqsPump(app, specs=queue_specs(settings), stage=settings.stage).run_forever(stop)

    s3 = boto3.client("s3")
    manifest_key = "screens/BENCH1/manifest.json"

    def manifest_version() -> str | None:
        try:
            return s3.head_object(Bucket=settings.player_bucket, Key=manifest_key)["Metadata"].get("version")
        except s3.exceptions.ClientError:
            return None

    publish("bench_0", ["BENCH1"], unit_id="bench", title="基准第0条", body="开场")
    while manifest_version() is None:
        time.sleep(0.1)

    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        transfer: dict[str, int] = {}
        if os.environ.get("BENCH_TRACE"):
            page.on("request", lambda r: print(f"    {time.time():.2f} {r.method} {r.url.split('/')[-1][:40]}")
                    if "manifest" in r.url else None)
        page.on("response", lambda r: transfer.__setitem__(r.url.split("?")[0], len(r.body()))
                if "/player/" in r.url and r.request.method == "GET" and r.status == 200 else None)
        poll = f"&poll={args.poll}" if args.poll else ""
        page.goto(f"{cdn.base_url}/player/index.html?screen=BENCH1&key={key}{poll}")
        page.wait_for_function("document.body.dataset.playing === 'bench_0'", timeout=30_000)

        to_screen, to_bucket = [], []
        phase = random.Random(5)
        for n in range(1, args.n + 1):
            cid = f"bench_{n}"
            time.sleep(phase.uniform(0, 15))  # publishers do not wait for an item boundary
            before = manifest_version()
            publish(cid, ["BENCH1"], unit_id="bench", title=f"基准第{n}条", body="发布到屏幕的时延")
            returned = time.time() * 1000
            while manifest_version() == before:
                time.sleep(0.02)
            to_bucket.append(time.time() * 1000 - returned)
            shown_at = page.evaluate("""id => new Promise(resolve => {
                const check = () => document.body.dataset.playing === id ? resolve(Date.now()) : setTimeout(check, 20);
                check(); })""", cid)
            to_screen.append(shown_at - returned)
            print(f"  item {n:>2}: bucket {to_bucket[-1] / 1000:5.2f} s   screen {to_screen[-1] / 1000:5.2f} s")
        browser.close()
    stop.set()

    player_bytes = sum(size for url, size in transfer.items() if url.endswith((".html", ".js", ".css")))
    median_screen, median_bucket = statistics.median(to_screen), statistics.median(to_bucket)
    print(f"\npublish → on screen   (n={args.n}, poll {args.poll or 10} s, items 15 s): "
          f"median {median_screen / 1000:.2f} s, max {max(to_screen) / 1000:.2f} s   (goal: median ≤ 10 s)")
    print(f"publish → manifest in bucket (baseline): median {median_bucket / 1000:.2f} s, "
          f"max {max(to_bucket) / 1000:.2f} s")
    print(f"ratio screen/bucket (median): {median_screen / max(median_bucket, 1):.1f}x")
    print(f"player transfer on first load: {player_bytes} bytes (HTML+JS+CSS), "
          f"{len(transfer)} files; CDN served {cdn.requests} requests, {cdn.bytes_sent} bytes in total")
    cdn.stop()
    api.server.shutdown()


if __name__ == "__main__":
    main()
