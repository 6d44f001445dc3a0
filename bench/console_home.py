"""What the console's home page costs in DynamoDB requests (issue 14: at most 10 for its API calls in all).

In one process: moto, the WeChat stand-in and the demo world (``devstack.demo``),
then the exact calls ``console/src/views/Home.vue`` makes for the demo's root
admin — screens (every page), content waiting for review, the 5 latest
published items and each one's read (for its push status), accounts, and this
month's subtree series — through the Chalice app, counting every botocore
request per route.  The shell's own session read (``GET /auth/session``) is
counted apart: it is paid once per page load, not by the home page.

    .venv/bin/python -m bench.console_home
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


def main() -> None:
    from devstack.wechat_standin import WeChatStandIn

    standin = WeChatStandIn("127.0.0.1", 0).start()
    os.environ.update(WECHAT_API_BASE=standin.base_url, WECHAT_OAUTH_BASE=standin.base_url,
                      PUBLIC_BASE_URL="http://127.0.0.1:9", CDN_BASE_URL="http://127.0.0.1:9")
    start_local_aws()  # reads the settings afresh, WeChat's address included
    from chalice.test import Client

    from app import app
    from devstack import demo

    info = demo.seed(standin)
    admin = next(u for u in info["users"] if u["role"] == "root admin")
    counter = AwsRequestCounter()
    counter.install()
    try:
        with Client(app) as client:
            login = client.http.post("/api/v1/auth/login", headers={"Content-Type": "application/json"},
                                     body=json.dumps({"username": admin["username"], "password": admin["password"]}))
            assert login.status_code == 200, login.body
            cookie = login.headers["Set-Cookie"].split(";", 1)[0]
            for label, headers in (("console session cookie", {"Cookie": cookie}),
                                   ("bearer API key", {"Authorization": f"Bearer {admin['api_key']}"})):
                home_calls(client, headers, admin["unit_id"])  # warm: caches a Lambda keeps between requests
                per_route: list[tuple[str, Counter]] = []
                with counter.measure() as everything:
                    for _path, _body in _each(client, headers, admin["unit_id"], counter, per_route):
                        pass
                _report(label, admin, per_route, everything)
    finally:
        counter.uninstall()
        standin.stop()


def _report(label: str, admin: dict, per_route: list[tuple[str, Counter]], everything: Counter) -> None:
    dynamo = AwsRequestCounter.total(everything, "dynamodb")
    print(f"home page for {admin['unit_name']} (demo data, {label}): {len(per_route)} API calls, "
          f"{dynamo} DynamoDB requests = {dynamo / BUDGET:.1f} × the budget of {BUDGET} "
          f"({AwsRequestCounter.total(everything)} AWS requests in all)")
    for path, counts in per_route:
        ops = ", ".join(f"{op} {n}" for (svc, op), n in sorted(counts.items()) if svc == "dynamodb")
        print(f"  {AwsRequestCounter.total(counts, 'dynamodb'):3d}  {path.split('?')[0]:60s} {ops}")


def _each(client, headers, unit_id, counter, per_route):
    """Replays the home calls one by one, recording each call's requests."""
    real_get = client.http.get

    def measured(path, **kwargs):
        with counter.measure() as counts:
            response = real_get(path, **kwargs)
        per_route.append((path, counts))
        return response

    client.http.get = measured
    try:
        yield from home_calls(client, headers, unit_id)
    finally:
        client.http.get = real_get


if __name__ == "__main__":
    main()
