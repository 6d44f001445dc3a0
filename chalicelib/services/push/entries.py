"""What recording one recipient's outcome adds to his batch record: counts, fan marks, receipt routes.

The ledger (``ledger.BatchLedger``) writes entries; this module decides them,
per outcome and without I/O (but for trimming a full unread list, best effort),
so the counts every dashboard reads are defined in one place.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.logs import logger
from chalicelib.models.fans import Fan
from chalicelib.services.push import policy
from chalicelib.services.push.channels import Outcome
from chalicelib.services.push.messages import SendMessage


@dataclass
class Entry:
    """What recording one recipient adds: counts, fan writes, receipt routes."""

    openid: str
    counts: Counter[str] = field(default_factory=Counter)
    fan_actions: list[Any] = field(default_factory=list)
    routes: set[str] = field(default_factory=set)  # "<minute>:<msgid>"


STAT_FOR_CHANNEL = {policy.TEMPLATE: "pushes_template", policy.NOTICE: "pushes_notice", policy.CUSTOM: "pushes_custom"}
PLANNED_FOR_CHANNEL = {
    policy.TEMPLATE: "template",
    policy.NOTICE: "notice",
    policy.CUSTOM: "custom",
    policy.UNREAD: "unread",
}
JOB_FOR_CHANNEL = {policy.TEMPLATE: "sent_template", policy.NOTICE: "sent_notice", policy.CUSTOM: "sent_custom"}


def entry_for(message: SendMessage, fan: Fan | None, o: Outcome, now: datetime, day: str) -> Entry:
    """What recording one outcome adds to the batch record (counts, fan marks, routes)."""
    entry = Entry(o.openid)
    entry.counts[f"stat.planned_{PLANNED_FOR_CHANNEL.get(o.channel, 'none')}"] += 1  # analytics: planned by channel
    if o.result == policy.SENT:
        _record_sent(entry, o, now, day)
    elif o.result == "queued" or o.fallback_unread:
        _record_unread(entry, message, fan, o, now, day)
    else:
        _record_unreached(entry, o)
        return entry
    _count_screens(entry, message, o.openid)  # reached: by the screens he follows
    return entry


def _record_sent(entry: Entry, o: Outcome, now: datetime, day: str) -> None:
    c = entry.counts
    c["stat.pushes_sent"] += 1
    c[f"stat.{STAT_FOR_CHANNEL[o.channel]}"] += 1
    c[f"job.{JOB_FOR_CHANNEL[o.channel]}"] += 1
    if o.channel == policy.TEMPLATE:
        c[f"quota.{day}.template_sent"] += 1
        if o.msgid and o.msgid.isdigit():
            entry.routes.add(f"{int((o.sent_at or now.timestamp()) // 60)}:{o.msgid}")
    if o.channel == policy.CUSTOM and o.window is not None:
        entry.fan_actions += policy.window_actions(o.window, o.window.used + 1)


def _record_unread(entry: Entry, message: SendMessage, fan: Fan | None, o: Outcome, now: datetime, day: str) -> None:
    """Listed in his unread list (the channel chosen, or a closed window's fallback)."""
    added, dropped = policy.unread_update(fan, message.content["content_id"])
    if added:
        entry.fan_actions.append(Fan.unread_content.add(added))
    if dropped:
        _drop_unread_later(message.appid, o.openid, dropped)
    if o.fallback_unread and fan is not None:
        entry.fan_actions += policy.close_window_actions(fan, now)
    c = entry.counts
    c["stat.pushes_unread"] += 1
    c["job.queued_unread"] += 1
    if o.reason:  # the cross-unit policy: listed, never pushed, so not in this account's digest either
        c[f"job.unread_{o.reason}"] += 1
    else:
        c[f"quota.{day}.digest"] = 1


def _record_unreached(entry: Entry, o: Outcome) -> None:
    c = entry.counts
    if o.result == policy.STOPPED:
        entry.fan_actions.append(Fan.stopped_channels.add({policy.stop_entry(o.channel, o.errcode or 0)}))
        c["stat.pushes_stopped"] += 1
        c["job.stopped"] += 1
    elif o.result == "suppressed":
        c["stat.pushes_suppressed"] += 1
        c["job.suppressed"] += 1
        c[f"job.skipped_{o.reason or policy.SKIP_CHANNEL_STOPPED}"] += 1
    else:
        c["stat.pushes_failed"] += 1
        c["job.failed"] += 1


def _count_screens(entry: Entry, message: SendMessage, openid: str) -> None:
    recipient = {r.openid: r for r in message.recipients}.get(openid)
    for i in recipient.screens if recipient else []:
        if i < len(message.screens):
            entry.counts[f"screen.{message.screens[i]}"] += 1


def _drop_unread_later(appid: str, openid: str, dropped: set[str]) -> None:
    """Trim a full unread list (a set cannot be added to and trimmed in one update); best effort."""
    try:
        Fan(appid, openid).update(actions=[Fan.unread_content.delete(dropped)])
    except Exception:  # the cap is a nicety, never a reason to fail a batch
        logger.warning("could not trim unread list", appid=appid)
