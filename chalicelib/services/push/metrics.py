"""The push sender's CloudWatch metrics, as Powertools EMF lines (no API call: Lambda's log carries them).

``PushSendAmbiguous``: a send timed out after its request reached WeChat (a
read timeout).  It is retried -- losing a push is worse -- and when WeChat had
in fact sent it, the fan gets it twice; this metric is the price of that
choice (docs/push.md, "Late answers").  ``PushSendRetried`` counts every
transient failure retried; ``PushCommitRetried`` commits retried after a
conflict or throttle; ``PushFlushDeferred`` counter flushes left for a later
processing of the batch.
"""

from __future__ import annotations

import threading
from collections import Counter

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

NAMESPACE = "kepuscreen"

metrics = Metrics(namespace=NAMESPACE, service="push_sender")
_counts: Counter[str] = Counter()
_lock = threading.Lock()


def count(name: str, value: int = 1) -> None:
    if value <= 0:
        return
    with _lock:
        _counts[name] += value


def flush() -> dict[str, int]:
    """Emit what this invocation counted as one EMF line; returns it (tests read it)."""
    with _lock:
        counted = dict(_counts)
        _counts.clear()
    if not counted:
        return {}
    for name, value in sorted(counted.items()):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    metrics.flush_metrics(raise_on_empty_metrics=False)
    return counted
