"""WeChat's own view of an account (the data cube), next to the followers its screens brought.

A daily job pulls ``datacube/getusersummary`` (new and cancelled followers per
day) and ``datacube/getusercumulate`` (followers at the end of each day) for
every account, through the WeChat client, for the days since the last
successful pull up to yesterday — WeChat reports only finished days and at
most seven per call, so an account that failed one night is caught up the
next.  Figures land in ``AnalyticsRollup`` (``wechat#<appid>``, one item per
day, overwritten: a pull repeated is harmless).

The view sums them over a period and sets beside them the followers gained
by scanning a screen's QR code (``subs_qr_follow`` of the account's
``DailyStat`` days, counted by the gateway in the follow's own transaction).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from wechatpy.exceptions import WeChatClientException

from chalicelib.models.accounts import Account
from chalicelib.models.rollups import LIVE
from chalicelib.models.stats import DailyStat, china_day
from chalicelib.services.access.grants import Principal
from chalicelib.services.analytics import series, store
from chalicelib.services.gateway.tokens import client_for
from chalicelib.settings import get_settings

logger = logging.getLogger(__name__)
MAX_SPAN_DAYS = 7  # WeChat's limit for the user analysis endpoints


def _scope(appid: str) -> str:
    return f"wechat#{appid}"


def _datacube(appid: str):
    cube = client_for(appid).datacube
    cube.API_BASE_URL = f"{get_settings().wechat_api_base}/datacube/"  # wechatpy hard-codes WeChat's host
    return cube


def pull(appid: str, first: date, last: date) -> int:
    """Fetch and store ``first``..``last`` (at most 7 days); returns days stored."""
    if (last - first).days + 1 > MAX_SPAN_DAYS or last < first:
        raise ValueError("WeChat reports 1 to 7 days per call")
    cube = _datacube(appid)
    summary = cube.get_user_summary(first, last)
    cumulate = cube.get_user_cumulate(first, last)
    days: dict[str, dict[str, int]] = {}
    for row in summary:  # one row per day and follow source: add them up
        day = days.setdefault(row["ref_date"], {"new_user": 0, "cancel_user": 0})
        day["new_user"] += int(row.get("new_user", 0))
        day["cancel_user"] += int(row.get("cancel_user", 0))
    for row in cumulate:
        days.setdefault(row["ref_date"], {"new_user": 0, "cancel_user": 0})["cumulate_user"] = int(
            row.get("cumulate_user", 0)
        )
    for day_key, values in days.items():
        store.set_attributes(_scope(appid), day_key, values)
    store.set_attributes(_scope(appid), LIVE, {"pulled_through": int(last.strftime("%Y%m%d"))})
    return len(days)


def pull_all(today: date | None = None) -> dict[str, int]:
    """The daily job: each account from the day after its last pull (at most a week back) to yesterday."""
    today = today or date.fromisoformat(china_day())
    yesterday = today - timedelta(days=1)
    done = failed = 0
    for account in Account.scan():
        levels = store.get_item(_scope(account.appid), LIVE) or {}
        pulled = levels.get("pulled_through")
        first = yesterday - timedelta(days=MAX_SPAN_DAYS - 1)
        if pulled:
            first = max(
                first, date.fromisoformat(f"{str(pulled)[:4]}-{str(pulled)[4:6]}-{str(pulled)[6:]}") + timedelta(days=1)
            )
        if first > yesterday:
            continue
        try:
            pull(account.appid, first, yesterday)
            done += 1
        except (WeChatClientException, OSError) as exc:
            failed += 1  # caught up on the next run (the range starts after the last good pull)
            logger.warning("datacube pull failed", extra={"appid": account.appid, "error": type(exc).__name__})
    return {"accounts": done, "failed": failed}


def _period_words(first: date, last: date) -> str:
    today = date.fromisoformat(china_day())
    if first == today.replace(day=1) and last >= today - timedelta(days=1):
        return "本月"
    if first.day == 1 and (last + timedelta(days=1)).day == 1 and first.month == last.month:
        return f"{first.year}年{first.month}月"
    return f"{first.isoformat()}至{last.isoformat()}"


def view(principal: Principal, appid: str, start: date | None, end: date | None) -> dict[str, Any]:
    """The account's followers by WeChat's count, and the part its screens' QR codes brought."""
    from chalicelib.services.gateway.accounts import get as get_account

    account = get_account(principal, appid)
    first, last = series.day_range(start, end)
    cube = {d: v for d, v in store.scope_items(_scope(account.appid), first.isoformat(), last.isoformat()).items()}
    ours = {
        stat.day: stat
        for stat in DailyStat.query(
            f"account#{account.appid}", DailyStat.day.between(first.isoformat(), last.isoformat())
        )
    }
    days: list[dict[str, Any]] = []
    for day in sorted(set(cube) | set(ours)):
        reported = cube.get(day, {})
        stat = ours.get(day)
        days.append(
            {
                "day": day,
                "new_user": reported.get("new_user"),
                "cancel_user": reported.get("cancel_user"),
                "cumulate_user": reported.get("cumulate_user"),
                "follows": stat.counter("follows") if stat else 0,
                "unfollows": stat.counter("unfollows") if stat else 0,
                "new_qr_follow": stat.counter("subs_qr_follow") if stat else 0,
            }
        )
    new_user = sum(d["new_user"] or 0 for d in days)
    via_screens = sum(d["new_qr_follow"] for d in days)
    last_cumulate = next((d["cumulate_user"] for d in reversed(days) if d["cumulate_user"] is not None), None)
    summary = f"{_period_words(first, last)}新增关注 {new_user:,} 人，其中经大屏扫码 {via_screens:,} 人"
    return {
        "appid": account.appid,
        "name": account.name,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "wechat": {
            "new_user": new_user,
            "cancel_user": sum(d["cancel_user"] or 0 for d in days),
            "cumulate_user": last_cumulate,
        },
        "screens": {
            "new_qr_follow": via_screens,
            "follows": sum(d["follows"] for d in days),
            "unfollows": sum(d["unfollows"] for d in days),
        },
        "screen_share": round(via_screens / new_user, 4) if new_user else None,
        "summary": summary,
        "days": days,
    }
