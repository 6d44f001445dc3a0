"""Analytics benchmark: DynamoDB requests of rankings and series, roll-up write amplification and lag.

In one process, against the emulator (moto in a process of its own, so the
emulator and the code under test do not share one interpreter lock), it counts

* a ranking of ``--units`` subordinate units with ``--screens`` screens in all
  over ``--days`` days, through the admin API (authentication included): the
  roll-ups (one Query per subordinate) against the original per-screen method
  (one Query per screen, plus a screen listing per subordinate) in the same run;
* a subtree series over ``--days`` days through the admin API (goal ≤ 5);
* the roll-up consumer's DynamoDB requests per subscription event (write
  amplification), for an event alone in its batches and inside a burst, beside
  the callback's own requests;
* the lag of the roll-ups behind a burst of ``--burst`` subscription events,
  through the local stream pump and the same consumer (batches of up to 500,
  the handlers' batch size): ``--burst-mode backlog`` (default) lands the
  burst's source records at once with BatchWriteItem and times the pump
  working off the whole backlog -- the worst case, every event arriving in the
  same instant; ``--burst-mode live`` commits them through the subscription
  service's transactions (as the gateway does) while the pump polls every
  0.25 s -- realistic, but the emulator commits only ~10-20 events/s, so the
  burst itself takes many minutes.  The lag is the time from the last event
  committed to the last roll-up written.

Seeding is not measured: the screens go in with BatchWriteItem, the roll-up
days (one item per subordinate subtree per day, every counter set: the
largest realistic item) with BatchWriteItem too.  The screens' own
``DailyStat`` series are left empty: a Query costs one request whether or not
it finds days, so the per-screen method's request count does not depend on
them.  ``--baseline-sample K`` measures the per-screen method on every K-th
subordinate only and extrapolates (the output says so).

    python -m bench.analytics [--units 100] [--screens 10000] [--days 365] [--burst 10000] [--baseline-sample 1]
                              [--burst-mode backlog|live] [--writers 4]
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
from datetime import UTC, date, datetime, timedelta

from bench.harness import AwsRequestCounter, provision_local_aws


class ThreadRequestCounter(AwsRequestCounter):
    """Counts AWS requests by (service, operation) and, apart, those made by one named thread (the pump)."""

    def __init__(self, thread_name: str) -> None:
        super().__init__()
        self.thread_name = thread_name
        self.of_thread: Counter[tuple[str, str]] = Counter()

    def install(self) -> None:
        import botocore.client

        counter = self

        def counting(client, operation_name, api_params):
            try:
                return counter._original(client, operation_name, api_params)
            finally:
                key = (client.meta.service_model.service_name, operation_name)
                with counter._lock:
                    counter.calls[key] += 1
                    if threading.current_thread().name == counter.thread_name:
                        counter.of_thread[key] += 1

        botocore.client.BaseClient._make_api_call = counting


def fast_item_reads() -> None:
    """The emulator answers item reads and GetRecords with ``json.dumps``, not moto's generic serialiser.

    moto 5 runs every AttributeValue of a response through a shape-driven
    serialiser: a Query of 365 roll-up days took ~2.5 s of the emulator's
    time, ~20x the same answer from ``json.dumps`` (same bytes parsed, checked
    equal on Query, GetItem, BatchGetItem, pagination; GetRecords: the roll-ups
    the burst leaves come out exact).  Bench only: it
    changes how long the emulator takes, never what is asked or answered.
    """
    import json

    from moto.dynamodb.responses import DynamoResult

    original = DynamoResult.execute_result

    def execute_result(self, context):
        if context.operation_model.name in ("Query", "GetItem", "BatchGetItem", "Scan", "TransactGetItems"):
            return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(self.result)
        return original(self, context)

    DynamoResult.execute_result = execute_result

    import calendar
    from datetime import datetime as _datetime

    from moto.core.responses import ActionResult
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    def epoch(value):
        if isinstance(value, _datetime):  # moto keeps naive UTC; the JSON protocol sends epoch seconds
            return calendar.timegm(value.utctimetuple()) + value.microsecond / 1e6
        raise TypeError(type(value))

    class RecordsResult(ActionResult):
        def execute_result(self, context):
            return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(self.result, default=epoch)

    def get_records(self):
        limit = self._get_param("Limit") or 1000
        return RecordsResult(self.backend.get_records(self._get_param("ShardIterator"), limit))

    DynamoDBStreamsHandler.get_records = get_records


def start_emulator() -> subprocess.Popen:
    """moto (with the project's patches: serialised DynamoDB, bounded transactions) in a child process."""
    code = (
        "import sys, time\nfrom bench.analytics import fast_item_reads\nfast_item_reads()\n"
        "from devstack.moto_server import start_moto\n_s, endpoint = start_moto()\n"
        "print(endpoint, flush=True)\nsys.stdin.read()\n"
    )  # lives until the bench ends it
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": root},
    )
    endpoint = child.stdout.readline().strip()
    if not endpoint.startswith("http"):
        raise RuntimeError("the emulator did not start")
    os.environ.setdefault("STAGE", "bench")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    provision_local_aws(endpoint)
    return child


