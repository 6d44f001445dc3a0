"""What the editor's forecast before publishing costs (``POST /api/v1/content/forecast``), by audience size.

In one process: moto, the WeChat stand-in and the demo world; fans are written
to one demo screen directly (subscription, fan, and the screen's ``fan_count``
counter, as the callback keeps them).  For each audience size it counts the
DynamoDB requests and bytes of the route, and, as the baseline in the same
process, of the forecast publish computes for the same screen
(``push_outcomes.forecast``).  Up to 2,000 followers the route *is* that
forecast (plus authentication and target resolution); beyond, it reads the
counters only, so its cost stays flat while the publish forecast's grows.

    .venv/bin/python -m bench.content_forecast [sizes…]   # default: 200 2000 6000
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime

from bench.harness import AwsRequestCounter, start_local_aws


def _seed(screen, start: int, stop: int) -> None:
    from chalicelib.models import Fan, Screen, Subscription
    from chalicelib.models.subscriptions import fan_key

    now = datetime.now(UTC)
    with Subscription.batch_write() as subs, Fan.batch_write() as fans:
        for i in range(start, stop):
            openid = f"o-bench-{i:06d}"
            subs.save(
                Subscription(
                    fan_key(screen.appid, openid),
                    screen.screen_id,
                    appid=screen.appid,
                    openid=openid,
                    active_screen_id=screen.screen_id,
                    source="qr",
                )
            )
            fans.save(Fan(screen.appid, openid, following=True, followed_at=now, active_screens={screen.screen_id}))
    Screen(screen.screen_id).update(actions=[Screen.fan_count.set(stop)])


def main(sizes: list[int]) -> None:
    from devstack.wechat_standin import WeChatStandIn

    standin = WeChatStandIn("127.0.0.1", 0).start()
    os.environ.update(
        WECHAT_API_BASE=standin.base_url,
        WECHAT_OAUTH_BASE=standin.base_url,
        PUBLIC_BASE_URL="http://127.0.0.1:9",
        CDN_BASE_URL="http://127.0.0.1:9",
    )
    start_local_aws()
    from chalice.test import Client

    from app import app
    from chalicelib.models import Screen, Unit
    from chalicelib.services.push import outcomes as push_outcomes
    from devstack import demo

    info = demo.seed(standin)
    admin = next(u for u in info["users"] if u["role"] == "root admin")
    screen = Screen.get(info["screens"][0]["screen_id"])
    unit = Unit.get(screen.unit_id)
    headers = {"Authorization": f"Bearer {admin['api_key']}", "Content-Type": "application/json"}
    body = f'{{"unit_id": "{unit.unit_id}", "targets": {{"screens": ["{screen.screen_id}"]}}}}'
    counter = AwsRequestCounter()
    counter.install()
    seeded = int(screen.fan_count or 0)
    print(f"forecast before publishing, screen {screen.screen_id} ({screen.name}), DynamoDB requests:")
    try:
        with Client(app) as client:
            for size in sorted(sizes):
                counter.uninstall()
                _seed(screen, seeded, max(seeded, size))
                seeded = max(seeded, size)
                counter.install()
                client.http.post("/api/v1/content/forecast", headers=headers, body=body)  # warm
                with counter.measure() as route:
                    response = client.http.post("/api/v1/content/forecast", headers=headers, body=body)
                assert response.status_code == 200, response.body
                answer = response.json_body
                with counter.measure() as baseline:
                    publish = push_outcomes.forecast(unit.unit_id, [screen.screen_id])
                r, b = AwsRequestCounter.total(route, "dynamodb"), AwsRequestCounter.total(baseline, "dynamodb")
                print(
                    f"  {seeded:6d} followers: route {r:4d} ({answer['method']}, recipients "
                    f"{answer['forecast']['recipients']}) vs publish forecast {b:4d} (recipients "
                    f"{publish['recipients']}) = {r / b:.2f}×  [{_ops(route)}]"
                )
    finally:
        counter.uninstall()
        standin.stop()


def _ops(counts) -> str:
    return ", ".join(f"{op} {n}" for (svc, op), n in sorted(counts.items()) if svc == "dynamodb")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [200, 2000, 6000])
