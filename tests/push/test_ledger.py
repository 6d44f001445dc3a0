"""The batch ledger under concurrent writers: every recipient counted once, counters flushed exactly once.

Two deliveries of one batch may record at the same time (SQS delivers at
least once); each works from its own read of the record and merges on a
version conflict.  Generated interleavings of their writes and flushes must
always leave done = the union, counts = one per recipient, and the job's
totals equal to the record's counts.
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.models.push import PushBatch, PushJob
from chalicelib.services.push.ledger import BatchLedger, Entry
from tests.support import PLAIN_APPID

_jobs = itertools.count(1)
OPENIDS = [f"o-l{i:02d}" for i in range(12)]


def entry(openid: str) -> Entry:
    return Entry(openid, Counter({"job.sent_template": 1, "stat.pushes_sent": 1}))


writes = st.lists(
    st.tuples(st.sampled_from([0, 1]), st.lists(st.sampled_from(OPENIDS), max_size=5), st.booleans()),
    min_size=1,
    max_size=8,
)


@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=writes)
def test_concurrent_writers_count_each_recipient_once(aws, plan):
    job_id = f"c_ledger{next(_jobs)}:1"
    PushJob(job_id, content_id=job_id.split(":")[0]).save()
    now = datetime.now(UTC)
    ledgers = [
        BatchLedger(job_id, "b000000", PLAIN_APPID, job_id.split(":")[0], None, sleep=lambda s: None) for _ in range(2)
    ]  # both read the record before either wrote
    for who, openids, flush in plan:
        ledgers[who].write([entry(o) for o in openids], now, flush=flush)
    ledgers[0].write([], now, flush=True)  # whoever processes the batch last flushes what is owed
    ledgers[0].reload()
    if ledgers[0].unflushed:
        ledgers[0].write([], now, flush=True)
    record = PushBatch.get(job_id, "b000000", consistent_read=True)
    done = set(record.done or ())
    assert done == {o for _who, openids, _f in plan for o in openids}
    counts = record.counts.as_dict() if record.counts else {}
    assert int(counts.get("job.sent_template", 0)) == len(done)
    assert PushJob.get(job_id, consistent_read=True).sent_template == len(done)
