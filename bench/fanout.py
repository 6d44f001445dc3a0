"""Push fan-out benchmark: the SQS pipeline against a naive one-at-a-time sender, same process, same data.

N fans (default 100,000) of two service accounts subscribe to four screens,
30 % of them to two screens (so de-duplication is exercised), and one
publish targets all four.  The WeChat stand-in answers every call after
20 ms, as a real API would over the network, with random (WeChat-shaped)
msgids.  AWS is moto in server mode on
loopback, and every AWS request (SQS, DynamoDB, S3, SSM) is counted at
botocore, the pump's polling included: it is what Lambda's event source
mapping would do and bill.

Printed for both senders: pushes per second, AWS requests per 1,000 pushes,
duplicates and lost fans (from the stand-in's inboxes; both must be 0).

- pipeline: the Chalice app's own SQS handlers (planner → sender) driven by
  ``devstack.sqs_pump`` with ``--lambdas`` concurrent sender "instances"
  (each sends with 20 threads, as in Lambda).
- naive: query each screen's subscribers and, for each one in turn, read a
  per-recipient record, send, write the record — what a first attempt looks
  like.  It runs on a sample of ``--naive-n`` fans (its cost per fan is
  constant; running it over 100,000 fans would take an hour).

    python -m bench.fanout [--n 100000] [--naive-n 1000] [--lambdas 2] [--latency 0.02]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime

from bench.harness import AwsRequestCounter, provision_local_aws, push_request_kind, start_local_aws

APPIDS = ("wxbenchfanout001", "wxbenchfanout002")
SCREENS = {"wxbenchfanout001": ("FAN001", "FAN002"), "wxbenchfanout002": ("FAN003", "FAN004")}
TEMPLATE_ID = "tmpl-bench"


def seed(n: int, standin) -> dict[str, list[str]]:
    """N fans over four screens, 30 % on two; returns openid lists per appid."""
    from chalicelib.models import Account, Screen, Subscription, Unit
    from chalicelib.models.subscriptions import fan_key
    from chalicelib.secrets import store_account_secrets

    Unit("bench", root_id="bench", path="bench/", name="基准科协").save()
    fans: dict[str, list[str]] = {appid: [] for appid in APPIDS}
    rng = random.Random(7)
    for appid in APPIDS:
        Account(appid, unit_id="bench", name="基准", original_id=f"gh_{appid[2:14]}", template_id=TEMPLATE_ID).save()
        store_account_secrets(appid, token="benchtoken", app_secret="benchsecret")
        standin.register_account(appid, "benchsecret", "service")
        for screen in SCREENS[appid]:
            Screen(screen, unit_id="bench", name=f"基准大屏{screen}", appid=appid).save()
    with Subscription.batch_write() as batch:
        for i in range(n):
            appid = APPIDS[i % 2]
            openid = f"oBench{i:07d}"
            fans[appid].append(openid)
            first, second = SCREENS[appid]
            screens = [first, second] if rng.random() < 0.3 else [rng.choice((first, second))]
            for screen in screens:
                batch.save(
                    Subscription(
                        fan_key(appid, openid), screen, appid=appid, openid=openid, active_screen_id=screen, source="qr"
                    )
                )
            standin.follow(appid, openid)
    return fans


def tally(standin, fans: dict[str, list[str]], content_id: str, limit: int | None = None) -> tuple[int, int, int]:
    """(delivered, duplicates, lost) for one content, from the stand-in's inboxes."""
    delivered = duplicates = lost = 0
    for openids in fans.values():
        for openid in openids[:limit]:
            got = sum(1 for m in standin.inbox(openid) if f"/content/{content_id}" in m["payload"].get("url", ""))
            delivered += min(got, 1)
            duplicates += max(0, got - 1)
            lost += got == 0
    return delivered, duplicates, lost


