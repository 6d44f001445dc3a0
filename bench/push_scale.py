"""Push at scale: 1 M pushes across ten accounts on paper, and a scaled-down run with failures injected.

The run: N fans spread over ten service accounts (one screen each), one
publish to all ten screens, 50 sender invocations emulated at once (50
threads each taking up to 5 send messages at a time, as 50 concurrent
Lambdas on the send queue would), while the emulated AWS and WeChat
misbehave: a share of the commits is cancelled by a ``TransactionConflict``,
a share is throttled, SSM throttles, and WeChat answers slowly (latency) and
sometimes with ``-1``.  Printed: duplicates, lost (from the stand-in's
per-user inboxes), AWS requests per 1,000 pushes, and WeChat calls per second
per account (mean over the run and the busiest second).

On paper: what 1 M pushes take on real AWS with the same code -- Lambda
concurrency, time, WeChat quota, cost -- from the requests per push measured
here and the public prices (docs/push.md has the reasoning).

    python -m bench.push_scale [--n 10000] [--senders 50] [--conflicts 0.05] [--throttles 0.02]
                               [--latency 0.05] [--errors 0.02] [--account-rate 200]
"""

from __future__ import annotations

import argparse
import os
import random
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime

from bench.harness import AwsRequestCounter, push_request_kind

ACCOUNTS = [f"wxbenchscale{i:04d}" for i in range(10)]
TEMPLATE_ID = "tmpl-bench"

# Public on-demand prices (us-east-1, USD; China regions differ by currency, not by shape).
PRICE_LAMBDA_GB_S = 0.0000166667
PRICE_LAMBDA_REQUEST = 0.20 / 1e6
PRICE_SQS_REQUEST = 0.40 / 1e6
PRICE_DDB_WRITE_UNIT = 1.25 / 1e6  # on demand, per write request unit (1 KB)
PRICE_DDB_READ_UNIT = 0.25 / 1e6  # per read request unit (4 KB, consistent)
CN_PRICE_FACTOR = 7.5  # aws-cn prices in CNY ~ the USD prices x the exchange rate (approximate; check the price list)


def seed(n: int, standin) -> dict[str, list[str]]:
    from chalicelib.models import Account, Screen, Subscription, Unit
    from chalicelib.models.subscriptions import fan_key
    from chalicelib.secrets import store_account_secrets

    Unit("scale", root_id="scale", path="scale/", name="规模科协").save()
    fans: dict[str, list[str]] = {appid: [] for appid in ACCOUNTS}
    for k, appid in enumerate(ACCOUNTS):
        Account(appid, unit_id="scale", name=f"规模{k}", original_id=f"gh_scale{k:04d}", template_id=TEMPLATE_ID).save()
        store_account_secrets(appid, token="benchtoken", app_secret="benchsecret")
        standin.register_account(appid, "benchsecret", "service")
        Screen(f"SCL{k:03d}", unit_id="scale", name=f"规模大屏{k}", appid=appid).save()
    with Subscription.batch_write() as batch:
        for i in range(n):
            appid = ACCOUNTS[i % len(ACCOUNTS)]
            openid = f"oScale{i:08d}"
            fans[appid].append(openid)
            screen = f"SCL{ACCOUNTS.index(appid):03d}"
            batch.save(
                Subscription(
                    fan_key(appid, openid), screen, appid=appid, openid=openid, active_screen_id=screen, source="qr"
                )
            )
            standin.follow(appid, openid)
    return fans


def inject(faults, rng: random.Random, conflicts: float, throttles: float, ssm_throttles: float) -> Counter:
    from botocore.exceptions import ClientError

    injected: Counter[str] = Counter()
    lock = threading.Lock()

    def rule(service, operation, params):
        with lock:
            roll = rng.random()
        if operation == "TransactWriteItems" and roll < conflicts:
            injected["TransactionConflict"] += 1
            items = params.get("TransactItems", [])
            return ClientError(
                {
                    "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
                    "CancellationReasons": [{"Code": "TransactionConflict"} for _ in items],
                },
                operation,
            )
        if operation == "TransactWriteItems" and roll < conflicts + throttles:
            injected["ThrottlingException"] += 1
            return ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, operation)
        if service == "ssm" and roll < ssm_throttles:
            injected["SSM ThrottlingException"] += 1
            return ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, operation)
        return None

    faults.on_aws(rule)
    return injected


