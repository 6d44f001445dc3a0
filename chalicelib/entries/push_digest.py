"""The ``push_digest`` function: the daily digest schedule, without its handler module's other consumers."""

from chalicelib.entries.lazy import defer_modules, defer_package_init

defer_package_init("chalicelib.models")  # every table's model; see chalicelib.entries.callback
defer_modules(
    "chalicelib.services.push.planner",
    "chalicelib.services.push.invocation",
)

from chalicelib.handlers.push_queue import daily_digest as handler  # noqa: E402, F401 -- the Lambda handler
