"""Past days' distinct fans: closed at each day's end, reproduced by the series, kept by the rebuild.

A random history over three past days (the subscription service's own
transactions, dated in the past), each day closed by the daily job, then a
lost update on a past day's distinct count.  The check finds it; the rebuild
mends the roll-ups so that every closed day reads again exactly what was
closed — which the model of who followed what says was the truth.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.models.stats import CHINA_TZ, china_day
from chalicelib.services.analytics import closing, store
from devstack import demo_history
from tests.analytics.conftest import V
from tests.support import PLAIN_APPID, SAFE_APPID
from tools import check_rollups

SCREENS = {"NJ001": "city", "NJ002": "city", "SQ001": "town"}
PEOPLE = [(PLAIN_APPID, f"o-past-{i}") for i in range(4)] + [(SAFE_APPID, f"o-past-s{i}") for i in range(2)]
SCOPES = {
    "unit#city": {"NJ001", "NJ002"},
    "tree#city": {"NJ001", "NJ002"},
    "tree#prov": set(SCREENS),
    "unit#town": {"SQ001"},
    "tree#town": {"SQ001"},
}


class Model:
    def __init__(self) -> None:
        self.known: set = set()
        self.following: dict = defaultdict(bool)
        self.subs: dict = {}  # (person, screen) -> active | suspended | cancelled

    def distinct(self, scope: str) -> int:
        return len({p for (p, s), st in self.subs.items() if st == "active" and s in SCOPES[scope]})


def _act(model: Model, rng: random.Random, moment: datetime) -> None:
    person = rng.choice(PEOPLE)
    screen = rng.choice(sorted(SCREENS))
    action = rng.choice(("sub", "sub", "sub", "unsub", "unfollow", "refollow"))
    appid, openid = person
    if action in ("sub", "refollow") and person in model.known and not model.following[person]:
        demo_history.refollow(appid, openid, moment)
        model.following[person] = True
        for key, state in list(model.subs.items()):
            if key[0] == person and state == "suspended":
                model.subs[key] = "active"
        moment += timedelta(seconds=1)
    if action == "sub":
        demo_history.subscribe(appid, openid, screen, "qr", moment)
        model.known.add(person)
        model.following[person] = True
        model.subs[(person, screen)] = "active"
    elif action == "unsub" and model.subs.get((person, screen)) == "active":
        demo_history.unsubscribe(appid, openid, screen, moment)
        model.subs[(person, screen)] = "cancelled"
    elif action == "unfollow" and model.following[person]:
        demo_history.unfollow(appid, openid, moment)
        model.following[person] = False
        for key, state in list(model.subs.items()):
            if key[0] == person and state == "active":
                model.subs[key] = "suspended"


@pytest.mark.parametrize("seed", [3, 11])
def test_rebuild_keeps_every_closed_day_and_the_series_reads_it(seed, demo, pump, admin, capsys):
    rng, model = random.Random(seed), Model()
    today = date.fromisoformat(china_day())
    days = [today - timedelta(days=n) for n in (3, 2, 1)]
    truth: dict[tuple[str, str], int] = {}
    for day in days:
        noon = datetime(day.year, day.month, day.day, 12, tzinfo=CHINA_TZ).astimezone(UTC)
        for step in range(rng.randint(4, 9)):
            _act(model, rng, noon + timedelta(minutes=step))
        pump.drain()
        closing.close_day(day)
        truth.update({(scope, day.isoformat()): model.distinct(scope) for scope in SCOPES})
    for step in range(3):  # and some of today, not closed
        _act(model, rng, datetime.now(UTC) - timedelta(seconds=10 - step))
    pump.drain()
    window = ["--from", days[0].isoformat(), "--to", today.isoformat()]
    assert check_rollups.main(window) == 0, capsys.readouterr().out
    for (scope, day), distinct in truth.items():  # the close froze the truth
        assert int(store.get_item(scope, day)["distinct_eod"]) == distinct, (scope, day)

    # a lost update on the middle day: every earlier day would now read one fan too few
    store.commit(store.rollup_adds({("tree#prov", days[1].isoformat()): {"distinct_new": 1}}), "test-lost-update")
    capsys.readouterr()
    assert check_rollups.main(window) == 1
    assert f"tree#prov {days[0].isoformat()} closed distinct_eod" in capsys.readouterr().out
    assert check_rollups.main([*window, "--rebuild"]) == 0, capsys.readouterr().out

    span = f"from={days[0].isoformat()}&to={days[-1].isoformat()}"
    for kind, unit, scope in (
        ("subtree", "prov", "tree#prov"),
        ("unit", "city", "unit#city"),
        ("subtree", "town", "tree#town"),
    ):
        points = admin["prov"].get(f"{V}/analytics/{kind}/{unit}/series?{span}").data["points"]
        assert [p["distinct_fans"] for p in points] == [truth[(scope, d.isoformat())] for d in days], scope
    now = admin["prov"].get(f"{V}/analytics/subtree/prov/series?from={today}&to={today}").data["totals"]
    assert now["distinct_fans"] == model.distinct("tree#prov")
