"""The ``analytics_stats_stream`` function: the daily_stats stream's roll-up consumer.

Its handler module imports the other consumers' services too; they are deferred here (``defer_modules``).
"""

from chalicelib.entries.lazy import defer_modules, defer_package_init

defer_package_init("chalicelib.models")  # every table's model; see chalicelib.entries.callback
defer_modules(
    "chalicelib.services.analytics.attributes",
    "chalicelib.services.analytics.closing",
    "chalicelib.services.analytics.wechat_view",
)

from chalicelib.handlers.analytics_stream import analytics_stats_stream as handler  # noqa: E402, F401 -- the Lambda handler
