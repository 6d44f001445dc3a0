"""What a publish's push will do (the forecast) and what it did (the push status), per account and channel.

Publishing used to answer "published" while nobody could be reached (a
service account with neither ``template_id`` nor ``subscribe_template_id``).
Now:

- **Forecast** (at publish, in the response, kept on the content): for every
  account whose fans follow the targeted screens, and every account of those
  screens, how many distinct fans it reaches and through which channel
  (template / subscribe / custom / unread) or why they are skipped
  (``push_policy.SKIP_REASONS``).  The channel is ``push_policy``'s own
  decision applied to each fan's stored state, so forecast and send agree.
  Classifying reads every fan; beyond ``FORECAST_FANS`` fans the rest are
  counted in ``estimated`` under the account's usual channel, and counting
  stops at ``FORECAST_COUNT`` fans (``complete: false``) so publish stays
  well inside API Gateway's 29 s.
- **Refusal**: ``push: true`` where no involved account has any channel is a
  422 (``no_push_channel``) that names the accounts and what they lack.
- **Status** (content GET): the job's counters — planned, sent per channel,
  left unread, delivered (receipts), read (push reads), failed, stopped,
  skipped per reason.
- ``JobAccounts``: accounts read fresh (consistent) once per planner run, so an
  account edit applies to the next job, and their reach for the job's content.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from chalicelib.dal.items import find
from chalicelib.models import Account, Fan, Screen, Unit
from chalicelib.models.content import Content
from chalicelib.models.push import JOB_COUNTERS, PLANNED, PushJob
from chalicelib.models.stats import DailyStat, china_day, subject
from chalicelib.services.push import policy
from chalicelib.services.shared.errors import Unprocessable

FORECAST_FANS = 2000  # fans classified one by one at publish (20 BatchGets of 100)
FORECAST_COUNT = 50_000  # fans counted at publish at most (a few index pages); beyond, complete is false
CHANNELS = (policy.TEMPLATE, policy.NOTICE, policy.CUSTOM, policy.UNREAD)


class JobAccounts:
    """The accounts one job sends through, each read once (consistently) with its reach for the content."""

    def __init__(self, content_unit_id: str | None):
        self._paths: dict[str, str | None] = {}
        self._content_path = self._path(content_unit_id)
        self._seen: dict[str, tuple[Account | None, str]] = {}

    def _path(self, unit_id: str | None) -> str | None:
        if not unit_id:
            return None
        if unit_id not in self._paths:
            unit = find(Unit, unit_id)
            self._paths[unit_id] = unit.path if unit else None
        return self._paths[unit_id]

    def get(self, appid: str) -> tuple[Account | None, str]:
        if appid not in self._seen:
            account = find(Account, appid, consistent=True)
            reach = policy.reach(account, self._path(account.unit_id), self._content_path) if account else policy.PUSH
            self._seen[appid] = (account, reach)
        return self._seen[appid]

    def send_fields(self, appid: str) -> dict[str, Any]:
        """What a send batch carries so the sender applies this job's view of the account."""
        account, reach = self.get(appid)
        return {"reach": reach, "account_revision": int(account.revision or 0) if account else 0}


# ------------------------------------------------------------------ forecast


def _entry(account: Account | None, appid: str, reach: str) -> dict[str, Any]:
    return {
        "appid": appid,
        "name": account.name if account else "",
        "account_type": account.account_type if account else "",
        "reach": reach,
        "own_content": reach == policy.PUSH,
        "has_channel": account is not None and policy.has_channel(account, reach),
        "recipients": 0,
        "estimated": 0,
        "channels": dict.fromkeys(CHANNELS, 0),
        "skipped": dict.fromkeys(policy.SKIP_REASONS, 0),
    }


