"""What the per-channel push forecast costs a publish: push on (forecast) against push off, same process.

N fans (default 5,000) subscribe to two screens of one unit: two thirds through
the unit's own service account, one third through a sibling unit's account
(cross-unit: its ``unread`` policy applies).  Each round creates a notice and
publishes it through the content service, once with ``push: true`` (the
forecast walks the subscriber index and reads up to 2,000 fans) and once with
``push: false`` (the baseline).  Every AWS request is counted at botocore.

Printed: median publish time of each, the ratio, and AWS requests per publish
by operation.  moto on loopback is far slower per request than DynamoDB (its
index Query walks the whole table: the planner's own merge of 3,000 fans takes
~9 s there), so the request counts are the figure that carries over to
production: ~20 BatchGetItem of 100 fans and a few index pages per publish.

    python -m bench.publish_forecast [--n 5000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from bench.harness import AwsRequestCounter, start_local_aws

OWN, OTHER = "wxbenchforecast01", "wxbenchforecast02"


def seed(n: int):
    from chalicelib.models import Account, Fan, Screen, Subscription
    from chalicelib.models.subscriptions import fan_key
    from chalicelib.services.access import units, users

    root_unit, user, _key = users.bootstrap_root_admin("基准省科协", "bench")
    root = users.principal_for(user.user_id)
    city = units.create(root, {"parent_id": root_unit.unit_id, "name": "基准市科协"})
    town = units.create(root, {"parent_id": root_unit.unit_id, "name": "基准社区"})
    Account(OWN, unit_id=city.unit_id, name="本单位号", original_id="gh_benchfc0001", template_id="tmpl").save()
    Account(OTHER, unit_id=town.unit_id, name="兄弟单位号", original_id="gh_benchfc0002", template_id="tmpl").save()
    for code in ("FC001", "FC002"):
        Screen(code, unit_id=city.unit_id, name=f"基准大屏{code}", appid=OWN).save()
    with Subscription.batch_write() as subs, Fan.batch_write() as fans:
        for i in range(n):
            appid = OTHER if i % 3 == 2 else OWN
            openid = f"oFc{i:07d}"
            for code in ("FC001", "FC002")[: 1 + (i % 2)]:
                subs.save(
                    Subscription(
                        fan_key(appid, openid), code, appid=appid, openid=openid, active_screen_id=code, source="qr"
                    )
                )
            fans.save(Fan(appid, openid, following=True))
    return root, city


def publish_once(root, city, push: bool, counter: AwsRequestCounter) -> tuple[float, dict, dict | None]:
    from chalicelib.services.content import workflow as content

    item = content.create(
        root,
        {
            "unit_id": city.unit_id,
            "kind": "notice",
            "title": "基准通知",
            "body": "正文",
            "targets": {"units": [city.unit_id]},
            "push": push,
        },
    )
    with counter.measure() as counts:
        started = time.perf_counter()
        done = content.transition(root, item.content_id, "publish", None)
        elapsed = time.perf_counter() - started
    forecast = done.push_forecast.as_dict() if hasattr(done.push_forecast, "as_dict") else done.push_forecast
    return elapsed, counts, forecast


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="fans (subscriptions are 1.5 x n)")
    parser.add_argument("--rounds", type=int, default=3, help="publishes of each kind")
    args = parser.parse_args()
    os.environ.setdefault("PUBLIC_BASE_URL", "https://kepu.example.cn")
    start_local_aws()
    root, city = seed(args.n)
    counter = AwsRequestCounter()
    counter.install()
    on, off, forecast, on_counts, off_counts = [], [], None, None, None
    for _ in range(args.rounds):
        seconds, on_counts, forecast = publish_once(root, city, True, counter)
        on.append(seconds)
        seconds, off_counts, _ = publish_once(root, city, False, counter)
        off.append(seconds)
    counter.uninstall()
    print(
        f"publish forecast: {args.n:,} fans on 2 screens, 1/3 through a sibling unit's account, "
        f"{args.rounds} rounds, moto on loopback"
    )
    for row in forecast["accounts"]:
        print(
            f"  {row['appid']}: reach {row['reach']}, recipients {row['recipients']}, channels "
            f"{ {k: v for k, v in row['channels'].items() if v} }, estimated {row['estimated']}"
        )
    print(
        f"push on  (forecast): median {statistics.median(on):.3f} s, "
        f"{AwsRequestCounter.total(on_counts)} AWS requests {dict(on_counts)}"
    )
    print(
        f"push off (baseline): median {statistics.median(off):.3f} s, "
        f"{AwsRequestCounter.total(off_counts)} AWS requests {dict(off_counts)}"
    )
    print(
        f"ratio on/off: {statistics.median(on) / statistics.median(off):.1f}x time, "
        f"{AwsRequestCounter.total(on_counts) / max(1, AwsRequestCounter.total(off_counts)):.1f}x requests"
    )


if __name__ == "__main__":
    main()