def run_pipeline(app, fans, counter, lambdas: int) -> tuple[float, dict, str]:
    from chalicelib.aws import send_json
    from chalicelib.models.push import PLANNED, PushJob
    from chalicelib.resources import queue_specs
    from chalicelib.settings import get_settings
    from devstack.sqs_pump import SqsPump

    settings = get_settings()
    total = sum(len(v) for v in fans.values())
    content_id = "c_benchpipe"
    job_id = f"{content_id}:1"
    message = {
        "type": "publish",
        "job_id": job_id,
        "content_id": content_id,
        "revision": 1,
        "unit_id": "bench",
        "screen_ids": [s for pair in SCREENS.values() for s in pair],
        "title": "基准测试：社区义诊通知",
        "summary": "本周六上午9点",
        "kind": "notice",
        "published_at": datetime.now(UTC).isoformat(),
    }
    stop = threading.Event()
    with counter.measure() as counts, counter.measure_kinds() as kinds:
        started = time.perf_counter()
        send_json(settings.push_queue_name, message)
        # 20-second long polls, as Lambda's event source mapping does
        pumps = [
            SqsPump(app, specs=queue_specs(settings), stage=settings.stage, visibility_override=5, wait_seconds=20)
            for _ in range(lambdas)
        ]
        for pump in pumps:
            pump.run_forever(stop)
        polls = 0
        while True:
            time.sleep(1.0)
            polls += 1  # the bench's own progress reads: taken off the count below
            try:
                job = PushJob.get(job_id)
            except PushJob.DoesNotExist:
                continue
            finished = job.sent_template + job.failed + job.stopped + job.suppressed
            if job.status == PLANNED and finished >= total:
                break
        elapsed = time.perf_counter() - started
        stop.set()
    counts[("dynamodb", "GetItem")] -= polls
    kinds["ddb planner job GetItem"] -= polls
    counts.kinds = kinds  # type: ignore[attr-defined]
    counts.kind_seconds = Counter(counter.kind_seconds)  # type: ignore[attr-defined]
    return elapsed, counts, content_id