def _job_or_none(job_id: str):
    """The job, or None while it does not exist or the emulator, busy serving 50 senders, did not answer in time."""
    from pynamodb.exceptions import GetError

    from chalicelib.models.push import PushJob

    try:
        return PushJob.get(job_id)
    except (PushJob.DoesNotExist, GetError):
        return None


def _idle(pump, names: list[str]) -> bool:
    """No message waiting, delayed or in flight on any of the queues (an emulator that does not answer: busy)."""
    try:
        return all(pump.queue_counts(name) == (0, 0) for name in names)
    except Exception:
        return False


def _depth(queue_name: str) -> int:
    from chalicelib.aws import client, queue_url

    attrs = client("sqs").get_queue_attributes(
        QueueUrl=queue_url(queue_name), AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"])


def stuck_batches(job_id: str) -> dict[str, int]:
    """Batch records of the job still holding recipients in ``pending`` (batch id -> how many).

    With every queue empty these recipients have no message left to carry them: lost, however the job's totals
    read.  The bench prints them so that a loss names its batches (the session-4 loss was found this way).
    """
    from chalicelib.models.push import PushBatch

    return {b.batch_id: len(b.pending) for b in PushBatch.query(job_id) if b.pending}


def run(app, senders: int, total: int, job_id: str, message: dict) -> tuple[float, int, bool]:
    """Publish and pump until every push is recorded, or the pipeline is idle short of that (stalled = True)."""
    from chalicelib.aws import send_json
    from chalicelib.resources import queue_specs
    from chalicelib.settings import get_settings
    from devstack.lambda_runtime import faults
    from devstack.sqs_pump import SqsPump

    settings = get_settings()
    # moto's index Query takes seconds per 1 MB page at 100,000 subscriptions (DynamoDB: milliseconds), so the
    # planner's runs get Lambda's longest timeout here: emulator slowness must not fail them over and over.
    pump = SqsPump(
        app,
        specs=queue_specs(settings),
        stage=settings.stage,
        visibility_override=5,
        wait_seconds=2,
        timeouts={settings.push_queue_name: 900},
        # Lambda ends an invocation at its timeout; without this a slow one ran on, sent back its batches and
        # then counted failed as a whole, so both copies were delivered at once (the 100,000-fan run's
        # duplicates: 48 such invocations, 1,966 duplicates against 861 late answers)
        kill_at_timeout=True,
    )
    by_queue = {c.queue_name: c for c in pump.consumers}
    stop = threading.Event()

    def loop(consumer) -> None:
        while not stop.is_set():
            try:
                pump.pump_once(consumer, wait_seconds=2)
            except Exception:  # a bench thread keeps polling, as Lambda's poller would
                time.sleep(0.5)

    started = time.perf_counter()
    send_json(settings.push_queue_name, message)
    threads = [threading.Thread(target=loop, args=(by_queue[settings.push_queue_name],), daemon=True)]
    threads += [
        threading.Thread(target=loop, args=(by_queue[settings.send_queue_name],), daemon=True) for _ in range(senders)
    ]
    for thread in threads:
        thread.start()
    polls, stalled = watch(pump, [settings.push_queue_name, settings.send_queue_name], job_id, total, started)
    print(
        f"  invocations past their Lambda timeout: {pump.over_time} (whole batch redelivered), "
        f"killed at it: {faults.killed}",
        flush=True,
    )
    elapsed = time.perf_counter() - started
    stop.set()
    return elapsed, polls, stalled


def watch(pump, queues: list[str], job_id: str, total: int, started: float) -> tuple[int, bool]:
    """Read the job every 2 s until every push is recorded (or the queues stay empty short of it: stalled)."""
    from chalicelib.models.push import PLANNED

    polls, planned_at, idle_checks = 0, None, 0
    while True:
        time.sleep(2.0)
        polls += 1  # the bench's own progress reads: taken off the count
        job = _job_or_none(job_id)
        if job is None:
            continue
        idle_checks = idle_checks + 1 if job.status == PLANNED and _idle(pump, queues) else 0
        if idle_checks >= 5:  # 10 s with nothing queued, delayed or in flight: nothing more will come
            return polls, True
        finished = job.sent_template + job.failed + job.stopped + job.suppressed
        if job.status == PLANNED and planned_at is None:
            planned_at = time.perf_counter() - started
            print(
                f"  planner done after {planned_at:.0f}s ({job.batches:,} batches; "
                f"{finished:,} pushes recorded by then)",
                flush=True,
            )
        if polls % 30 == 0:
            print(f"  {time.perf_counter() - started:.0f}s: {finished:,} of {total:,} recorded", flush=True)
        if job.status == PLANNED and finished >= total:
            return polls, False


def wechat_rates(standin, fans: dict[str, list[str]], path: str) -> dict[str, tuple[float, int]]:
    """appid → (mean calls/s over its sending span, calls in its busiest second)."""
    owner = {o: appid for appid, openids in fans.items() for o in openids}
    seconds: dict[str, Counter[int]] = defaultdict(Counter)
    for call in standin.calls(path):
        body = call["body"] if isinstance(call["body"], dict) else {}
        appid = owner.get(body.get("touser"))
        if appid:
            seconds[appid][int(call["at"])] += 1
    rates = {}
    for appid, per_second in seconds.items():
        span = max(1, max(per_second) - min(per_second) + 1)
        rates[appid] = (sum(per_second.values()) / span, max(per_second.values()))
    return rates


def on_paper(requests_per_k: dict[str, float], account_rate: float, senders: int) -> None:
    """1 M pushes, ten accounts of 100,000 fans, on real AWS with this code."""
    pushes, accounts = 1_000_000, 10
    per_account = pushes // accounts
    wechat_latency = 0.15  # seconds per template call from a China region, typical
    from chalicelib.services.push.pacing import sends_in_flight

    in_flight = sends_in_flight()
    per_invocation = in_flight / wechat_latency  # calls in flight per sender invocation
    by_lambda = senders * per_invocation
    # Each sender paces each account at account_rate / senders (no coordination), so an account gets its
    # whole rate only while every sender holds one of its batches.  With 5 batches per invocation drawn
    # from ten accounts, a sender holds a given account's batch with p = 1 - 0.9 ** 5 = 41 %.
    holding = 1 - (1 - 1 / accounts) ** 5
    by_wechat_nominal = accounts * account_rate
    by_wechat = by_wechat_nominal * holding
    rate = min(by_wechat, by_lambda)
    seconds = pushes / rate
    invocations = pushes / (5 * 98)  # 5 batches of 98 per invocation
    gb_s = senders * seconds * 0.256  # 256 MB; every sender runs (mostly waiting on the pacing) the whole time
    sqs = requests_per_k.get("sqs", 0) * pushes / 1000
    ddb = requests_per_k.get("dynamodb", 0) * pushes / 1000
    cost_lambda = gb_s * PRICE_LAMBDA_GB_S + invocations * PRICE_LAMBDA_REQUEST
    cost_sqs = sqs * PRICE_SQS_REQUEST
    cost_ddb = ddb * 0.8 * 4 * PRICE_DDB_WRITE_UNIT + ddb * 0.2 * 25 * PRICE_DDB_READ_UNIT  # 4 WRU / 25 RRU each
    print("\n1,000,000 pushes across 10 accounts (100,000 fans each) on real AWS, on paper:")
    print(
        f"  sender concurrency {senders} (event-source maximum), 20 calls in flight each "
        f"-> {by_lambda:,.0f} calls/s possible at {wechat_latency * 1000:.0f} ms per call"
    )
    print(
        f"  account rate {account_rate:,.0f}/s x {accounts} accounts -> {by_wechat_nominal:,.0f} calls/s allowed by "
        f"WeChat; the per-sender split reaches {holding:.0%} of it with batches of ten accounts mixed: "
        f"{by_wechat:,.0f} calls/s"
    )
    full = pushes / by_wechat_nominal / 60
    print(
        f"  time: {seconds / 60:,.1f} min at {rate:,.0f} pushes/s ({full:,.1f} min if every account ran at its "
        f"full rate)  (planner: ~{pushes / 98 / 200:,.0f} runs of 200 batches)"
    )
    print(f"  WeChat quota: {per_account:,} template sends per account that day (default daily quota 100,000)")
    print(
        f"  requests: {sqs:,.0f} SQS + {ddb:,.0f} DynamoDB ({sum(requests_per_k.values()):.1f} per 1,000 pushes, "
        "as measured below)"
    )
    total = cost_lambda + cost_sqs + cost_ddb
    print(
        f"  cost (aws, us-east-1 list prices): Lambda ${cost_lambda:,.2f} ({gb_s:,.0f} GB-s, {invocations:,.0f} "
        f"invocations) + SQS ${cost_sqs:,.2f} + DynamoDB ${cost_ddb:,.2f} = ${total:,.2f}"
    )
    print(
        f"  cost (aws-cn, Beijing/Ningxia list prices are in CNY, roughly {CN_PRICE_FACTOR:.0f}x the USD figures): "
        f"about CNY {total * CN_PRICE_FACTOR:,.1f}"
    )


def sends_bound() -> int:
    from chalicelib.services.push.pacing import sends_in_flight

    return sends_in_flight()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fans", "--n", dest="n", type=int, default=100_000, help="fans (over ten accounts)")
    parser.add_argument(
        "--in-flight",
        type=int,
        default=None,
        help="PUSH_SENDS_IN_FLIGHT per sender invocation (the duplicate bound; default 20)",
    )
    parser.add_argument("--senders", type=int, default=50, help="concurrent sender invocations emulated")
    parser.add_argument("--conflicts", type=float, default=0.05, help="share of commits cancelled by a conflict")
    parser.add_argument("--throttles", type=float, default=0.02, help="share of commits throttled")
    parser.add_argument("--ssm-throttles", type=float, default=0.3, help="share of SSM reads throttled")
    parser.add_argument("--latency", type=float, default=0.05, help="WeChat answer latency, seconds")
    parser.add_argument("--errors", type=float, default=0.02, help="share of WeChat calls answering -1")
    parser.add_argument("--account-rate", type=float, default=200, help="sends/s per account, all senders")
    parser.add_argument("--paper-only", action="store_true")
    args = parser.parse_args()

    if args.paper_only:
        from chalicelib.services.push.pacing import sends_in_flight

        writes = -(-98 // sends_in_flight())  # checkpoints + the last write, per batch of 98 (docs/push.md, "Cost")
        on_paper({"sqs": 6.0, "dynamodb": 1000 / 98 * (1 + writes) + 2.0}, args.account_rate, args.senders)
        return
    os.environ.setdefault("STAGE", "bench")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "CRITICAL")
    os.environ.setdefault("PUBLIC_BASE_URL", "https://kepu.example.cn")
    os.environ["PUSH_ACCOUNT_RATE"] = str(args.account_rate)
    # All emulated senders run in this one process and share its per-account token bucket, so the process
    # is "one sender" holding the account's whole rate (with N it would get rate / N: 4/s per account at 50).
    os.environ["PUSH_SENDER_CONCURRENCY"] = "1"
    if args.in_flight:
        os.environ["PUSH_SENDS_IN_FLIGHT"] = str(args.in_flight)
    from bench.fanout import print_breakdown, start_moto_process
    from devstack.wechat_standin import WeChatStandIn

    standin = WeChatStandIn(seed=3).start()
    os.environ["WECHAT_API_BASE"] = standin.base_url
    moto_proc = start_moto_process()
    import logging

    logging.getLogger("devstack.sqs_pump").setLevel(logging.CRITICAL)
    logging.getLogger("devstack.lambda_runtime").setLevel(logging.CRITICAL)  # the injected kills
    from app import app
    from devstack.lambda_runtime import faults

    print(
        f"push at scale: {args.n:,} fans over {len(ACCOUNTS)} service accounts, {args.senders} senders, "
        f"WeChat at {args.latency * 1000:.0f} ms with {args.errors:.0%} -1 answers and random msgids; "
        f"commits: {args.conflicts:.0%} conflicts, {args.throttles:.0%} throttled; SSM {args.ssm_throttles:.0%} "
        f"throttled; account rate {args.account_rate:,.0f}/s"
    )
    seeded = time.perf_counter()
    fans = seed(args.n, standin)
    seed_seconds = time.perf_counter() - seeded
    print(f"seeded in {seed_seconds:.0f}s", flush=True)
    standin.use_random_msgids(seed=5)
    standin.set_latency(args.latency)
    path = "/cgi-bin/message/template/send"
    if args.errors:
        standin.inject_failure(-1, path=path, probability=args.errors)
    injected = inject(faults, random.Random(11), args.conflicts, args.throttles, args.ssm_throttles)

    content_id = "c_benchscale"
    job_id = f"{content_id}:1"
    message = {
        "type": "publish",
        "job_id": job_id,
        "content_id": content_id,
        "revision": 1,
        "unit_id": "scale",
        "screen_ids": [f"SCL{k:03d}" for k in range(len(ACCOUNTS))],
        "title": "规模测试：社区义诊通知",
        "summary": "本周六上午9点",
        "kind": "notice",
        "published_at": datetime.now(UTC).isoformat(),
    }
    from chalicelib.services.push import metrics as push_metrics

    sender_metrics: Counter[str] = Counter()  # what the senders' EMF lines said, summed over invocations
    emit = push_metrics.flush

    def flush_and_sum() -> dict[str, int]:
        counted = emit()
        sender_metrics.update(counted)
        return counted

    push_metrics.flush = flush_and_sum
    counter = AwsRequestCounter(classify=push_request_kind)
    counter.install()
    with counter.measure() as counts, counter.measure_kinds() as kinds:
        elapsed, polls, stalled = run(app, args.senders, args.n, job_id, message)
    counter.uninstall()
    counts[("dynamodb", "GetItem")] -= polls
    kinds["ddb planner job GetItem"] -= polls
    faults.clear()
    tallied = time.perf_counter()

    delivered = duplicates = lost = 0
    for openids in fans.values():
        for openid in openids:
            got = sum(1 for m in standin.inbox(openid) if f"/content/{content_id}" in m["payload"].get("url", ""))
            delivered += min(got, 1)
            duplicates += max(0, got - 1)
            lost += got == 0
    per_k = {svc: counter.total(counts, svc) * 1000 / max(1, delivered) for svc in ("sqs", "dynamodb", "ssm")}
    rates = wechat_rates(standin, fans, path)
    calls = standin.calls(path)
    print(
        f"\ndelivered {delivered:,} in {elapsed:.0f}s ({delivered / elapsed:.0f} pushes/s); "
        f"duplicates {duplicates}; lost {lost}"
    )
    stuck = stuck_batches(job_id)
    if stalled or stuck:
        from chalicelib.resources import queue_specs
        from chalicelib.settings import get_settings

        dlqs = {spec.dlq_name: _depth(spec.dlq_name) for spec in queue_specs(get_settings())}
        print(
            f"STALLED: the push and send queues are empty short of {args.n:,}. Dead-letter queues: {dlqs} "
            "(replay with python -m tools.replay_dlq). Batches with recipients still pending: "
            f"{dict(sorted(stuck.items())[:20])}"
        )
    print(f"WeChat calls {len(calls):,} ({sum(1 for c in calls if c['errcode'] == -1):,} answered -1 and retried)")
    print("injected: " + ", ".join(f"{k} {v}" for k, v in sorted(injected.items())))
    print(
        "sender metrics: "
        + ", ".join(f"{k} {v}" for k, v in sorted(sender_metrics.items()))
        + f"  (duplicates <= PushSendAmbiguous late answers + {sends_bound()} per killed invocation)"
    )
    print(
        f"AWS requests per 1,000 pushes: {sum(per_k.values()):.1f} "
        f"(SQS {per_k['sqs']:.1f} incl. {args.senders + 1} pollers' receives, DynamoDB {per_k['dynamodb']:.1f}, "
        f"SSM {per_k['ssm']:.1f})"
    )
    print(
        "WeChat calls/s per account (mean, busiest second): "
        + ", ".join(f"{appid[-2:]}: {mean:.0f}/{peak}" for appid, (mean, peak) in sorted(rates.items()))
    )
    print(
        "requests by operation: "
        + ", ".join(f"{svc}.{op}={n}" for (svc, op), n in sorted(counts.items(), key=lambda kv: -kv[1])[:12])
    )
    print_breakdown(kinds, delivered, counter.kind_seconds)
    print(
        f"phases: seed {seed_seconds:.0f}s, push {elapsed:.0f}s (AWS emulator busy {counter.seconds:.0f} "
        f"request-seconds), tally {time.perf_counter() - tallied:.0f}s"
    )
    # On AWS the event source's pollers are not 51 idle threads: about one receive per 5 batches.
    receives = counts.get(("sqs", "ReceiveMessage"), 0) * 1000 / max(1, delivered)
    on_paper({"sqs": per_k["sqs"] - receives + 2.0, "dynamodb": per_k["dynamodb"]}, args.account_rate, args.senders)
    standin.stop()
    moto_proc.terminate()
    if duplicates or lost or stalled or stuck:
        raise SystemExit(f"{duplicates} duplicates, {lost} lost, stalled {stalled}, stuck batches {len(stuck)}")


if __name__ == "__main__":
    main()
