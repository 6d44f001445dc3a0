from __future__ import annotations

from tests.analytics.conftest import V
from tests.support import PLAIN_APPID


def test_follow_then_series(fans, pump, admin):
    fans.follow(PLAIN_APPID, "o-1", "NJ001")
    fans.scan(PLAIN_APPID, "o-1", "NJ002")
    fans.follow(PLAIN_APPID, "o-2", "NJ001")
    pump.drain()
    r = admin["prov"].get(f"{V}/analytics/subtree/prov/series")
    assert r.status_code == 200, r.body
    t = r.data["totals"]
    print(t)
    assert t["fans"] == 3 and t["distinct_fans"] == 2 and t["new_qr_follow"] == 2 and t["new_qr_scan"] == 1
