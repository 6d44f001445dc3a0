"""Analytics benchmark: DynamoDB requests of rankings and series, roll-up write amplification and lag.

In one process, against the emulator, it counts the requests of

* a ranking of ``--units`` subordinate units (with ``--screens`` screens in all)
  over ``--days`` days: the roll-ups (one Query per subordinate) against the
  original per-screen method (one Query per screen, plus the screen listings);
* a subtree series over ``--days`` days through the admin API (auth included);
* the roll-up consumer per subscription event (write amplification), for one
  event per batch and for full batches, beside the callback's own requests;
* the lag of the roll-ups behind a burst of ``--burst`` subscription events
  delivered through the stream pump as Lambda would (batches of 500).

Roll-up days are seeded directly (one item per subordinate per day, realistic
sizes); screens for the baseline are real Screen items with empty series —
a Query costs a request whether or not it finds days.  The emulator is slow,
so the defaults are the issue's sizes except where ``--quick`` scales them
down; the output says which were used.

    python -m bench.analytics [--units 100] [--screens 10000] [--days 365] [--burst 10000] [--quick]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import date, timedelta

from bench.harness import AwsRequestCounter, start_local_aws


def _batch_write(table: str, items: list[dict]) -> None:
    from chalicelib.aws import client

    ddb = client("dynamodb")
    for start in range(0, len(items), 25):
        request = {table: [{"PutRequest": {"Item": item}} for item in items[start:start + 25]]}
        while request:
            request = ddb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def _day_item(scope: str, day: str, rng: random.Random) -> dict:
    from chalicelib.models.stats import COUNTERS

    item = {"scope": {"S": scope}, "day": {"S": day}}
    for name in COUNTERS:
        item[name] = {"N": str(rng.randint(0, 400))}
    return item


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--screens", type=int, default=10000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--burst", type=int, default=10000)
    parser.add_argument("--quick", action="store_true", help="1,000 screens and a burst of 1,000 (emulator speed)")
    args = parser.parse_args()
    if args.quick:
        args.screens, args.burst = min(args.screens, 1000), min(args.burst, 1000)

    start_local_aws()
    from botocore.config import Config

    import chalicelib.aws as aws_module

    # the emulator answers a 365-day query of 100 scopes slowly on a busy machine: wait for it (bench only)
    aws_module._CONFIG = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=3, read_timeout=300)
    aws_module.client.cache_clear()
    from chalice.test import Client

    from app import app
    from chalicelib.models import Account, AnalyticsRollup, Screen, Unit
    from chalicelib.models.rollups import LIVE
    from chalicelib.models.stats import china_day
    from chalicelib.secrets import store_account_secrets
    from chalicelib.services import users
    from chalicelib.services.analytics import per_screen
    from devstack.stream_pump import StreamPump
    from devstack.wechat_messages import WeChatSender

    rng = random.Random(7)
    today = date.fromisoformat(china_day())
    first = today - timedelta(days=args.days - 1)
    Unit("root", root_id="root", path="root/", name="省科协").save()
    children = [f"u{i:03d}" for i in range(args.units)]
    with Unit.batch_write() as batch:
        for uid in children:
            batch.save(Unit(uid, root_id="root", path=f"root/{uid}/", parent_id="root", name=f"单位{uid}"))
    Account("wxbenchanalytic01", unit_id="root", name="基准", original_id="gh_benchanalyt").save()
    store_account_secrets("wxbenchanalytic01", token="benchtoken", app_secret="s")
    with Screen.batch_write() as batch:
        for n in range(args.screens):
            batch.save(Screen(f"B{n:05d}", unit_id=children[n % args.units], name=f"屏{n}",
                              appid="wxbenchanalytic01"))
    table = AnalyticsRollup.Meta.table_name
    items = []
    for uid in ["root", *children]:
        for d in range(args.days):
            items.append(_day_item(f"tree#{uid}", (first + timedelta(days=d)).isoformat(), rng))
        items.append({"scope": {"S": f"tree#{uid}"}, "day": {"S": LIVE}, "fans": {"N": "5000"},
                      "screens": {"N": str(args.screens // args.units)}, "distinct": {"N": "4000"}})
    _batch_write(table, items)
    user = users.create(None, {"unit_id": "root", "name": "bench"}, actor="bench")
    users.grant(None, user.user_id, "root", "admin", actor="bench")
    key = users.issue_key(None, user.user_id, "bench", actor="bench")[1]
    principal = users.principal_for(user.user_id)

    counter = AwsRequestCounter()
    counter.install()
    headers = {"Authorization": f"Bearer {key}"}
    span = f"from={first.isoformat()}&to={today.isoformat()}"
    with Client(app) as client:
        with counter.measure() as rollup_ranking:
            t0 = time.perf_counter()
            response = client.http.get(f"/api/v1/analytics/units/root/ranking?metric=net&{span}", headers=headers)
            rollup_seconds = time.perf_counter() - t0
        assert response.status_code == 200, response.body
        with counter.measure() as series_counts:
            response = client.http.get(f"/api/v1/analytics/subtree/root/series?{span}&bucket=month",
                                       headers=headers)
        assert response.status_code == 200, response.body
    with counter.measure() as legacy_ranking:
        t0 = time.perf_counter()
        per_screen.ranking(principal, "root", "growth", first, today)
        legacy_seconds = time.perf_counter() - t0
    ddb = AwsRequestCounter.total
    r_new, r_old = ddb(rollup_ranking, "dynamodb"), ddb(legacy_ranking, "dynamodb")
    print(f"ranking of {args.units} subordinates, {args.screens} screens, {args.days} days:")
    print(f"  roll-ups (admin API, auth included): {r_new} DynamoDB requests  (goal <= 110)  {rollup_seconds:.2f}s")
    print(f"  per-screen method (service only):   {r_old} DynamoDB requests  {legacy_seconds:.2f}s")
    print(f"  ratio: {r_old / max(r_new, 1):.0f}x fewer requests, {legacy_seconds / max(rollup_seconds, 1e-9):.1f}x "
          "faster")
    auth = 4  # every admin call: GetItem key, GetItem user, Query grants, BatchGetItem their units
    print(f"subtree series over {args.days} days (admin API): {ddb(series_counts, 'dynamodb')} DynamoDB requests, "
          f"of which {auth} authenticate the key (any admin call) and {ddb(series_counts, 'dynamodb') - auth} read "
          "the series  (goal <= 5)")
    print(f"  requests by operation: {dict(series_counts)}")

    # ---- write amplification and lag: real subscription events through the gateway and the stream pump
    sender = WeChatSender("wxbenchanalytic01", "gh_benchanalyt", "benchtoken")
    pump = StreamPump(app, stage="bench", starting_position="LATEST")
    pump.drain()
    with Client(app) as client:
        def follow(openid: str, screen: str) -> None:
            request = sender.follow(openid, scene=screen)
            reply = client.http.post(f"/wechat/{sender.appid}?{request.query_string}",
                                     headers={"Content-Type": "text/xml"}, body=request.body)
            assert reply.status_code == 200

        with counter.measure() as one_callback:
            follow("o-single", "B00001")
        with counter.measure() as one_rollup:
            pump.drain()
        with counter.measure() as burst_callbacks:
            for n in range(args.burst):
                follow(f"o-burst-{n}", f"B{rng.randrange(args.screens):05d}")
        burst_done = time.perf_counter()
        with counter.measure() as burst_rollup:
            delivered = pump.drain(timeout=3600)
        lag = time.perf_counter() - burst_done
    per_event = ddb(burst_rollup, "dynamodb") / max(args.burst, 1)
    print("write amplification per subscription event (a QR follow: 1 subscription, 2 daily_stats records):")
    print(f"  callback: {ddb(one_callback, 'dynamodb')} DynamoDB requests (unchanged)")
    print(f"  roll-up consumer, an event alone in its batches: {ddb(one_rollup, 'dynamodb')} requests")
    print(f"  roll-up consumer in a burst of {args.burst}: {per_event:.2f} requests per event "
          f"({ddb(burst_rollup, 'dynamodb')} in all, {delivered} stream records)")
    print(f"  (stream reads of the pump, not DynamoDB requests: {ddb(burst_rollup, 'dynamodbstreams')})")
    print(f"  (the callbacks of the burst: {ddb(burst_callbacks, 'dynamodb') / max(args.burst, 1):.2f} requests "
          "per event)")
    print(f"lag behind the burst of {args.burst} (stream pump, batches of 500, emulator): {lag:.1f}s from the "
          f"last event committed to every roll-up written ({delivered / max(lag, 1e-9):.0f} stream records/s); the "
          "pump starts after the burst here, so this is the whole backlog's processing time")
    counter.uninstall()


if __name__ == "__main__":
    main()
