"""What every analytics figure is, computed from the day counters (``DailyStat`` names).

One table of definitions serves series, rankings, comparisons and the CSV
headers, so a metric means the same thing wherever it appears (docs/analytics.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal, get_args

# new fans by source: metric name -> the DailyStat counters it sums
NEW_SOURCES: dict[str, tuple[str, ...]] = {
    "new_qr_follow": ("subs_qr_follow",),
    "new_qr_scan": ("subs_qr", "-subs_qr_follow"),
    "new_menu": ("subs_menu",),
    "new_page": ("subs_page",),
    "new_text": ("subs_text",),
    "new_restored": ("restored",),
}
LOST_CAUSES: dict[str, tuple[str, ...]] = {
    "lost_unsubscribe": ("unsubs",),
    "lost_unfollow": ("suspended",),
}
NET_COUNTERS = ("subs_qr", "subs_menu", "subs_page", "subs_text", "restored")
LOST_COUNTERS = ("unsubs", "suspended")
PLANNED_CHANNELS = ("template", "notice", "custom", "unread", "none")  # DailyStat planned_<channel>

# levels: values at the end of a period (not summed over days)
LEVELS = ("fans", "distinct_fans", "screens")

# flows, in output order: metric name -> Chinese column header
FLOWS: dict[str, str] = {
    "new": "新增",
    "new_qr_follow": "扫码关注新增",
    "new_qr_scan": "扫码订阅新增",
    "new_menu": "菜单新增",
    "new_page": "页面新增",
    "new_text": "文字新增",
    "new_restored": "恢复",
    "lost": "流失",
    "lost_unsubscribe": "退订流失",
    "lost_unfollow": "取关流失",
    "net": "净增",
    "distinct_new": "去重新增",
    "distinct_lost": "去重流失",
    "plays": "播放次数",
    "play_seconds": "播放秒数",
    "online_minutes": "在线分钟",
    "pushes_planned": "计划推送",
    "pushes_planned_template": "计划模板消息",
    "pushes_planned_notice": "计划订阅通知",
    "pushes_planned_custom": "计划客服消息",
    "pushes_planned_unread": "计划待读",
    "pushes_planned_none": "计划无渠道",
    "pushes_sent": "推送成功",
    "pushes_delivered": "推送送达",
    "pushes_failed": "推送失败",
    "pushes_stopped": "推送停止",
    "pushes_suppressed": "推送抑制",
    "pushes_unread": "待读",
    "pushes_template": "模板消息",
    "pushes_notice": "订阅通知",
    "pushes_custom": "客服消息",
    "pushes_digest": "摘要",
    "reads": "阅读",
    "reads_push": "推送阅读",
    "reads_mirror": "镜像阅读",
    "reads_menu": "菜单阅读",
    "reads_link": "链接阅读",
}
LEVEL_HEADERS = {"fans": "粉丝数", "distinct_fans": "去重粉丝数", "screens": "大屏数"}
RATES: dict[str, str] = {
    "growth_rate": "增长率",
    "reads_per_fan": "人均阅读",
    "read_rate": "阅读率",
    "push_delivery_rate": "推送送达率",
    "online_rate": "在线率",
    "plays_per_screen": "单屏播放",
}
HEADERS = {**LEVEL_HEADERS, **FLOWS, **RATES}
METRICS = (*LEVELS, *FLOWS)  # every point's keys, in order
RankableMetric = Literal[
    "fans",
    "distinct_fans",
    "net",
    "growth_rate",
    "reads_per_fan",
    "read_rate",
    "push_delivery_rate",
    "online_rate",
    "plays_per_screen",
]
RANKABLE: tuple[str, ...] = get_args(RankableMetric)  # the API's metric parameter is this Literal
PER_SCREEN = ("fans", "distinct_fans", "net")  # count metrics that per_screen=true divides by screens

_PASSTHROUGH = (
    "plays",
    "play_seconds",
    "pushes_sent",
    "pushes_failed",
    "pushes_stopped",
    "pushes_suppressed",
    "pushes_unread",
    "pushes_template",
    "pushes_notice",
    "pushes_custom",
    "pushes_digest",
    "reads_push",
    "reads_mirror",
    "reads_menu",
    "reads_link",
    "distinct_new",
    "distinct_lost",
)


def _sum(counters: Mapping[str, float], names: Iterable[str]) -> int:
    total = 0
    for name in names:
        sign = -1 if name.startswith("-") else 1
        total += sign * int(counters.get(name.lstrip("-"), 0) or 0)
    return total


def net_of(counters: Mapping[str, float]) -> int:
    """new − lost of one day's counters: the change of the fan count that day."""
    return _sum(counters, NET_COUNTERS) - _sum(counters, LOST_COUNTERS)


def flows(counters: Mapping[str, float]) -> dict[str, int]:
    """The flow metrics of summed day counters."""
    out = {name: _sum(counters, parts) for name, parts in NEW_SOURCES.items()}
    out.update({name: _sum(counters, parts) for name, parts in LOST_CAUSES.items()})
    out["new"] = _sum(counters, NET_COUNTERS)
    out["lost"] = _sum(counters, LOST_COUNTERS)
    out["net"] = out["new"] - out["lost"]
    for name in _PASSTHROUGH:
        out[name] = int(counters.get(name, 0) or 0)
    for channel in PLANNED_CHANNELS:
        out[f"pushes_planned_{channel}"] = int(counters.get(f"planned_{channel}", 0) or 0)
    out["pushes_planned"] = sum(out[f"pushes_planned_{channel}"] for channel in PLANNED_CHANNELS)
    out["pushes_delivered"] = int(counters.get("receipts_success", 0) or 0)
    out["online_minutes"] = int(counters.get("online_seconds", 0) or 0) // 60
    out["reads"] = sum(out[f"reads_{s}"] for s in ("push", "mirror", "menu", "link"))
    return {name: out[name] for name in FLOWS}


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b else None


def rates(values: Mapping[str, float], *, fans_at_start: float, minutes: int) -> dict[str, float | None]:
    """The rate metrics of one period's totals (``values`` holds levels and flows)."""
    screens = values.get("screens", 0) or 0
    return {
        "growth_rate": _ratio(values["net"], fans_at_start),
        "reads_per_fan": _ratio(values["reads"], values["fans"]),
        "read_rate": _ratio(values["reads_push"], values["pushes_delivered"]),
        "push_delivery_rate": _ratio(values["pushes_delivered"], values["pushes_sent"]),
        "online_rate": _ratio(values["online_minutes"], screens * minutes),
        "plays_per_screen": _ratio(values["plays"], screens),
    }
