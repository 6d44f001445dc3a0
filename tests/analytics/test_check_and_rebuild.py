"""The roll-ups equal the sum of their parts after a random history; the check finds a wrong one; rebuild mends it."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.models.rollups import LIVE
from chalicelib.models.stats import china_day
from chalicelib.services.analytics import store
from tests.analytics.conftest import V
from tests.analytics.test_fan_count_invariant import ACTIONS, PERSONS, SCREENS, Model, _do
from tools import check_rollups

step = st.tuples(st.sampled_from(range(len(PERSONS))), st.sampled_from(ACTIONS), st.sampled_from(sorted(SCREENS)))
_runs = iter(range(10**6))


@settings(
    max_examples=2,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=st.lists(step, min_size=3, max_size=12))
def test_rollups_equal_their_parts_after_a_random_history(history, fans, pump, admin, capsys):
    run, model = next(_runs), Model()
    for person_index, action, screen in history:
        appid, name = PERSONS[person_index]
        _do(fans, model, (appid, f"o-c{run}-{name}"), action, screen)
    pump.drain()
    today = date.fromisoformat(china_day())
    window = ["--from", (today - timedelta(days=2)).isoformat(), "--to", today.isoformat()]
    assert check_rollups.main(window) == 0, capsys.readouterr().out


def test_check_finds_a_wrong_rollup_and_rebuild_mends_it(fans, pump, admin, capsys):
    today = china_day()
    fans.follow("wxplain0000000001", "o-r1", "NJ001")
    fans.follow("wxplain0000000001", "o-r2", "NJ002")
    fans.text("wxplain0000000001", "o-r2", "订阅 SQ001")
    pump.drain()
    window = ["--from", today, "--to", today]
    assert check_rollups.main(window) == 0
    capsys.readouterr()
    # a lost update: the city's day misses a follow, the province's distinct count is one too high
    store.commit(
        store.rollup_adds({("unit#city", today): {"subs_qr": -1}, ("tree#prov", LIVE): {"distinct": 1}}),
        "test-corruption",
    )
    assert check_rollups.main(window) == 1
    out = capsys.readouterr().out
    assert "unit#city" in out and "subs_qr" in out and "tree#prov level distinct" in out
    assert check_rollups.main([*window, "--rebuild"]) == 0
    # the API reads the mended figures; the closing job writes the day's closing levels
    prov = admin["prov"].get(f"{V}/analytics/subtree/prov/series?from={today}&to={today}").data["totals"]
    assert (prov["fans"], prov["distinct_fans"], prov["new"]) == (3, 2, 3)
    assert check_rollups.main([*window, "--close", today]) == 0
    assert store.get_item("tree#prov", today)["fans_eod"] == 3