def _batch_write(table: str, items: list[dict]) -> int:
    from chalicelib.aws import client

    ddb, requests = client("dynamodb"), 0
    for start in range(0, len(items), 25):
        request = {table: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]}
        while request:
            requests += 1
            request = ddb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
    return requests


def _day_item(scope: str, day: str, rng: random.Random) -> dict:
    from chalicelib.models.stats import COUNTERS

    item = {"scope": {"S": scope}, "day": {"S": day}}
    for name in COUNTERS:
        item[name] = {"N": str(rng.randint(0, 400))}
    return item


def _put_in_order(table: str, items: list[dict], key_names: tuple[str, ...]) -> None:
    """BatchWriteItem in the given order; a batch is cut before a key it already holds (no duplicates allowed)."""
    from chalicelib.aws import client

    ddb, batch, keys = client("dynamodb"), [], set()
    for item in [*items, None]:
        key = tuple(item[k]["S"] for k in key_names) if item else None
        if batch and (item is None or key in keys or len(batch) == 25):
            request = {table: [{"PutRequest": {"Item": it}} for it in batch]}
            while request:
                request = ddb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
            batch, keys = [], set()
        if item is not None:
            batch.append(item)
            keys.add(key)


def write_source_records(openids: list[str], targets: list[str], placed: dict[str, str]) -> None:
    """The records a burst of QR subscriptions leaves, written in bulk: what the consumer reads from the streams.

    Per event, as the subscription transaction writes them: the subscription
    (INSERT, active), the screen's day counters (``subs_qr`` one more) and the
    screen's fan count (one more) -- each change its own stream record, so a
    screen hit twice gets two successive puts.  (The account's day is left
    out: the consumer ignores account days.)
    """
    from chalicelib.models import DailyStat, Screen, Subscription
    from chalicelib.models.stats import china_day

    appid = "wxbenchanalytic01"
    day, stamp = china_day(), datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")
    totals: Counter[str] = Counter()
    subs, stats, screens = [], [], []
    for openid, screen in zip(openids, targets, strict=True):
        totals[screen] += 1
        subs.append(
            {
                "fan": {"S": f"{appid}#{openid}"},
                "screen_id": {"S": screen},
                "appid": {"S": appid},
                "openid": {"S": openid},
                "status": {"S": "active"},
                "source": {"S": "qr"},
                "subscribed_at": {"S": stamp},
                "updated_at": {"S": stamp},
                "active_screen_id": {"S": screen},
            }
        )
        stats.append({"subject": {"S": f"screen#{screen}"}, "day": {"S": day}, "subs_qr": {"N": str(totals[screen])}})
        screens.append(
            {
                "screen_id": {"S": screen},
                "unit_id": {"S": placed[screen]},
                "name": {"S": f"屏{screen}"},
                "appid": {"S": appid},
                "fan_count": {"N": str(totals[screen])},
            }
        )
    _put_in_order(Subscription.Meta.table_name, subs, ("fan", "screen_id"))
    _put_in_order(DailyStat.Meta.table_name, stats, ("subject", "day"))
    _put_in_order(Screen.Meta.table_name, screens, ("screen_id",))


