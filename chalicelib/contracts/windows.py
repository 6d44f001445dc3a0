"""Weekly play windows ("Mon-Fri 08:00-18:00", overnight allowed): one type for every end.

A window is a daily time range on the listed ISO weekdays (1 = Monday), China
Standard Time; ``end`` is exclusive and may be ``24:00``.  An ``end`` before
``start`` runs past midnight into the next day (22:00-06:00 listed for Monday
plays Monday night and Tuesday morning).

The admin API validates a window strictly (``WeeklyWindow``); the manifest
carries it in the same shape (``for_manifest`` normalises what is stored,
written by any version); the phone mirror (``services.playlist``) and the player
(``player_static/player.js``, which cannot import Python) evaluate it by the
same rule (``contains``), so a phone never shows what the screen does not play.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

ALL_DAYS = range(1, 8)
HHMM = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")]


def _integral(value: Any) -> Any:
    """JSON Schema counts 3.0 as an integer; so does the API (strict mode would refuse it)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


Weekday = Annotated[int, Field(ge=1, le=7), BeforeValidator(_integral)]


class WeeklyWindow(BaseModel):
    """A daily time range on the listed ISO weekdays, China time.  An ``end`` before ``start``
    runs past midnight into the next day (22:00-06:00), as the player and the mirror play it."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    days: Annotated[list[Weekday], Field(min_length=1, max_length=7, json_schema_extra={"uniqueItems": True})]
    start: HHMM
    end: HHMM

    @model_validator(mode="after")
    def _ordered(self) -> WeeklyWindow:
        if self.start == self.end or (self.start == "24:00"):
            raise ValueError("start and end must differ, and start must be before 24:00")
        if len(set(self.days)) != len(self.days):
            raise ValueError("days must not repeat")
        return self


def for_manifest(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored window in the manifest's shape: days sorted and de-duplicated, clock times as HH:MM.

    Missing parts mean "every day" and "all day", as they always have.
    """
    days = sorted({int(d) for d in stored.get("days") or ALL_DAYS if 1 <= int(d) <= 7})
    start, end = str(stored.get("start") or "00:00")[:5], str(stored.get("end") or "24:00")[:5]
    return {"days": days, "start": start, "end": end}


def _clock(value: Any) -> time | None:
    if not isinstance(value, str):
        return None
    if value.strip() == "24:00":
        return time.max
    try:
        return time.fromisoformat(value.strip())
    except ValueError:
        return None


def contains(window: dict[str, Any], local: datetime) -> bool:
    """True when China-time ``local`` falls inside the window (as read from a manifest: unreadable is never)."""
    days = {int(d) for d in (window.get("days") or ALL_DAYS) if str(d).isdigit()}
    start, end = _clock(window.get("start") or "00:00"), _clock(window.get("end") or "24:00")
    if start is None or end is None:
        return False
    now_t, today = local.time(), local.isoweekday()
    if start < end:
        return today in days and start <= now_t < end
    yesterday = (local - timedelta(days=1)).isoweekday()  # overnight: starts on a listed day, ends the next
    return (today in days and now_t >= start) or (yesterday in days and now_t < end)
