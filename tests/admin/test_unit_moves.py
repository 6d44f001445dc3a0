"""Moving a unit never breaks "a screen's account belongs to its unit or a superior" (issue 11 item 5)."""

from __future__ import annotations

V = "/api/v1"


def add_screen(api, world, code: str, where: str, account: str) -> None:
    r = api.post(
        f"{V}/screens",
        {"screen_id": code, "unit_id": world.unit[where], "name": f"{code} 屏", "appid": world.appid[account]},
    )
    assert r.status_code == 201, r.data


def test_a_move_that_strands_screens_is_refused_naming_them_or_rebinds_explicitly(api, world):
    add_screen(api, world, "DC100", "district", "city")  # district screen on its superior's (city's) account
    before = api.get(f"{V}/units/{world.unit['district']}").data

    r = api.patch(f"{V}/units/{world.unit['district']}", {"parent_id": world.unit["town"]})
    assert r.status_code == 409, r.data
    assert r.data["error"]["code"] == "screens_lose_account" and "DC100" in r.data["error"]["message"]
    assert "DI001" not in r.data["error"]["message"]  # bound to the district's own account: moves along
    assert api.get(f"{V}/units/{world.unit['district']}").data["path"] == before["path"]

    r = api.patch(
        f"{V}/units/{world.unit['district']}", {"parent_id": world.unit["town"], "rebind_appid": world.appid["city"]}
    )
    assert r.status_code == 400 and r.data["error"]["field"] == "rebind_appid"

    r = api.patch(
        f"{V}/units/{world.unit['district']}", {"parent_id": world.unit["town"], "rebind_appid": world.appid["town"]}
    )
    assert r.status_code == 200, r.data
    assert r.data["parent_id"] == world.unit["town"]
    screen = api.get(f"{V}/screens/DC100").data
    assert screen["appid"] == world.appid["town"] and screen["qr"]["ready"]
    assert api.get(f"{V}/screens/DI001").data["appid"] == world.appid["district"]


def test_a_move_that_keeps_every_screen_valid_needs_no_flag(api, world):
    r = api.patch(f"{V}/units/{world.unit['district']}", {"parent_id": world.unit["town"]})
    assert r.status_code == 200, r.data
    r = api.patch(f"{V}/units/{world.unit['district']}", {"name": "改名", "rebind_appid": world.appid["town"]})
    assert r.status_code == 400 and r.data["error"]["field"] == "rebind_appid"