def seed(args: argparse.Namespace, rng: random.Random, first: date) -> dict[str, str]:
    """Units, screens and the subordinates' roll-up days; returns screen id -> unit id."""
    from chalicelib.models import Account, AnalyticsRollup, Screen, Unit
    from chalicelib.models.rollups import LIVE
    from chalicelib.secrets import store_account_secrets

    Unit("root", root_id="root", path="root/", name="省科协").save()
    children = [f"u{i:03d}" for i in range(args.units)]
    with Unit.batch_write() as batch:
        for uid in children:
            batch.save(Unit(uid, root_id="root", path=f"root/{uid}/", parent_id="root", name=f"单位{uid}"))
    Account("wxbenchanalytic01", unit_id="root", name="基准", original_id="gh_benchanalyt").save()
    store_account_secrets("wxbenchanalytic01", token="benchtoken", app_secret="s")
    placed = {f"B{n:05d}": children[n % args.units] for n in range(args.screens)}
    _batch_write(
        Screen.Meta.table_name,
        [
            {
                "screen_id": {"S": sid},
                "unit_id": {"S": uid},
                "name": {"S": f"屏{sid}"},
                "appid": {"S": "wxbenchanalytic01"},
                "fan_count": {"N": "0"},
            }
            for sid, uid in placed.items()
        ],
    )
    items = []
    per_unit = Counter(placed.values())
    for uid in ["root", *children]:
        screens = args.screens if uid == "root" else per_unit[uid]
        for d in range(args.days):
            items.append(_day_item(f"tree#{uid}", (first + timedelta(days=d)).isoformat(), rng))
        items.append(
            {
                "scope": {"S": f"tree#{uid}"},
                "day": {"S": LIVE},
                "fans": {"N": "5000"},
                "screens": {"N": str(screens)},
                "distinct": {"N": "4000"},
            }
        )
    _batch_write(AnalyticsRollup.Meta.table_name, items)
    return placed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--screens", type=int, default=10000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--burst", type=int, default=10000)
    parser.add_argument(
        "--baseline-sample",
        type=int,
        default=1,
        help="measure the per-screen method on every K-th subordinate and extrapolate (1: all)",
    )
    parser.add_argument("--writers", type=int, default=4, help="threads committing the burst's events (live)")
    parser.add_argument(
        "--burst-mode",
        choices=("backlog", "live"),
        default="backlog",
        help="backlog: the burst's records land at once, then the pump works them off (the worst "
        "case; fast to set up); live: the subscription service commits them while the pump "
        "polls (the emulator commits ~10-20 events/s, so the burst itself takes minutes)",
    )
    args = parser.parse_args()

    emulator = start_emulator()
    started = time.perf_counter()
    try:
        _run(args)
    finally:
        emulator.terminate()  # our own child, by its handle
        emulator.wait(timeout=30)
    print(f"(bench wall time {time.perf_counter() - started:.0f}s)")


