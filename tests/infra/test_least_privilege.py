"""Roles derived from the code reach only the tables that code names (infra/access.py).

Formerly ``from chalicelib.models import Account`` put the models package, and
with it every table, into a function's closure (the planner, the analytics
consumers and the screen-health schedule could write users, API keys and
grants), and a module defining several models handed all of them over (the
callback could read password hashes because ``LoginTicket`` shares a module
with ``Credential``).
"""

from __future__ import annotations

ADMIN_ONLY = {"users", "api_keys", "role_grants", "audit", "credentials", "sessions", "idempotency"}


def _tables(template) -> dict[str, set[str]]:
    return {
        meta["function"]: set(meta["tables"])
        for r in template["Resources"].values()
        if (meta := r.get("Metadata", {}).get("kepuscreen"))
    }


def test_functions_that_serve_no_admin_route_get_no_admin_table(packaged):
    tables = _tables(packaged[("prod", "aws-cn")].template)
    for function in (
        "wechat_callback",
        "public_pages",
        "push_planner",
        "push_sender",
        "push_digest",
        "rebuild_manifests",
    ):
        assert not tables[function] & ADMIN_ONLY, (function, sorted(tables[function] & ADMIN_ONLY))


def test_a_model_shared_module_grants_only_the_models_named(packaged):
    tables = _tables(packaged[("prod", "aws-cn")].template)
    assert {"login_tickets", "wechat_logins"} <= tables["wechat_callback"]  # the scan sign-in's side
    assert "credentials" not in tables["wechat_callback"] and "credentials" in tables["api_handler"]
    assert tables["push_planner"] == {
        "accounts",
        "content",
        "daily_stats",
        "fans",
        "push_jobs",
        "screens",
        "subscriptions",
        "units",
    }
