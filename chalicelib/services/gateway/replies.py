"""The texts a fan gets back from the gateway: subscription results, his screens, the latest items, help.

Each renders a template of ``chalicelib/templates`` (zh-CN) from the state the
engine loaded; ``latest`` also looks up the unread items no manifest lists and
hands back, in the decision's unit of work, the removal of what it showed.
"""

from __future__ import annotations

from chalicelib import links
from chalicelib.models.content import PUBLISHED, Content
from chalicelib.models.fans import Fan
from chalicelib.models.unit_of_work import UnitOfWork
from chalicelib.replies import render_text
from chalicelib.services.gateway import directory
from chalicelib.services.gateway.context import Context
from chalicelib.services.screens.manifest_store import latest_items
from chalicelib.services.subscriptions.subscribing import MAX_SCREENS_PER_FAN, Outcome

LATEST_SHOWN = 5  # items in the "latest" reply: it must stay short (WeChat's 5-second budget, a phone screen)
UNREAD_LOOKUP = 10  # unread items not in any manifest, looked up in one BatchGetItem


def fan_link(ctx: Context, url: str) -> str:
    """Links in a reply name the fan on subscription accounts, so the page can show his state."""
    return links.for_fan(url, ctx.account, ctx.openid)


def subscribe_result(ctx: Context, outcome: Outcome, code: str | None) -> str:
    screen = ctx.snapshot.get("screen")
    if screen is not None:
        directory.remember_screen(screen)
    return render_text(
        "subscribe_result",
        outcome=outcome.value,
        screen=screen,
        code=code or "",
        mirror_url=fan_link(ctx, links.screen_mirror(ctx.appid, screen.screen_id)) if screen else "",
        centre_url=fan_link(ctx, links.subscription_centre(ctx.appid)),
        mine_url=fan_link(ctx, links.my_screens(ctx.appid)),
        limit=MAX_SCREENS_PER_FAN,
    )


def my_screens(ctx: Context) -> str:
    active = sorted(ctx.fan.active_screens or ()) if ctx.fan else []
    summaries = directory.screen_summaries(active) if active else {}
    return render_text(
        "my_screens",
        screens=[summaries[s] for s in active if s in summaries],
        mine_url=fan_link(ctx, links.my_screens(ctx.appid)),
        centre_url=fan_link(ctx, links.subscription_centre(ctx.appid)),
    )


def help_text(ctx: Context, unknown: str | None = None) -> str:
    return render_text("help", unknown_command=(unknown or "")[:20], centre_url=links.subscription_centre(ctx.appid))


def _unread_outside_manifests(missing: list[str]) -> dict[str, dict[str, str]]:
    """Published items among ``missing`` (unread ids no manifest lists), in one BatchGetItem."""
    found: dict[str, dict[str, str]] = {}
    for content in Content.batch_get(missing):
        if content.status == PUBLISHED:
            published = content.published_at.isoformat() if content.published_at else ""
            found[content.content_id] = {
                "content_id": content.content_id,
                "title": content.title,
                "published_at": published,
            }
    return found


def latest(ctx: Context, uow: UnitOfWork) -> str:
    """The newest items of his screens, with pushes he has not seen yet first, marked 【新】.

    Items a subscription account could not push (outside WeChat's windows) wait
    in ``Fan.unread_content``; showing them here delivers them, so the same
    transaction that records this event takes them off the list.
    """
    active = sorted(ctx.fan.active_screens or ()) if ctx.fan else []
    unread = sorted(ctx.fan.unread_content or ()) if ctx.fan else []
    items = latest_items(active) if active else []
    known = {item["content_id"]: item for item in items}
    missing = [cid for cid in unread if cid not in known][:UNREAD_LOOKUP]
    if missing:
        known.update(_unread_outside_manifests(missing))
    fresh = sorted(
        (known[cid] for cid in unread if cid in known), key=lambda item: item.get("published_at") or "", reverse=True
    )[:LATEST_SHOWN]
    shown_new = {item["content_id"] for item in fresh}
    rest = [item for item in items if item["content_id"] not in shown_new][: max(0, LATEST_SHOWN - len(fresh))]
    rendered = [
        {
            "title": item.get("title", ""),
            "new": item["content_id"] in shown_new,
            "url": links.content_page(
                ctx.appid, item["content_id"], src="unread" if item["content_id"] in shown_new else "menu"
            ),
        }
        for item in [*fresh, *rest]
    ]
    gone = {cid for cid in missing if cid not in known}  # withdrawn or deleted: nothing left to show
    if shown_new or gone:
        uow.update(Fan(ctx.appid, ctx.openid), [Fan.unread_content.delete(shown_new | gone)], tag="fan")
    return render_text(
        "latest", items=rendered, subscribed=bool(active), centre_url=links.subscription_centre(ctx.appid)
    )
