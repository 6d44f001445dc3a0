"""Weekly windows: the admin API's validation, the manifest's shape and the playing rule agree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from chalicelib.contracts import windows
from chalicelib.contracts.windows import WeeklyWindow
from chalicelib.models.stats import CHINA_TZ

MONDAY = datetime(2026, 11, 30, tzinfo=CHINA_TZ)  # a Monday, 00:00 China time
clock = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59)) | st.just("24:00")


@pytest.mark.parametrize(
    "bad",
    [
        {"days": [1], "start": "08:00", "end": "08:00"},
        {"days": [1], "start": "24:00", "end": "06:00"},
        {"days": [1, 1], "start": "08:00", "end": "09:00"},
        {"days": [], "start": "08:00", "end": "09:00"},
        {"days": [8], "start": "08:00", "end": "09:00"},
        {"days": ["1"], "start": "08:00", "end": "09:00"},  # strict JSON types
        {"days": [1], "start": "8:00", "end": "09:00"},
        {"days": [1], "start": "08:00", "end": "09:00", "extra": 1},
    ],
)
def test_the_api_refuses_malformed_windows(bad):
    with pytest.raises(ValidationError):
        WeeklyWindow.model_validate(bad)


def test_the_api_accepts_overnight_and_integral_floats():
    window = WeeklyWindow.model_validate({"days": [5.0, 1], "start": "22:00", "end": "06:00"})
    assert window.days == [5, 1] and window.end == "06:00"


def test_stored_windows_reach_the_manifest_normalised():
    assert windows.for_manifest({"days": [3, 1, 1, 9], "start": "08:00:00", "end": "18:00"}) == {
        "days": [1, 3],
        "start": "08:00",
        "end": "18:00",
    }
    assert windows.for_manifest({}) == {"days": [1, 2, 3, 4, 5, 6, 7], "start": "00:00", "end": "24:00"}


def test_overnight_plays_into_the_next_day_only():
    night = {"days": [1], "start": "22:00", "end": "06:00"}
    assert windows.contains(night, MONDAY + timedelta(hours=23))
    assert windows.contains(night, MONDAY + timedelta(days=1, hours=5, minutes=59))
    assert not windows.contains(night, MONDAY + timedelta(hours=5))  # Monday morning belongs to Sunday's night
    assert not windows.contains(night, MONDAY + timedelta(days=1, hours=22))


@settings(max_examples=120, deadline=None, derandomize=True)
@given(days=st.sets(st.integers(1, 7), min_size=1), start=clock, end=clock, minute=st.integers(0, 7 * 24 * 60 - 1))
def test_a_valid_window_plays_in_its_manifest_shape_exactly_when_its_minutes_say(days, start, end, minute):
    """What the API accepts, the manifest carries unchanged and ``contains`` plays by minute arithmetic."""
    if start == end or start == "24:00":
        return
    window = WeeklyWindow.model_validate({"days": sorted(days), "start": start, "end": end}).model_dump()
    assert windows.for_manifest(window) == window
    moment = (MONDAY + timedelta(minutes=minute)).astimezone(UTC).astimezone(CHINA_TZ)
    h, m = map(int, start.split(":")), map(int, end.split(":"))
    lo, hi = next(h) * 60 + next(h), next(m) * 60 + next(m)
    of_day, weekday = minute % 1440, minute // 1440 + 1
    yesterday = (weekday - 2) % 7 + 1
    expected = (
        (weekday in days and lo <= of_day < hi)
        if lo < hi
        else ((weekday in days and of_day >= lo) or (yesterday in days and of_day < hi))
    )
    assert windows.contains(window, moment) is expected