class _Forecast:
    """The rows of one forecast, one per account, created as screens and fans name the accounts."""

    def __init__(self, content_unit_id: str, now: datetime) -> None:
        self.accounts = JobAccounts(content_unit_id)
        self.entries: dict[str, dict[str, Any]] = {}
        self.now = now

    def row(self, appid: str) -> dict[str, Any]:
        if appid not in self.entries:
            account, reach = self.accounts.get(appid)
            self.entries[appid] = _entry(account, appid, reach)
        return self.entries[appid]

    def count(self, fans: Iterable[tuple[str, str, str, list[str]]]) -> tuple[list[tuple[str, str]], bool]:
        """Count every fan (up to ``FORECAST_COUNT``); (the fans to classify one by one, truncated)."""
        to_classify: list[tuple[str, str]] = []
        for counted, (_key, appid, openid, _screens) in enumerate(fans):
            if counted >= FORECAST_COUNT:  # keep publish fast: the job's status counts the rest exactly
                return to_classify, True
            row = self.row(appid)
            row["recipients"] += 1
            if len(to_classify) < FORECAST_FANS:
                to_classify.append((appid, openid))
            else:
                row["estimated"] += 1
        return to_classify, False

    def classify(self, to_classify: list[tuple[str, str]]) -> None:
        fans: dict[tuple[str, str], Fan] = {}
        for start in range(0, len(to_classify), 100):
            for fan in Fan.batch_get(to_classify[start : start + 100]):
                fans[(fan.appid, fan.openid)] = fan
        for appid, openid in to_classify:
            _classify(self.entries[appid], self.accounts.get(appid), fans.get((appid, openid)), self.now)
        for appid, row in self.entries.items():
            if row["estimated"]:  # counted under the channel a fan without history would get
                _classify(row, self.accounts.get(appid), None, self.now, row["estimated"])


def forecast(content_unit_id: str, screen_ids: Iterable[str], now: datetime | None = None) -> dict[str, Any]:
    """Per account and channel: what a push of this content to these screens would do now."""
    from chalicelib.services.push.batching import merged_fans  # the planner's own de-duplication

    now = now or datetime.now(UTC)
    screens = sorted(set(screen_ids))
    rows = _Forecast(content_unit_id, now)
    for screen in Screen.batch_get(screens):
        rows.row(screen.appid)
    to_classify, truncated = rows.count(merged_fans(screens, ""))
    rows.classify(to_classify)
    entries = rows.entries
    return {
        "recipients": sum(r["recipients"] for r in entries.values()),
        "complete": not truncated and not any(r["estimated"] for r in entries.values()),
        "computed_at": now.isoformat(),
        "accounts": [entries[a] for a in sorted(entries)],
    }


def _classify(
    row: dict[str, Any], looked_up: tuple[Account | None, str], fan: Fan | None, now: datetime, n: int = 1
) -> None:
    account, reach = looked_up
    if account is None:
        row["skipped"][policy.SKIP_NO_CHANNEL] += n
        return
    channel = policy.choose_channel(account, fan, now, reach)
    if channel == policy.NONE:
        row["skipped"][policy.skip_reason(account, fan, reach)] += n
    else:
        row["channels"][channel] += n


def refusal(prediction: dict[str, Any]) -> str | None:
    """Why a push cannot reach anyone (None when some account has a channel)."""
    rows = prediction.get("accounts") or []
    if any(r["has_channel"] for r in rows):
        return None
    reasons = []
    for r in rows:
        if r["reach"] == policy.NONE:
            reasons.append(f"{r['name']} ({r['appid']}) does not carry content of other units (cross_unit: none)")
        else:
            reasons.append(f"{r['name']} ({r['appid']}) has neither template_id nor subscribe_template_id")
    detail = "; ".join(reasons) or "the targeted screens have no official account"
    return f"push is on but no channel can carry it: {detail}. Configure a channel or publish with push: false"


# ------------------------------------------------------------------ status


def _plain(value: Any) -> Any:
    if hasattr(value, "as_dict"):
        value = value.as_dict()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def push_reads(content: Content) -> int:
    """Reads of the content through push links, from its daily counters (one Query)."""
    since = china_day(content.published_at) if content.published_at else "0000-00-00"
    return sum(
        stat.counter("reads_push")
        for stat in DailyStat.query(subject("content", content.content_id), DailyStat.day >= since)
    )


