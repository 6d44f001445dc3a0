"""The push pipeline's state: jobs, batches, per-account quota days and msgid routes.

Costs drive the shape.  A push to 100,000 fans must not write 100,000 items:

- ``PushJob``: one item per publish (``job_id`` = ``content_id:revision``).
  Holds the planner's cursor and lease and the job's delivery totals.
- ``PushBatch``: one item per send batch (≤ 100 recipients), written once per
  processing of the batch.  ``done`` lists the openids the batch has finished
  with (sent, stopped or parked in the fan's unread list): a redelivered
  message skips them.  ``pending`` lists openids handed to a delayed retry
  message, and ``pending_attempts`` the attempt of that message per openid
  (the highest, if several processings handed him on): messages of an older
  attempt leave him to it.  Per recipient, because overlapping deliveries of
  one batch hand different recipients to different generations.
  ``retry_attempt`` is the highest attempt handed out.  ``version`` makes
  concurrent commits of one batch safe.
- ``PushQuota``: one item per account per China day: template messages used,
  a pause until the next China midnight after WeChat said 45009/45011, and the
  content ids the day's digest should list.  Tomorrow is a new item, so a
  pause lifts by itself.
- ``PushMsgRoute``: maps template ``msgid`` → job for
  ``TEMPLATESENDJOBFINISH`` receipts.  Routes of one account's sends of one
  minute share an item (a string set of ``"<msgid>><job_id>"``, see
  ``route_key``), so a batch adds to one or two items and the gateway reads
  seven items per receipt inside its existing read.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.models import Model

from chalicelib.models.base import region, table_name, utcnow

PLANNING, PLANNED = "planning", "planned"
MSG_ROUTE_BLOCK = 100
RECEIPT_MINUTES = 3  # a receipt looks for its send this many minutes either side of its CreateTime (clock skew)

JOB_COUNTERS = (
    "sent_template",
    "sent_notice",
    "sent_custom",
    "queued_unread",
    "stopped",
    "suppressed",
    "failed",
    "receipts_success",
    "receipts_failed",
    "skipped_not_following",
    "skipped_no_channel",
    "skipped_channel_stopped",
    "skipped_cross_unit_policy",
    "unread_cross_unit_policy",
)


class PushJob(Model):
    class Meta:
        table_name = table_name("push_jobs")
        region = region()

    job_id = UnicodeAttribute(hash_key=True)
    content_id = UnicodeAttribute()
    revision = NumberAttribute(default=1)
    status = UnicodeAttribute(default=PLANNING)
    screen_ids = ListAttribute(of=UnicodeAttribute, default=list)
    # the content fields a push shows (title, summary, unit name, ...)
    message: MapAttribute[str, Any] = MapAttribute(null=True)
    cursor = UnicodeAttribute(default="")  # last fan key (appid#openid) planned; the merge resumes after it
    next_seq = NumberAttribute(default=0)
    planned = NumberAttribute(default=0)
    batches = NumberAttribute(default=0)
    lease_owner = UnicodeAttribute(null=True)
    lease_until = NumberAttribute(default=0)
    # A planner run's batch boundaries, stored before its batches are enqueued: a re-run after a failure
    # re-emits exactly these batches (fan keys in (previous end, end]) under the same ids.
    run_seq = NumberAttribute(null=True)  # the run's first batch number
    run_ends = ListAttribute(of=UnicodeAttribute, null=True)  # last fan key of each batch of the run
    run_final = BooleanAttribute(null=True)  # the run reached the end of the audience
    sent_template = NumberAttribute(default=0)
    sent_notice = NumberAttribute(default=0)
    sent_custom = NumberAttribute(default=0)
    queued_unread = NumberAttribute(default=0)
    stopped = NumberAttribute(default=0)
    suppressed = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)
    receipts_success = NumberAttribute(default=0)
    receipts_failed = NumberAttribute(default=0)
    # why "suppressed" fans were skipped (push_policy.SKIP_REASONS), and unread entries left by the cross-unit policy
    skipped_not_following = NumberAttribute(default=0)
    skipped_no_channel = NumberAttribute(default=0)
    skipped_channel_stopped = NumberAttribute(default=0)
    skipped_cross_unit_policy = NumberAttribute(default=0)
    unread_cross_unit_policy = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute(default_for_new=utcnow)
    updated_at = UTCDateTimeAttribute(default=utcnow)
    expires_at = TTLAttribute(null=True)


class PushBatch(Model):
    class Meta:
        table_name = table_name("push_batches")
        region = region()

    job_id = UnicodeAttribute(hash_key=True)
    batch_id = UnicodeAttribute(range_key=True)
    appid = UnicodeAttribute(null=True)
    done = UnicodeSetAttribute(null=True)
    pending = UnicodeSetAttribute(null=True)
    # openid -> attempt of the retry message carrying him; records written before it: every pending = retry_attempt
    pending_attempts: MapAttribute[str, Any] = MapAttribute(null=True)
    retry_attempt = NumberAttribute(default=0)
    version = NumberAttribute(default=0)
    # what the batch owes the hot counters: "job.<name>", "stat.<name>", ...
    counts: MapAttribute[str, Any] = MapAttribute(null=True)
    flushed: MapAttribute[str, Any] = MapAttribute(null=True)  # the part of ``counts`` already added to them
    routes = UnicodeSetAttribute(null=True)  # "<minute>:<msgid>" receipt routes not yet written
    expires_at = TTLAttribute(null=True)


class PushQuota(Model):
    class Meta:
        table_name = table_name("push_quota")
        region = region()

    appid = UnicodeAttribute(hash_key=True)
    day = UnicodeAttribute(range_key=True)  # YYYY-MM-DD, China Standard Time: WeChat's quota day
    template_sent = NumberAttribute(default=0)
    paused_until = NumberAttribute(null=True)  # epoch seconds
    pause_code = NumberAttribute(null=True)
    digest_content = UnicodeSetAttribute(null=True)
    digest_sent = UnicodeAttribute(null=True)  # clientmsgid of the day's digest once WeChat took it
    expires_at = TTLAttribute(null=True)


class PushMsgRoute(Model):
    class Meta:
        table_name = table_name("push_msg_routes")
        region = region()

    appid = UnicodeAttribute(hash_key=True)
    block = UnicodeAttribute(range_key=True)  # zero-padded msgid // MSG_ROUTE_BLOCK
    routes = UnicodeSetAttribute(null=True)
    expires_at = TTLAttribute(null=True)


def route_block(msg_id: str | int) -> str:
    """The item of routes written before time-keyed routes (kept readable until their TTL)."""
    return f"{int(msg_id) // MSG_ROUTE_BLOCK:020d}"


def route_key(minute: int) -> str:
    """The route item of one account's template sends of one minute (epoch minutes).

    WeChat's msgids are not consecutive, so grouping them by value put every
    push in an item of its own; a receipt's ``CreateTime`` is seconds after
    its send, so grouping by the minute of the send lets one item hold a
    whole batch's routes and lets the receipt find them by reading its
    minute and its neighbours.
    """
    return f"m{int(minute)}"


def route_keys_for_receipt(create_time: int) -> list[str]:
    """The route items a receipt created at ``create_time`` (epoch seconds) may be in."""
    minute = int(create_time) // 60
    return [route_key(m) for m in range(minute - RECEIPT_MINUTES, minute + RECEIPT_MINUTES + 1)]
