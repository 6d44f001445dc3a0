"""The queues and the bucket, described once.

``devstack`` creates them in the local emulator from these specs and the
deployment template (``infra/``) is generated from them, so the two cannot
drift.  Tables are described by the pynamodb models themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.settings import Settings

# Lambda timeouts of the consuming functions, in seconds.  SQS visibility must be
# at least six times the consumer timeout (AWS guidance), see ``visibility_timeout``.
CONSUMER_TIMEOUT_SECONDS = {"push": 60, "send": 60, "manifest": 30}
MAX_RECEIVE_COUNT = 5


@dataclass(frozen=True)
class QueueSpec:
    """One work queue and its dead-letter queue."""

    key: str
    name: str
    consumer_timeout: int
    max_receive_count: int = MAX_RECEIVE_COUNT
    batch_size: int = 10

    @property
    def dlq_name(self) -> str:
        return f"{self.name}-dlq"

    @property
    def visibility_timeout(self) -> int:
        return 6 * self.consumer_timeout


def queue_specs(settings: Settings) -> list[QueueSpec]:
    """Every queue the system uses, with names for the given stage."""
    return [
        QueueSpec("push", settings.push_queue_name, CONSUMER_TIMEOUT_SECONDS["push"], batch_size=1),
        QueueSpec("send", settings.send_queue_name, CONSUMER_TIMEOUT_SECONDS["send"], batch_size=5),
        QueueSpec("manifest", settings.manifest_queue_name, CONSUMER_TIMEOUT_SECONDS["manifest"]),
    ]
