"""Counting reads of content on the phone, once per reader per day per source.

A read adds ``reads_<source>`` to the day's counters of ``content#<id>`` and of
the screen it came through, in one transaction with a ``ReadMark`` that may
not exist yet.  The second open of the same article the same day (a reload, a
back button, a retry) fails that condition and counts nothing.

Readers are the fan's openid when known (session or push-link token) and the
browser's random visitor id otherwise, so a shared link opened outside
WeChat still counts once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pynamodb.attributes import NumberAttribute
from pynamodb.exceptions import UpdateError

from chalicelib.dal.items import condition_failed
from chalicelib.models.fans import Fan
from chalicelib.models.reads import ReadMark
from chalicelib.models.stats import DailyStat, bump, china_day, subject
from chalicelib.models.unit_of_work import TransactionConflict, UnitOfWork

SOURCES = ("push", "mirror", "menu", "link")
MARK_TTL = timedelta(days=2)


def read_key(day: str, source: str, content_id: str, appid: str, reader: str) -> str:
    return f"{day}#{source}#{content_id}#{appid}#{reader}"


def record_read(
    *,
    appid: str,
    reader: str,
    content_id: str,
    screen_id: str | None,
    source: str,
    now: datetime | None = None,
) -> bool:
    """Count one read; False when this reader already read it today from this source."""
    if source not in SOURCES:
        raise ValueError(f"unknown read source: {source}")
    moment = now or datetime.now(UTC)
    uow = UnitOfWork()
    uow.put(
        ReadMark(read_key(china_day(moment), source, content_id, appid, reader), expires_at=moment + MARK_TTL),
        condition=ReadMark.key.does_not_exist(),
        tag="read",
    )
    counter = {f"reads_{source}": 1}
    bump(uow, "content", content_id, counter, moment)
    if screen_id:
        bump(uow, "screen", screen_id, counter, moment)
    try:
        uow.commit()
    except TransactionConflict as conflict:
        if conflict.failed_on("read"):
            return False
        raise
    return True


def first_read_key(pushed_at: datetime, content_id: str, appid: str, openid: str) -> str:
    """One mark per push and fan (the push is known by the moment its link was signed).  The key keeps
    ``read_key``'s shape (day, source, content, appid, reader) so export and erasure find it as a read mark."""
    return read_key(china_day(pushed_at), f"push@{int(pushed_at.timestamp())}", content_id, appid, openid)


def _now() -> datetime:
    return datetime.now(UTC)


def record_first_push_read(*, appid: str, openid: str, content_id: str, pushed_at: datetime) -> bool:
    """The first open of one push by the fan it was sent to: its delay goes into the content item's
    first-read histogram (``analytics.first_reads``) on the day of the read; False when he opened it before."""
    from chalicelib.services.analytics.first_reads import LAST, counter_name

    moment = _now()
    uow = UnitOfWork()
    uow.put(
        ReadMark(
            first_read_key(pushed_at, content_id, appid, openid),
            expires_at=pushed_at + timedelta(seconds=LAST) + MARK_TTL,
        ),
        condition=ReadMark.key.does_not_exist(),
        tag="first",
    )
    bucket = NumberAttribute(attr_name=counter_name((moment - pushed_at).total_seconds()))
    uow.update(DailyStat(subject("content", content_id), china_day(moment)), [bucket.add(1)])
    try:
        uow.commit()
    except TransactionConflict as conflict:
        if conflict.failed_on("first"):
            return False
        raise
    return True


def mark_seen(appid: str, openid: str, content_id: str) -> None:
    """Take the item off the fan's unread list (subscription accounts keep one; see the push pipeline)."""
    try:
        Fan(appid, openid).update(
            actions=[Fan.unread_content.delete({content_id})],
            condition=Fan.openid.exists(),
        )
    except UpdateError as exc:
        if not condition_failed(exc):  # no fan item: nothing to mark
            raise