def _run(args: argparse.Namespace) -> None:
    from botocore.config import Config

    import chalicelib.aws as aws_module

    # the emulator answers a 365-day query of large items slowly on a busy machine: wait for it (bench only)
    aws_module._CONFIG = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=3, read_timeout=300)
    aws_module.client.cache_clear()
    from chalice.test import Client

    from app import app
    from chalicelib.models import Unit
    from chalicelib.models.stats import china_day
    from chalicelib.services.access import users
    from chalicelib.services.analytics import per_screen, store
    from chalicelib.services.screens.registry import screens_in
    from devstack import demo_history
    from devstack.stream_pump import StreamPump
    from devstack.wechat_messages import WeChatSender

    rng = random.Random(7)
    today = date.fromisoformat(china_day())
    first = today - timedelta(days=args.days - 1)
    t0 = time.perf_counter()
    placed = seed(args, rng, first)
    print(
        f"seeded {args.units} subordinates, {args.screens} screens, {args.days} days of roll-ups "
        f"in {time.perf_counter() - t0:.0f}s"
    )
    user = users.create(None, {"unit_id": "root", "name": "bench"}, actor="bench")
    users.grant(None, user.user_id, "root", "admin", actor="bench")
    key = users.issue_key(None, user.user_id, "bench", actor="bench")[1]
    principal = users.principal_for(user.user_id)

    counter = ThreadRequestCounter("stream-pump")
    counter.install()
    ddb = AwsRequestCounter.total
    headers = {"Authorization": f"Bearer {key}"}
    span = f"from={first.isoformat()}&to={today.isoformat()}"
    with Client(app) as client:
        with counter.measure() as rollup_ranking:
            t0 = time.perf_counter()
            response = client.http.get(f"/api/v1/analytics/units/root/ranking?metric=net&{span}", headers=headers)
            rollup_seconds = time.perf_counter() - t0
        assert response.status_code == 200, response.body
        assert len(response.json_body["items"]) == args.units
        with counter.measure() as series_counts:
            response = client.http.get(f"/api/v1/analytics/subtree/root/series?{span}&bucket=month", headers=headers)
        assert response.status_code == 200, response.body

    # ---- the original per-screen method, same process, same data
    t0 = time.perf_counter()
    if args.baseline_sample <= 1:
        with counter.measure() as legacy_ranking:
            per_screen.ranking(principal, "root", "growth", first, today)
        legacy_requests, legacy_seconds = ddb(legacy_ranking, "dynamodb"), time.perf_counter() - t0
        legacy_note = "measured"
    else:  # every K-th subordinate, exactly as the method treats each, then scaled to all of them
        children = sorted(
            Unit.subtree.query("root", Unit.path.startswith("root/"), filter_condition=Unit.parent_id == "root"),
            key=lambda u: u.unit_id,
        )
        sample = children[:: args.baseline_sample]
        with counter.measure() as legacy_sample:
            for child in sample:
                per_screen._metric(screens_in(child), "growth", first.isoformat(), today.isoformat())
        scale = len(children) / len(sample)
        legacy_requests = round(2 + ddb(legacy_sample, "dynamodb") * scale)  # + the unit and the children listing
        legacy_seconds = (time.perf_counter() - t0) * scale
        legacy_note = (
            f"extrapolated from a deterministic sample of {len(sample)} of {len(children)} subordinates "
            f"({ddb(legacy_sample, 'dynamodb')} requests measured, x{scale:.0f})"
        )
    r_new = ddb(rollup_ranking, "dynamodb")
    print(f"ranking of {args.units} subordinates, {args.screens} screens, {args.days} days:")
    print(
        f"  roll-ups (admin API, auth included): {r_new} DynamoDB requests  (goal <= 110: "
        f"{'met' if r_new <= 110 else 'NOT met'})  {rollup_seconds:.1f}s"
    )
    print(f"    by operation: {dict(rollup_ranking)}")
    print(
        f"  per-screen method (service only):   {legacy_requests} DynamoDB requests  {legacy_seconds:.1f}s "
        f"({legacy_note})"
    )
    print(
        f"  ratio: {legacy_requests / max(r_new, 1):.0f}x fewer requests; times are the emulator's "
        f"({legacy_seconds / max(rollup_seconds, 1e-9):.1f}x)"
    )
    s_total = ddb(series_counts, "dynamodb")
    print(
        f"subtree series over {args.days} days (admin API, auth included): {s_total} DynamoDB requests  "
        f"(goal <= 5: {'met' if s_total <= 5 else 'NOT met'})"
    )
    print(
        f"  by operation: {dict(series_counts)}  (GetItem key, GetItem user, Query grants, BatchGetItem granted "
        "units -- kept for the call, so the unit is not read again -- and one Query of the series)"
    )

    # ---- write amplification: one real event through the gateway, then the pump
    sender = WeChatSender("wxbenchanalytic01", "gh_benchanalyt", "benchtoken")
    pump = StreamPump(app, stage="bench", starting_position="LATEST")
    pump.drain()
    screens = sorted(placed)
    callbacks = 20
    with Client(app) as client:

        def follow(openid: str, screen: str) -> None:
            request = sender.follow(openid, scene=screen)
            reply = client.http.post(
                f"/wechat/{sender.appid}?{request.query_string}",
                headers={"Content-Type": "text/xml"},
                body=request.body,
            )
            assert reply.status_code == 200

        follow("o-warm", screens[0])  # the first callback of a process reads the account's secrets once
        pump.drain()
        with counter.measure() as one_callback:
            follow("o-single", screens[1])
        with counter.measure() as one_rollup:
            pump.drain()
        with counter.measure() as some_callbacks:
            for n in range(callbacks):
                follow(f"o-cb-{n}", screens[(n * 7919) % len(screens)])
    pump.drain()

    # ---- the burst: events commit from --writers threads while the pump polls, as Lambda would
    openids = [f"o-burst-{n}" for n in range(args.burst)]
    targets = [screens[rng.randrange(len(screens))] for _ in openids]
    pump_before = Counter(counter.of_thread)
    stop = threading.Event()
    pump_thread = pump.run_forever(stop, interval=0.25)  # Lambda polls a shard about four times a second
    delivered_before = pump.delivered

    def write(part: int) -> None:
        for n in range(part, args.burst, args.writers):
            demo_history.subscribe("wxbenchanalytic01", openids[n], targets[n], "qr", datetime.now(UTC))

    t_start = time.perf_counter()
    if args.burst_mode == "live":
        writers = [threading.Thread(target=write, args=(i,), name=f"writer-{i}") for i in range(args.writers)]
        for thread in writers:
            thread.start()
        for thread in writers:
            thread.join()
    else:
        stop.set()
        pump_thread.join()
        write_source_records(openids, targets, placed)
    t_committed = time.perf_counter()
    stop.set()
    pump_thread.join()
    behind_at_end = pump.delivered - delivered_before
    final = threading.Thread(target=pump.drain, kwargs={"timeout": 3600}, name="stream-pump")  # counted as the pump
    final.start()
    final.join()
    t_done = time.perf_counter()
    delivered = pump.delivered - delivered_before
    consumer = Counter({k: v - pump_before.get(k, 0) for k, v in counter.of_thread.items()})
    consumer_ddb = ddb(consumer, "dynamodb")
    counter.uninstall()

    live = store.get_item("tree#root", "~live") or {}
    burst_seconds = t_committed - t_start
    lag = t_done - t_committed
    print(
        "write amplification per subscription event (a QR subscription: 1 subscriptions record, "
        "2 daily_stats records -- screen and account):"
    )
    print(
        f"  callback: {ddb(one_callback, 'dynamodb')} DynamoDB requests for one event, "
        f"{ddb(some_callbacks, 'dynamodb') / callbacks:.2f} per event over {callbacks} (unchanged: 2)"
    )
    print(f"  roll-up consumer, an event alone in its batches: {ddb(one_rollup, 'dynamodb')} requests")
    print(
        f"  roll-up consumer in the burst of {args.burst}: {consumer_ddb / max(args.burst, 1):.3f} requests per "
        f"event ({consumer_ddb} DynamoDB requests for {delivered} stream records; stream reads apart: "
        f"{ddb(consumer, 'dynamodbstreams')})"
    )
    if args.burst_mode == "live":
        print(
            f"lag behind a burst of {args.burst} subscription events (emulator, {args.writers} writer threads "
            "committing the subscription service's transactions, stream pump polling every 0.25 s, batches of "
            "up to 500):"
        )
        print(
            f"  the burst committed in {burst_seconds:.1f}s ({args.burst / max(burst_seconds, 1e-9):.0f} "
            f"events/s); the consumer had applied {behind_at_end} of {delivered} records by then"
        )
    else:
        print(
            f"lag behind a burst of {args.burst} subscription events arriving at once (the worst case): their "
            "source records (subscription inserts, the screens' day counters and fan counts, one change per "
            f"event) written with BatchWriteItem in {burst_seconds:.1f}s while the pump was stopped, then the "
            "stream pump delivers the whole backlog in batches of up to 500 (the handlers' batch size)"
        )
    print(
        f"  lag from the last event committed to the last roll-up written: {lag:.1f}s "
        f"(goal <= 60 s: {'met' if lag <= 60 else 'NOT met'})"
    )
    print(
        f"  consumer throughput: {delivered / max(t_done - t_start, 1e-9):.0f} stream records/s, "
        f"{args.burst / max(t_done - t_start, 1e-9):.0f} events/s"
    )
    print(
        f"  roll-up after the burst: tree#root distinct fans {int(live.get('distinct', 0)) - 4000} added "
        f"(expected {args.burst + callbacks + 2})"
    )


if __name__ == "__main__":
    main()
