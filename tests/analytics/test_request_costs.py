"""What an analytics call costs in DynamoDB requests, authentication included (the issue's budget)."""

from __future__ import annotations

from bench.harness import AwsRequestCounter
from chalicelib.models.stats import china_day
from tests.analytics.conftest import V


def _requests(call) -> tuple[int, object]:
    counter = AwsRequestCounter()
    counter.install()
    try:
        with counter.measure() as counts:
            reply = call()
    finally:
        counter.uninstall()
    return AwsRequestCounter.total(counts, "dynamodb"), reply


def test_a_subtree_series_over_a_year_costs_at_most_five_requests(admin, fans, pump):
    fans.follow(fans.demo.plain.appid, "o-cost", scene="NJ001")
    pump.drain()
    day = china_day()
    first = f"{int(day[:4]) - 1}{day[4:]}"
    for who, unit in (("prov", "prov"), ("city", "city")):  # the granted unit itself and, for prov, below it
        n, reply = _requests(
            lambda who=who, unit=unit: admin[who].get(
                f"{V}/analytics/subtree/{unit}/series?from={first}&to={day}&bucket=month"
            )
        )
        assert reply.status_code == 200 and n <= 5, (who, n)
    n, reply = _requests(lambda: admin["prov"].get(f"{V}/analytics/subtree/city/series?from={first}&to={day}"))
    assert reply.status_code == 200 and n <= 6, n  # a unit below the grant is read once more: still scoped
    n, reply = _requests(lambda: admin["town"].get(f"{V}/analytics/subtree/city/series"))
    assert reply.status_code == 404, n  # the cache of granted units changes nothing about scope
