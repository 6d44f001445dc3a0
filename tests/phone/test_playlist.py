"""Validity and weekly windows, evaluated in China time as the player does."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.services.screens.playlist import current_items, is_current, now_playing

# 2026-11-30 is a Monday; 01:30 UTC is 09:30 in China, 17:00 UTC is 01:00 Tuesday in China
MONDAY_0930_CST = datetime(2026, 11, 30, 1, 30, tzinfo=UTC)
TUESDAY_0100_CST = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)


def item(cid: str, **extra) -> dict:
    return {"content_id": cid, "title": cid, "published_at": "2026-11-29T00:00:00+00:00", **extra}


@pytest.mark.parametrize(
    ("windows", "moment", "expected"),
    [
        ([], MONDAY_0930_CST, True),
        ([{"days": [1, 2, 3, 4, 5], "start": "08:00", "end": "18:00"}], MONDAY_0930_CST, True),
        ([{"days": [6, 7], "start": "08:00", "end": "18:00"}], MONDAY_0930_CST, False),
        ([{"days": [1], "start": "09:30", "end": "09:31"}], MONDAY_0930_CST, True),  # start inclusive
        ([{"days": [1], "start": "08:00", "end": "09:30"}], MONDAY_0930_CST, False),  # end exclusive
        ([{"days": [1], "start": "22:00", "end": "02:00"}], TUESDAY_0100_CST, True),  # overnight from Monday
        ([{"days": [2], "start": "22:00", "end": "02:00"}], TUESDAY_0100_CST, False),
        ([{"days": [2], "start": "00:00", "end": "24:00"}], TUESDAY_0100_CST, True),
        ([{"days": [1], "start": "bogus", "end": "18:00"}], MONDAY_0930_CST, False),
    ],
)
def test_weekly_windows_in_china_time(windows, moment, expected):
    assert is_current(item("x", weekly_windows=windows), moment) is expected


def test_validity_window_bounds():
    it = item("x", valid_from="2026-11-30T01:30:00+00:00", valid_until="2026-11-30T02:00:00Z")
    assert is_current(it, MONDAY_0930_CST)
    assert not is_current(it, datetime(2026, 11, 30, 2, 0, tzinfo=UTC))
    assert not is_current(it, datetime(2026, 11, 30, 1, 29, tzinfo=UTC))


def test_current_items_newest_first_and_now_playing():
    manifest = {
        "items": [
            item("a", published_at="2026-11-28T00:00:00+00:00"),
            item("b", published_at="2026-11-29T00:00:00+00:00"),
            item("gone", valid_until="2026-11-01T00:00:00+00:00"),
            {"title": "no id"},
        ]
    }
    assert [i["content_id"] for i in current_items(manifest, MONDAY_0930_CST)] == ["b", "a"]
    assert now_playing(manifest, MONDAY_0930_CST)["content_id"] == "a"  # playlist order
    assert now_playing(manifest, MONDAY_0930_CST, "b")["content_id"] == "b"  # the player's report
    assert now_playing(manifest, MONDAY_0930_CST, "gone")["content_id"] == "a"
    manifest["items"].append(item("u", priority="urgent"))
    assert now_playing(manifest, MONDAY_0930_CST, "b")["content_id"] == "u"
    assert now_playing({"items": []}, MONDAY_0930_CST) is None and now_playing(None, MONDAY_0930_CST) is None