def status(content: Content) -> dict[str, Any] | None:
    """The content's push status: the forecast made at publish and what the job has done since."""
    if not content.push_job_id:
        return None
    job = find(PushJob, content.push_job_id, consistent=True)
    counts: Counter[str] = Counter()
    if job is not None:
        counts.update({name: int(getattr(job, name) or 0) for name in ("planned", *JOB_COUNTERS)})
    sent = {
        policy.TEMPLATE: counts["sent_template"],
        policy.NOTICE: counts["sent_notice"],
        policy.CUSTOM: counts["sent_custom"],
    }
    finished = (
        sum(sent.values()) + counts["queued_unread"] + counts["stopped"] + counts["suppressed"] + counts["failed"]
    )
    if job is None:
        state = "queued"
    elif job.status != PLANNED:
        state = "planning"
    else:
        state = "done" if finished >= counts["planned"] else "sending"
    skipped = {reason: counts[f"skipped_{reason}"] for reason in policy.SKIP_REASONS}
    skipped[policy.SKIP_CHANNEL_STOPPED] += max(0, counts["suppressed"] - sum(skipped.values()))  # older jobs
    return {
        "job_id": content.push_job_id,
        "state": state,
        "forecast": _plain(content.push_forecast),
        "planned": counts["planned"],
        "sent": sent,
        "sent_total": sum(sent.values()),
        "unread": counts["queued_unread"],
        "unread_cross_unit": counts["unread_cross_unit_policy"],
        "delivered": counts["receipts_success"],
        "read": push_reads(content),
        "failed": counts["failed"],
        "stopped": counts["stopped"],
        "skipped": skipped,
        "skipped_total": counts["suppressed"],
    }


def publish_actions(content: Content, screen_ids: Iterable[str]) -> list[Any]:
    """The publish write's push fields (job id, forecast); raises 422 when no channel can carry the push."""
    prediction = forecast(content.unit_id, screen_ids)
    reason = refusal(prediction)
    if reason:
        raise Unprocessable(reason, field="push", code="no_push_channel")
    content.push_job_id, content.push_forecast = f"{content.content_id}:{content.revision + 1}", prediction
    return [Content.push_job_id.set(content.push_job_id), Content.push_forecast.set(prediction)]


# ------------------------------------------------------------------ the editor's forecast, before publishing

PREVIEW_EXACT_FANS = FORECAST_FANS  # by the screens' fan counters: up to this many, the preview is the exact forecast


def preview(content_unit_id: str, screen_ids: Iterable[str], now: datetime | None = None) -> tuple[dict[str, Any], str]:
    """The forecast the editor shows before publishing, and how it was made (``exact`` or ``counters``).

    The editor asks again whenever targets change, so its cost must not grow
    with the audience.  The targeted screens' ``fan_count`` counters decide:
    up to ``PREVIEW_EXACT_FANS`` followers, this is :func:`forecast` itself
    (the index pages of those screens and at most 20 BatchGets of fans);
    beyond, no fan is read: each screen's counter is counted under its
    account's usual channel (``estimated``, ``complete: false``), which
    over-counts a fan who follows several of the targeted screens.  Either
    way the channel decision is ``push_policy``'s, as in publish.
    """
    now = now or datetime.now(UTC)
    screens = list(Screen.batch_get(sorted(set(screen_ids))))
    if sum(int(s.fan_count or 0) for s in screens) <= PREVIEW_EXACT_FANS:
        return forecast(content_unit_id, [s.screen_id for s in screens], now), "exact"
    accounts = JobAccounts(content_unit_id)
    entries: dict[str, dict[str, Any]] = {}
    for screen in screens:
        if screen.appid not in entries:
            account, reach = accounts.get(screen.appid)
            entries[screen.appid] = _entry(account, screen.appid, reach)
        followers = max(0, int(screen.fan_count or 0))
        entries[screen.appid]["recipients"] += followers
        entries[screen.appid]["estimated"] += followers
    for appid, row in entries.items():
        if row["estimated"]:
            _classify(row, accounts.get(appid), None, now, row["estimated"])
    return {
        "recipients": sum(r["recipients"] for r in entries.values()),
        "complete": False,
        "computed_at": now.isoformat(),
        "accounts": [entries[a] for a in sorted(entries)],
    }, "counters"
