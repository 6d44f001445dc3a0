"""The ``rebuild_manifests`` function: the manifest queue's consumer, without its handler module's other consumers."""

from chalicelib.entries.lazy import defer_modules, defer_package_init

defer_package_init("chalicelib.models")  # every table's model; see chalicelib.entries.callback
defer_modules(
    "chalicelib.services.screens.reports",
)

from chalicelib.handlers.screens import rebuild_manifests as handler  # noqa: E402, F401 -- the Lambda handler
