"""What the three roll-up stream functions defer (``analytics_{stats,subscriptions,screens}_stream``).

Their handler module, ``handlers.analytics_stream``, also holds the daily analytics jobs, whose services a
stream batch never runs; and no consumer needs every table's model.  Said once here for the three entries.
"""

from chalicelib.entries.lazy import defer_modules, defer_package_init


def defer_the_daily_jobs() -> None:
    defer_package_init("chalicelib.models")  # every table's model; see chalicelib.entries.callback
    defer_modules(
        "chalicelib.services.analytics.attributes",
        "chalicelib.services.analytics.closing",
        "chalicelib.services.analytics.wechat_view",
    )