def run_naive(fans, counter, sample: int) -> tuple[float, dict, str, int]:
    """One recipient at a time: query, read its record, send, write its record."""
    from chalicelib import links
    from chalicelib.models.accounts import Account
    from chalicelib.models.push import PushBatch
    from chalicelib.models.subscriptions import Subscription
    from chalicelib.services.gateway.tokens import client_for
    from chalicelib.services.push import bodies as push_bodies

    content_id = "c_benchnaive"
    job_id = f"{content_id}:1"
    allowed = {appid: set(openids[: sample // 2]) for appid, openids in fans.items()}
    content = {
        "content_id": content_id,
        "title": "基准测试：社区义诊通知",
        "unit_name": "基准科协",
        "published_at": datetime.now(UTC).isoformat(),
    }
    sent = 0
    with counter.measure() as counts:
        started = time.perf_counter()
        for appid, screens in SCREENS.items():
            account = Account.get(appid)
            api = client_for(appid)
            for screen in screens:
                for sub in Subscription.active_by_screen.query(screen):
                    if sub.openid not in allowed[appid]:
                        continue
                    try:
                        PushBatch.get(job_id, f"r-{sub.fan}", consistent_read=True)
                        continue  # already sent through another screen
                    except PushBatch.DoesNotExist:
                        pass
                    now = datetime.now(UTC)
                    url = links.push_link(appid, sub.openid, content_id)
                    api.post(
                        "message/template/send", data=push_bodies.template_body(account, sub.openid, content, url, now)
                    )
                    PushBatch(job_id, f"r-{sub.fan}", appid=appid).save()
                    sent += 1
        elapsed = time.perf_counter() - started
    return elapsed, counts, content_id, sent


def print_breakdown(kinds, pushes: int, seconds=None) -> None:
    """Requests per 1,000 pushes by what they are for (checkpoints, flushes, reads, tokens, SQS...).

    ``seconds``: wall time spent waiting on the emulator per purpose (summed over threads; long polls
    included), to show where a local run's time goes.
    """
    per_k = 1000 / max(1, pushes)
    seconds = seconds or {}
    print(f"pipeline requests per 1,000 pushes by purpose:{'':13} requests  per 1k  waited s")
    for kind, n in sorted(kinds.items(), key=lambda kv: -kv[1]):
        if n > 0:
            print(f"  {kind:58} {n:>7,} {n * per_k:>7.2f} {seconds.get(kind, 0):>9.1f}")
    total = sum(kinds.values())
    idle = sum(n for kind, n in kinds.items() if "idle long poll" in kind)
    print(f"  {'total':58} {total:>7,} {total * per_k:>7.2f}")
    print(
        f"  {'total without idle long polls (a cost per hour, not per push)':58} {total - idle:>7,} "
        f"{(total - idle) * per_k:>7.2f}"
    )


def start_moto_process() -> subprocess.Popen:
    """moto server in its own process (AWS is not in our process either), DynamoDB serialised as in tests."""
    code = (
        "import threading; from devstack.moto_server import start_moto; "
        "server, endpoint = start_moto(); print(endpoint, flush=True); threading.Event().wait()"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    endpoint = proc.stdout.readline().strip()
    if not endpoint.startswith("http"):
        raise RuntimeError("moto server did not start")
    provision_local_aws(endpoint)
    return proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="fans (subscriptions are 1.3 x n)")
    parser.add_argument("--naive-n", type=int, default=1000, help="fans the naive sender is run on")
    parser.add_argument("--lambdas", type=int, default=2, help="concurrent sender invocations (pump threads)")
    parser.add_argument("--latency", type=float, default=0.02, help="stand-in latency per WeChat call, seconds")
    parser.add_argument(
        "--account-rate",
        type=float,
        default=2000,
        help="PUSH_ACCOUNT_RATE: sends/s per account, all senders (0 = unlimited)",
    )
    parser.add_argument(
        "--in-flight",
        type=int,
        default=None,
        help="PUSH_SENDS_IN_FLIGHT: sends in flight per invocation = the duplicate bound (default 20)",
    )
    parser.add_argument(
        "--moto",
        choices=["process", "thread"],
        default="process",
        help="moto server in its own process (default) or in a thread of this one",
    )
    args = parser.parse_args()

    os.environ.setdefault("STAGE", "bench")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    os.environ.setdefault("PUBLIC_BASE_URL", "https://kepu.example.cn")
    os.environ["PUSH_ACCOUNT_RATE"] = str(args.account_rate)
    # All emulated senders run in this one process and share its per-account token bucket, so the process
    # is "one sender" holding the account's whole rate (with N it would get rate / N: 4/s per account at 50).
    os.environ["PUSH_SENDER_CONCURRENCY"] = "1"
    if args.in_flight:
        os.environ["PUSH_SENDS_IN_FLIGHT"] = str(args.in_flight)
    from chalicelib.services.push.pacing import sends_in_flight
    from devstack.wechat_standin import WeChatStandIn

    standin = WeChatStandIn().start()
    os.environ["WECHAT_API_BASE"] = standin.base_url
    moto_proc = start_moto_process() if args.moto == "process" else None
    if moto_proc is None:
        start_local_aws()
    import logging

    logging.getLogger("devstack.sqs_pump").setLevel(logging.WARNING)
    from app import app

    print(
        f"push fan-out: {args.n:,} fans, 4 screens (30 % on two), 2 service accounts, "
        f"WeChat stand-in at {args.latency * 1000:.0f} ms, moto server on loopback, "
        f"{sends_in_flight()} sends in flight per invocation (the duplicate bound), {args.lambdas} invocations"
    )
    seeded = time.perf_counter()
    fans = seed(args.n, standin)
    print(f"seeded in {time.perf_counter() - seeded:.0f}s\n")
    standin.set_latency(args.latency)
    standin.use_random_msgids(seed=7)  # WeChat's real msgids: large and not consecutive

    counter = AwsRequestCounter(classify=push_request_kind)
    counter.install()
    elapsed, counts, content_id = run_pipeline(app, fans, counter, args.lambdas)
    delivered, dups, lost = tally(standin, fans, content_id)
    naive_elapsed, naive_counts, naive_id, naive_sent = run_naive(fans, counter, args.naive_n)
    n_dups, n_lost = tally(standin, fans, naive_id, args.naive_n // 2)[1:]
    counter.uninstall()

    rate, naive_rate = delivered / elapsed, naive_sent / naive_elapsed
    rows = [
        ("pipeline", delivered, elapsed, rate, counts, dups, lost),
        ("naive", naive_sent, naive_elapsed, naive_rate, naive_counts, n_dups, n_lost),
    ]
    print(
        f"{'sender':9} {'pushes':>8} {'seconds':>8} {'pushes/s':>9} {'AWS req/1k':>11} "
        f"{'SQS':>6} {'DynamoDB':>9} {'S3':>4} {'other':>6} {'dup':>4} {'lost':>5}"
    )
    for name, pushes, seconds, per_second, c, d, lo in rows:
        per_k = 1000 / max(1, pushes)
        sqs, ddb, s3 = (counter.total(c, svc) for svc in ("sqs", "dynamodb", "s3"))
        other = counter.total(c) - sqs - ddb - s3
        print(
            f"{name:9} {pushes:>8,} {seconds:>8.1f} {per_second:>9.0f} {(sqs + ddb + s3) * per_k:>11.1f} "
            f"{sqs * per_k:>6.1f} {ddb * per_k:>9.1f} {s3 * per_k:>4.1f} {other:>6} {d:>4} {lo:>5}"
        )
    print(
        f"\nthroughput ratio pipeline/naive: {rate / naive_rate:.1f}x (goal >= 20x); "
        f"AWS requests per 1,000 pushes: {counter.total(counts, None) * 1000 / max(1, delivered):.1f} all services "
        f"(goal <= 30 SQS+DynamoDB+S3)"
    )
    print(
        "pipeline requests by operation: "
        + ", ".join(f"{svc}.{op}={n}" for (svc, op), n in sorted(counts.items(), key=lambda kv: -kv[1]))
    )
    print_breakdown(counts.kinds, delivered, counts.kind_seconds)
    standin.stop()
    if moto_proc is not None:
        moto_proc.terminate()


if __name__ == "__main__":
    main()
