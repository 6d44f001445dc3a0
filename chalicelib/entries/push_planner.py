"""The ``push_planner`` function: the push queue's consumer, without its handler module's other consumers."""

from chalicelib.entries.lazy import defer_modules, defer_package_init

defer_package_init("chalicelib.models")  # every table's model; see chalicelib.entries.callback
defer_modules(
    "chalicelib.services.push.invocation",
    "chalicelib.services.push.digest",
)

from chalicelib.handlers.push_queue import plan_pushes as handler  # noqa: E402, F401 -- the Lambda handler
