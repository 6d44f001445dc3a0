"""Rewrite the console home page's feed from the records: ``python -m tools.rebuild_home_feed``.

For the first deploy of the home feed (content already waiting for review,
accounts already without a channel, screens already reporting) and for
repairs.  Scans units, screens, content and accounts of the stage in
``STAGE`` (the local emulator under ``make dev``, AWS with the operator's
credentials otherwise): a batch tool, never a request's path.
"""

from __future__ import annotations

from chalicelib.services.analytics import home_feed_rebuild


def main() -> int:
    print(f"home feed rebuilt: {home_feed_rebuild.rebuild()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
