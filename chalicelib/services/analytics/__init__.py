"""Analytics: roll-ups kept from the tables' streams, and the series, rankings and exports read from them.

``screen_stats`` and ``ranking`` are the admin API's original per-screen
views (``/screens/{id}/stats``, ``/units/{id}/ranking``); they stay importable
from here as before.  See docs/analytics.md.
"""

from chalicelib.services.analytics.screen_stats import day_range, ranking, screen_stats

__all__ = ["day_range", "ranking", "screen_stats"]
