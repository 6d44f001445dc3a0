"""Scheduled measurements for the operator: how many screens are online (EMF metrics, alarmed in the template).

The same pass marks each screen's ``presence`` (online / offline / offline over an hour) when it changed:
the console's home page counts those (``services/analytics/home_feed.py``) instead of looking at every screen.

A screen counts once it has reported at least once (``last_seen``): one
still in its box is not "offline".  Online means seen within two heartbeat
intervals (``screen_reports.screen_status``), as the admin API shows it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from chalice import Blueprint, Rate

from chalicelib.logs import logger
from chalicelib.models.screens import Screen
from chalicelib.observability import count, event_handler
from chalicelib.services.analytics import presence
from chalicelib.services.screens.reports import screen_status

bp = Blueprint(__name__)


def measure_screens(now: datetime | None = None) -> dict[str, float]:
    now = now or datetime.now(UTC)
    online = offline = 0
    scanned = list(Screen.scan(attributes_to_get=["screen_id", "last_seen", "heartbeat_interval", "presence"]))
    presence.mark_presence(scanned, now)  # the home page's online / offline counters follow (stream)
    for screen in scanned:
        status = screen_status(screen, now)
        if status == "online":
            online += 1
        elif status == "offline":
            offline += 1
    reporting = online + offline
    figures = {
        "online": online,
        "offline": offline,
        "offline_percent": round(100 * offline / reporting, 1) if reporting else 0.0,
    }
    count("ScreensOnline", online)
    count("ScreensOffline", offline)
    count("ScreensOfflinePercent", figures["offline_percent"], unit="Percent")
    logger.info("screens measured", extra=figures)
    return figures


@bp.schedule(Rate(5, unit=Rate.MINUTES), name="screen_health")
@event_handler
def screen_health(event):
    """Every five minutes: screens online / offline, for the dashboard and the offline alarm."""
    return measure_screens()
