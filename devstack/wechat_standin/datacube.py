"""The data cube's user analysis: ``getusersummary`` and ``getusercumulate``.

Why the date rules matter: WeChat answers only whole Beijing days before today,
at most 7 at a time (61500 / 61501 otherwise), and the product's nightly
analytics import must page its requests to fit.
"""

from __future__ import annotations

import calendar
import time
from typing import Any

from devstack.wechat_standin.core import Core
from devstack.wechat_standin.errors import WeChatError
from devstack.wechat_standin.state import Account, beijing_day
from devstack.wechat_standin.wire import Request, Route

MAX_DAYS = 7


def _days(core: Core, request: Request) -> tuple[Account, list[str]]:
    """The Beijing days asked for, with WeChat's rules: dates, begin <= end < today, at most 7 days."""
    account = core.auth(request)
    body = core.json_body(request)
    try:
        begin = time.strptime(str(body.get("begin_date")), "%Y-%m-%d")
        end = time.strptime(str(body.get("end_date")), "%Y-%m-%d")
    except ValueError:
        raise WeChatError(61500) from None
    first, last = calendar.timegm(begin), calendar.timegm(end)
    today = beijing_day(core.now())
    span = (last - first) // 86400 + 1
    if last < first or span > MAX_DAYS or time.strftime("%Y-%m-%d", end) >= today:
        raise WeChatError(61501)
    return account, [time.strftime("%Y-%m-%d", time.gmtime(first + i * 86400)) for i in range(span)]


def user_summary(core: Core, request: Request) -> dict[str, Any]:
    """New and cancelled followers per day (from follows, unfollows and seeded days)."""
    account, days = _days(core, request)
    rows = []
    for day in days:
        new_user, cancel_user = account.user_days.get(day, [0, 0])
        rows.append({"ref_date": day, "user_source": 0, "new_user": new_user, "cancel_user": cancel_user})
    return {"list": rows}


def user_cumulate(core: Core, request: Request) -> dict[str, Any]:
    """Followers at the end of each day: seeded, or today's count minus the later days' net gains."""
    account, days = _days(core, request)
    now_total = sum(1 for f in account.fans.values() if f.subscribed)

    def cumulate(day: str) -> int:
        if day in account.cumulate:
            return account.cumulate[day]
        later = sum(n - c for d, (n, c) in account.user_days.items() if d > day)
        return now_total - later

    return {"list": [{"ref_date": day, "cumulate_user": cumulate(day)} for day in days]}


ROUTES: dict[str, Route] = {
    "/datacube/getusersummary": Route("POST", user_summary),
    "/datacube/getusercumulate": Route("POST", user_cumulate),
}
