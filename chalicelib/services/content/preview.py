"""The editor's previews of an item before it is saved or published: the push forecast and the phone page.

Both take the draft as the editor holds it (unsaved edits included), write
nothing, and reuse the code the real thing runs:

- **Forecast**: the targets are checked and resolved exactly as publish does
  (``rules.check_targets``, ``rules.resolve_screens``), then
  ``push_outcomes.preview`` decides per account and channel with
  ``push_policy`` — exact for small audiences, from the screens' fan counters
  beyond (see there for the cost).
- **Phone page**: the phone's own ``content`` template
  (``chalicelib/templates/phone``) renders the item through
  ``content_view.view_of``, the article body cleaned twice with the same nh3
  allow-lists as a saved item (``article_html.stored`` on write,
  ``article_html.page`` on the page). The HTML carries its own
  Content-Security-Policy (no script, no form, no frames), and the console
  shows it in a sandboxed ``srcdoc`` frame.
"""

from __future__ import annotations

from typing import Any

from chalicelib.contracts import article_html
from chalicelib.dal import accounts as account_repo
from chalicelib.models import Account, Content, Screen, Unit
from chalicelib.models.content import DRAFT
from chalicelib.pages import render_page
from chalicelib.services.access.grants import READ, Principal
from chalicelib.services.content import media
from chalicelib.services.content import view as content_view
from chalicelib.services.content.rules import check_targets, resolve_screens
from chalicelib.services.content.text import summary_of
from chalicelib.services.push import outcomes as push_outcomes
from chalicelib.settings import get_settings


def _draft(unit_id: str, data: dict[str, Any]) -> Content:
    """An unsaved Content holding the editor's fields (never written)."""
    item = Content(
        None, unit_id=unit_id, kind=data.get("kind") or "notice", title=data.get("title") or "", status=DRAFT
    )
    item.targets = {k: list((data.get("targets") or {}).get(k) or []) for k in ("screens", "tags", "units")}
    return item


def forecast(principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
    """What publishing this item to these targets would push now, per account and channel."""
    unit = principal.unit(data["unit_id"], READ)
    targets = data.get("targets") or {}
    check_targets(principal, unit, targets)
    screens = resolve_screens(_draft(unit.unit_id, {"targets": targets}))
    prediction, method = push_outcomes.preview(unit.unit_id, screens)
    return {
        "screens": len(screens),
        "method": method,
        "no_push_channel": push_outcomes.refusal(prediction),
        "forecast": prediction,
    }


def _csp() -> str:
    """The phone pages' policy, tightened for a preview: images and video only, nothing runs or submits."""
    cdn = get_settings().cdn_base_url
    return (
        f"default-src 'none'; style-src 'unsafe-inline'; img-src https: data: {cdn}; "
        f"media-src https: {cdn}; form-action 'none'; base-uri 'none'"
    )


def _account_for(unit: Unit, targets: dict[str, Any]) -> Account | None:
    """Whose phone pages show the item: the first named screen's account, else the unit's or its nearest
    superior's (one GetItem, or one index Query per level; no subtree is listed)."""
    for screen in Screen.batch_get(sorted(targets.get("screens") or [])[:1]):
        return account_repo.read(screen.appid)  # its account gone: no phone page to show
    for unit_id in reversed([p for p in unit.path.split("/") if p]):
        for account in Account.by_unit.query(unit_id, limit=1):
            return account
    return None


def phone_page(principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
    """The phone's content page for the draft, as a self-contained HTML document with its CSP."""
    unit = principal.unit(data["unit_id"], READ)
    targets = data.get("targets") or {}
    check_targets(principal, unit, targets)
    item = _draft(unit.unit_id, data)
    body = data.get("body") or None
    if body and item.kind == "article":
        body = article_html.stored(body)
    item.body, item.category, item.priority = body, data.get("category"), data.get("priority") or "normal"
    item.summary = data.get("summary") or (summary_of(body) if body else None)
    item.link_url = data.get("link_url")
    item.media = [
        {"key": media.media_key(m["sha256"], m["type"]), "type": m["type"]}
        for m in data.get("media") or []
        if m.get("type") in media.TYPES
    ]
    account = _account_for(unit, targets)
    policy = _csp()
    html = render_page(
        "content",
        appid=account.appid if account else "",
        account_name=account.name if account else "科普大屏",
        session=None,
        oauth_capable=False,
        base=get_settings().public_base_url,
        view=content_view.view_of(item),
        content=item,
        screen=None,
        unit_name=unit.name,
        was_unread=False,
        tab="",
    )
    meta = f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
    html = html.replace("<head>", f"<head>\n{meta}", 1)
    return {"html": html, "content_security_policy": policy}
