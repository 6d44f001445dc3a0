"""Prove the analytics roll-ups equal the sum of their parts: ``python -m tools.check_rollups``.

    python -m tools.check_rollups [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--rebuild] [--close YYYY-MM-DD]

Compares every unit's and subtree's day counters with the sum of its screens'
``DailyStat`` days, its levels (fans, screens, distinct fans) with the screens'
fan counts and the active subscriptions, every closed day's levels (as the
series derives them) with those frozen when the day closed, and every
screen's daily nets with its fan count.  Prints each difference and exits 1 when there is one.
``--rebuild`` first recomputes the range from the source records;
``--close`` writes a day's closing levels and the fan attributes (what the midnight job does).
Runs against the stage in ``STAGE``: the local emulator when
``AWS_ENDPOINT_URL`` points at it (``make dev``), AWS with the operator's
credentials otherwise.  Reads every unit and screen: a batch tool, not a request.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta

from chalicelib.models.stats import china_day
from chalicelib.services.analytics import attributes, closing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    today = date.fromisoformat(china_day())
    parser.add_argument("--from", dest="first", type=date.fromisoformat, default=today - timedelta(days=29))
    parser.add_argument("--to", dest="last", type=date.fromisoformat, default=today)
    parser.add_argument("--rebuild", action="store_true", help="recompute the range from the source records first")
    parser.add_argument("--close", type=date.fromisoformat, help="write this day's closing levels")
    args = parser.parse_args(argv)
    if args.close:
        print(f"closed {args.close}: {closing.close_day(args.close)}; fan attributes of {attributes.refresh()} scopes")
    if args.rebuild:
        print(f"rebuilt {args.first}..{args.last}: {closing.rebuild(args.first, args.last)}")
    report = closing.check(args.first, args.last)
    for line in report.differences:
        print(line)
    verdict = "OK" if report.ok else f"{len(report.differences)} difference(s)"
    print(f"{report.scopes} scopes x {(args.last - args.first).days + 1} days, {report.screens} screens: {verdict}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
