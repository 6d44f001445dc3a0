"""CSV exports: UTF-8 with a byte-order mark (Excel on Chinese Windows reads it right), Chinese headers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from chalicelib.services.analytics import metrics

BOM = "\ufeff"


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else _safe(v) for v in row])
    return BOM + out.getvalue()


def _safe(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula (=, +, -, @) is quoted with a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def series_csv(result: dict[str, Any]) -> str:
    names = list(metrics.METRICS)
    header = ["日期", *(metrics.HEADERS[n] for n in names)]
    return _csv(header, ([p["period"], *(p.get(n) for n in names)] for p in result["points"]))


def ranking_csv(result: dict[str, Any]) -> str:
    return _csv(
        ["名次", "单位", "大屏数", "数值"],
        ([r["rank"], r["name"], r.get("screens", ""), r["value"]] for r in result["items"]),
    )


def league_csv(result: dict[str, Any]) -> str:
    return _csv(["名次", "单位", "数值"], ([r["rank"], r["name"], r["value"]] for r in result["items"]))


def compare_csv(result: dict[str, Any]) -> str:
    names = [*metrics.METRICS, *metrics.RATES]
    header = ["编号", "名称", *(metrics.HEADERS[n] for n in names)]
    return _csv(header, ([i["id"], i["name"], *(i["values"].get(n) for n in names)] for i in result["items"]))


ATTRIBUTE_HEADERS = {
    "fans": "粉丝数",
    "tenure.week": "本周新增",
    "tenure.month": "本月新增",
    "tenure.older": "更早",
    "activity.active_30d": "30天活跃",
    "activity.dormant": "沉默",
    "screens_per_fan.1": "订阅1屏",
    "screens_per_fan.2": "订阅2屏",
    "screens_per_fan.3+": "订阅3屏以上",
    "via_other_accounts": "经其他单位公众号",
    "source_mix.qr": "来源:扫码",
    "source_mix.menu": "来源:菜单",
    "source_mix.page": "来源:页面",
    "source_mix.text": "来源:文字",
}


def attributes_csv(result: dict[str, Any]) -> str:
    def pick(path: str) -> Any:
        value: Any = result
        for part in path.split("."):
            value = (value or {}).get(part) if isinstance(value, dict) else None
        return value

    return _csv(["指标", "人数"], ([label, pick(path)] for path, label in ATTRIBUTE_HEADERS.items()))
