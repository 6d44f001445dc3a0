"""What screens report: heartbeats (online status) and proof of play.

Screens authenticate with their player key (``contracts.player_keys``: only its
sha256 is stored, in ``Screen.player_key_hash``, compared in constant time).  Every request
first passes a per-screen, per-minute counter in DynamoDB (conditional
``ADD``), so a looping or hijacked player cannot flood the tables.

Plays are counted exactly once however often a batch is re-sent: each play
carries a player-made unique id, and its de-duplication record is written in
the same transaction as the daily counters it adds (``DailyStat`` ``plays`` and
``play_seconds`` of ``content#<id>`` and ``screen#<id>``, China day).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from pynamodb.exceptions import UpdateError

from chalicelib.contracts import ids, player_keys
from chalicelib.dal import screens as screen_repo
from chalicelib.dal.items import condition_failed, find
from chalicelib.logs import logger
from chalicelib.models.base import utcnow
from chalicelib.models.screen_links import ScreenContentLink
from chalicelib.models.screen_reports import ScreenReportRecord
from chalicelib.models.screens import Screen
from chalicelib.models.stats import bump, china_day
from chalicelib.models.unit_of_work import TransactionConflict, UnitOfWork

RATE_LIMIT_PER_MINUTE = 30
MAX_PLAYS_PER_BATCH = 100
PLAY_MAX_AGE = timedelta(days=30)
PLAY_RECORD_TTL = timedelta(days=40)
_CHUNK = 30  # plays per transaction: 30 records + at most 2 x 30 content-days + a few screen-days < 100 items

Ident = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


# ---------------------------------------------------------------- keys and status


def authenticate(screen_id: str, key: str | None) -> Screen | None:
    """The screen when ``key`` is its player key, else None (unknown screens look the same)."""
    if not key or len(key) > player_keys.MAX_LENGTH or not ids.is_screen_code(screen_id):
        return None
    screen = screen_repo.find(screen_id)
    if screen is None:
        player_keys.matches(key, None)  # same work either way
        return None
    return screen if player_keys.matches(key, screen.player_key_hash) else None


def screen_status(screen: Screen, now: datetime | None = None) -> Literal["online", "offline", "never"]:
    """``online`` when the screen was seen within two heartbeat intervals."""
    if screen.last_seen is None:
        return "never"
    now = now or utcnow()
    interval = int(screen.heartbeat_interval or 30)
    return "online" if now - screen.last_seen <= timedelta(seconds=2 * interval) else "offline"


def failures_over_limit(bucket: str, limit: int | None = None, now: datetime | None = None) -> bool:
    """True when ``bucket`` already used up this minute's ``limit`` (read only: nothing is counted)."""
    now = now or utcnow()
    record = find(ScreenReportRecord, f"rate#{bucket}#{now:%Y%m%d%H%M}")
    if record is None:
        return False
    return int(record.reports or 0) >= (limit or RATE_LIMIT_PER_MINUTE)


def within_rate_limit(screen_id: str, limit: int | None = None, now: datetime | None = None) -> bool:
    """Count one request of this screen in the current minute; False once over ``limit``."""
    now = now or utcnow()
    limit = limit or RATE_LIMIT_PER_MINUTE
    record = ScreenReportRecord(f"rate#{screen_id}#{now:%Y%m%d%H%M}")
    try:
        record.update(
            actions=[ScreenReportRecord.reports.add(1), ScreenReportRecord.expires_at.set(now + timedelta(minutes=5))],
            condition=ScreenReportRecord.reports.does_not_exist() | (ScreenReportRecord.reports < limit),
        )
    except UpdateError as exc:
        if condition_failed(exc):
            return False
        raise
    return True


# ---------------------------------------------------------------- heartbeats


class Heartbeat(BaseModel):
    model_config = ConfigDict(extra="forbid")

    manifest_version: str | None = Field(default=None, max_length=80)
    playing: Ident | None = None
    uptime_seconds: int = Field(default=0, ge=0, le=10 * 365 * 86400)
    player_version: str = Field(default="", max_length=32)
    screen_width: int = Field(default=0, ge=0, le=20000)
    screen_height: int = Field(default=0, ge=0, le=20000)
    online: bool = True
    queued_plays: int = Field(default=0, ge=0, le=10**7)


def record_heartbeat(screen: Screen, beat: Heartbeat, now: datetime | None = None) -> dict:
    """Store last seen and what the player reported; returns the reply body."""
    now = now or utcnow()
    report = {**beat.model_dump(), "received_at": now.isoformat()}
    previous = screen.last_seen
    screen.update(
        actions=[Screen.last_seen.set(now), Screen.heartbeat.set(report), Screen.presence.set("online")],
        condition=Screen.screen_id.exists(),
    )
    online = _online_seconds(previous, now, int(screen.heartbeat_interval or 30)) if beat.online else 0
    if online:
        uow = UnitOfWork()
        bump(uow, "screen", screen.screen_id, {"online_seconds": online}, now)
        uow.commit()
    return {
        "ok": True,
        "server_time": now.isoformat(),
        "status": "online",
        "manifest_current": beat.manifest_version == screen.manifest_version,
    }


