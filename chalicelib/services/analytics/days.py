"""The date range every analytics read accepts: the last 30 China days by default, at most 366."""

from __future__ import annotations

from datetime import date, timedelta

from chalicelib.models.stats import china_day
from chalicelib.services.shared.errors import BadRequest

MAX_DAYS = 366


def day_range(start: date | None, end: date | None) -> tuple[date, date]:
    end = end or date.fromisoformat(china_day())
    start = start or end - timedelta(days=29)
    if start > end:
        raise BadRequest("from must not be after to", field="from")
    if (end - start).days >= MAX_DAYS:
        raise BadRequest(f"at most {MAX_DAYS} days", field="from")
    return start, end
