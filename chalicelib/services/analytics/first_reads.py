"""Time from a push to its first read: fixed histogram buckets, and the median read from them.

Every push link carries the moment it was signed (the sender signs each
fan's link just before it sends him the message).  When the fan opens it the
first time — one ``ReadMark`` per (push, fan), written in the same
transaction — the delay goes into one bucket counter on the content item's
``DailyStat`` day of the read: ``first_read_<low>``, ``low`` being the
bucket's lower bound in seconds.

Buckets are one minute wide for the first hour, ten minutes up to a day, an
hour up to seven days (a push link lives seven), and one open bucket beyond.
The median this gives is exact *to its bucket*: ``median`` returns the bucket
holding the middle first read, and its upper bound is a true statement about
the records ("half the first reads came within N seconds").  A bucket counter
is a source record (written with the fact it counts), so a rebuild of the
roll-ups never touches it and any range of days sums exactly.
"""

from __future__ import annotations

from collections.abc import Mapping

PREFIX = "first_read_"
MINUTE, HOUR, DAY = 60, 3600, 86400
LAST = 7 * DAY  # the open bucket's lower bound: push links expire after seven days
BOUNDS: tuple[int, ...] = (
    *range(0, HOUR, MINUTE),
    *range(HOUR, DAY, 10 * MINUTE),
    *range(DAY, LAST, HOUR),
    LAST,
)


def bucket_low(seconds: float) -> int:
    """The lower bound of the bucket a delay falls in (negative delays, clock skew, count as 0)."""
    s = max(0, int(seconds))
    if s >= LAST:
        return LAST
    if s < HOUR:
        return s - s % MINUTE
    if s < DAY:
        return s - s % (10 * MINUTE)
    return s - s % HOUR


def bucket_high(low: int) -> int | None:
    """The bucket's (exclusive) upper bound; None for the open bucket."""
    if low >= LAST:
        return None
    if low < HOUR:
        return low + MINUTE
    if low < DAY:
        return low + 10 * MINUTE
    return low + HOUR


def counter_name(seconds: float) -> str:
    return f"{PREFIX}{bucket_low(seconds)}"


def histogram(counters: Mapping[str, object]) -> dict[int, int]:
    """Lower bound -> first reads, from any summed day counters (other names are ignored)."""
    out: dict[int, int] = {}
    for name, value in counters.items():
        if name.startswith(PREFIX) and name[len(PREFIX) :].isdigit() and isinstance(value, (int, float)) and value:
            low = int(name[len(PREFIX) :])
            out[low] = out.get(low, 0) + int(value)
    return out


def median(hist: Mapping[int, int]) -> tuple[int, int | None] | None:
    """The bucket (low, high) holding the median first read; None when there were none.

    The median of n delays is the ⌈n/2⌉-th smallest (the lower median for an
    even n): the bucket where the running count first reaches it.
    """
    total = sum(hist.values())
    if total <= 0:
        return None
    rank = (total + 1) // 2
    seen = 0
    for low in sorted(hist):
        seen += hist[low]
        if seen >= rank:
            return low, bucket_high(low)
    raise AssertionError("unreachable: the running count reaches the total")


def summary(counters: Mapping[str, object]) -> dict[str, object]:
    """The API's figures: first reads, and the median's bucket (``median_first_read_seconds`` = its upper bound)."""
    hist = histogram(counters)
    found = median(hist)
    return {
        "first_reads": sum(hist.values()),
        "median_first_read_seconds": (found[1] if found[1] is not None else found[0]) if found else None,
        "median_first_read_bucket": [found[0], found[1]] if found else None,
    }
