"""What the demo world holds, as data: its units, accounts, screens, published items and people.

``devstack.demo`` creates these through the admin services; keeping the facts
apart from the creating makes each easy to read (and to change) on its own.
Units are named by a local key (``province``, ``city``, ``community``) until
they are created and have ids.
"""

from __future__ import annotations

from typing import Any

SERVICE_APPID, SUBSCRIPTION_APPID = "wxdemoservice0001", "wxdemosubscr00002"
ACCOUNTS: dict[str, dict[str, Any]] = {
    SERVICE_APPID: {
        "name": "南京科普",
        "account_type": "service",
        "original_id": "gh_demoservice1",
        "app_secret": "demoServiceSecret000000000000001",
        "token": "demoservicetoken",
        "aes_key": None,
        "unit": "city",
        "template_id": "TPL_demo_notice",
    },
    SUBSCRIPTION_APPID: {
        "name": "幸福社区",
        "account_type": "subscription",
        "original_id": "gh_demosubscr2",
        "app_secret": "demoSubscrSecret0000000000000002",
        "token": "demosubscrtoken",
        "aes_key": "demoEncodingAESKey0000000000000000000000001",
        "unit": "community",
    },
}

ROOT_UNIT = {"name": "江苏省科协", "kind": "association", "province": "江苏省"}
CHILD_UNITS = {  # under the root
    "city": {"name": "南京市科协", "kind": "association", "province": "江苏省", "city": "南京市"},
    "community": {
        "name": "幸福社区服务中心",
        "kind": "community",
        "province": "江苏省",
        "city": "南京市",
        "district": "鼓楼区",
    },
}
UNIT_NAMES = {"province": ROOT_UNIT["name"], **{key: spec["name"] for key, spec in CHILD_UNITS.items()}}

SCREENS = [  # code, unit, account, name, address, tags
    ("NJ001", "city", SERVICE_APPID, "南京科技馆大厅", "玄武区北京东路1号", ["museum", "lobby"]),
    ("NJ002", "city", SERVICE_APPID, "南京图书馆", "玄武区中山东路189号", ["library"]),
    ("SQ001", "community", SUBSCRIPTION_APPID, "幸福社区服务中心", "鼓楼区幸福路8号", ["community"]),
]

ROLES = ("admin", "editor", "reviewer", "viewer")  # one city user each
DEMO_PASSWORD = "kepu-demo-2026"  # noqa: S105 - local demo logins only (make dev prints them)
CONSOLE_USERNAMES = {"root admin": "admin", "admin": "city-admin"}  # any other role signs in as its own name


def items(unit_ids: dict[str, str], image: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The published items, one of each main kind, by name: the body each is created with."""
    return [
        (
            "notice",
            {
                "unit_id": unit_ids["province"],
                "kind": "notice",
                "title": "全省科普日活动通知",
                "body": "9月全省科普日：各地科技馆免费开放，欢迎市民参加。",
                "category": "community_notice",
                "targets": {"units": [unit_ids["province"]]},
            },
        ),
        (
            "article",
            {
                "unit_id": unit_ids["city"],
                "kind": "article",
                "title": "秋季如何预防流感",
                "body": "<h2>勤洗手</h2><p>流感病毒主要通过飞沫和接触传播。</p><ul><li>接种疫苗</li>"
                "<li>保持通风</li></ul>",
                "category": "everyday",
                "targets": {"units": [unit_ids["city"]]},
            },
        ),
        (
            "image",
            {
                "unit_id": unit_ids["city"],
                "kind": "image",
                "title": "科技馆新展厅开放",
                "category": "frontier",
                "media": [image],
                "targets": {"tags": ["museum"]},
                "duration": 10,
            },
        ),
        (
            "urgent",
            {
                "unit_id": unit_ids["community"],
                "kind": "notice",
                "title": "停水通知",
                "priority": "urgent",
                "body": "今天14:00-18:00幸福路片区临时停水，请提前储水。",
                "category": "community_notice",
                "targets": {"screens": ["SQ001"]},
            },
        ),
    ]