def _online_seconds(previous: datetime | None, now: datetime, interval: int) -> int:
    """Time online since the previous heartbeat: the gap, when it is within two intervals (else it was offline)."""
    if previous is None:
        return 0
    gap = (now - previous).total_seconds()
    return round(gap) if 0 < gap <= 2 * interval else 0


# ---------------------------------------------------------------- plays


class Play(BaseModel):
    model_config = ConfigDict(extra="forbid")

    play_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
    content_id: Ident
    started_at: datetime
    seconds: float = Field(ge=0, le=86400)


class PlayBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plays: list[Play] = Field(min_length=1, max_length=MAX_PLAYS_PER_BATCH)


def record_plays(screen: Screen, batch: PlayBatch, now: datetime | None = None) -> dict[str, int]:
    """Count each play once; plays too old, from the future or of content never on this screen are rejected.

    Rejected plays are acknowledged (so the player drops them) but not counted.
    """
    now = now or utcnow()
    unique: dict[str, Play] = {}
    for play in batch.plays:
        unique.setdefault(play.play_id, play)
    known = _linked_contents(screen.screen_id, {p.content_id for p in unique.values()})
    accepted, rejected = [], 0
    for play in unique.values():
        started = play.started_at if play.started_at.tzinfo else play.started_at.replace(tzinfo=UTC)
        if play.content_id not in known or not (now - PLAY_MAX_AGE <= started <= now + timedelta(minutes=10)):
            rejected += 1
            continue
        accepted.append(play.model_copy(update={"started_at": started}))
    counted = duplicates = 0
    for start in range(0, len(accepted), _CHUNK):
        c, d = _count_chunk(screen.screen_id, accepted[start : start + _CHUNK], now)
        counted += c
        duplicates += d
    duplicates += len(batch.plays) - len(unique)
    logger.info("plays recorded", screen_id=screen.screen_id, counted=counted, duplicates=duplicates, rejected=rejected)
    return {"received": len(batch.plays), "counted": counted, "duplicates": duplicates, "rejected": rejected}


def _linked_contents(screen_id: str, content_ids: set[str]) -> set[str]:
    """Content ids that are (or recently were) on this screen: one BatchGet."""
    return {link.content_id for link in ScreenContentLink.batch_get([(screen_id, cid) for cid in content_ids])}


def _count_chunk(screen_id: str, plays: list[Play], now: datetime) -> tuple[int, int]:
    """One transaction: de-dup records + counters; plays already counted are dropped and the rest retried."""
    duplicates = 0
    for _attempt in range(3):
        if not plays:
            return 0, duplicates
        uow = UnitOfWork()
        per_content: Counter[tuple[str, str]] = Counter()
        seconds_content: Counter[tuple[str, str]] = Counter()
        per_screen: Counter[str] = Counter()
        seconds_screen: Counter[str] = Counter()
        for play in plays:
            uow.put(
                ScreenReportRecord(f"play#{screen_id}#{play.play_id}", expires_at=now + PLAY_RECORD_TTL),
                condition=ScreenReportRecord.key.does_not_exist(),
                tag=play.play_id,
            )
            day = china_day(play.started_at)
            per_content[(play.content_id, day)] += 1
            seconds_content[(play.content_id, day)] += round(play.seconds)
            per_screen[day] += 1
            seconds_screen[day] += round(play.seconds)
        for (content_id, day), n in per_content.items():
            _bump_day(uow, "content", content_id, day, n, seconds_content[(content_id, day)])
            # the same per content *and screen*: analytics counts the screens an item played on from these
            _bump_day(uow, "content", f"{content_id}@{screen_id}", day, n, seconds_content[(content_id, day)])
        for day, n in per_screen.items():
            _bump_day(uow, "screen", screen_id, day, n, seconds_screen[day])
        try:
            uow.commit()
            return len(plays), duplicates
        except TransactionConflict as conflict:
            seen = set(conflict.failed)
            duplicates += sum(1 for p in plays if p.play_id in seen)
            plays = [p for p in plays if p.play_id not in seen]
    raise RuntimeError("plays could not be committed after three attempts")


def _bump_day(uow: UnitOfWork, kind: str, ident: str, day: str, plays: int, seconds: int) -> None:
    # ``bump`` takes a moment: 04:00 UTC is noon in China, safely inside that China day
    moment = datetime.strptime(day + " 04:00", "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    bump(uow, kind, ident, {"plays": plays, "play_seconds": seconds}, moment)
