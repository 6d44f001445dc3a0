"""The ``screen_health`` function: the five-minute screen count."""

from chalicelib.entries.lazy import defer_package_init

defer_package_init("chalicelib.models")  # every table's model; see chalicelib.entries.callback

from chalicelib.handlers.operations import screen_health as handler  # noqa: E402, F401 -- the Lambda handler
