"""The ``analytics_stats_stream`` function: the daily_stats stream's roll-up consumer.

Its handler module imports the daily jobs' services too; they are deferred (``entries.roll_up_streams``).
"""

from chalicelib.entries.roll_up_streams import defer_the_daily_jobs

defer_the_daily_jobs()

from chalicelib.handlers.analytics_stream import analytics_stats_stream as handler  # noqa: E402, F401 -- the Lambda handler
