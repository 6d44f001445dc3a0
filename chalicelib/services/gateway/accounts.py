"""Official accounts: registration, edits, secrets, the callback URL and the custom menu.

Secrets go to SSM SecureString through ``chalicelib.secrets`` only; the table
records just which are set, and views show booleans.  After any change the
accounts repository's process cache is told to forget the account.
"""

from __future__ import annotations

from typing import Any

from wechatpy.exceptions import WeChatClientException

from chalicelib import links
from chalicelib.dal import accounts as account_repo
from chalicelib.models import Account, Screen
from chalicelib.models.unit_of_work import UnitOfWork
from chalicelib.secrets import SECRET_NAMES, store_account_secrets
from chalicelib.services.access import audit
from chalicelib.services.access.grants import MANAGE, READ, Principal, fetch_in_scope
from chalicelib.services.access.units import scope_units
from chalicelib.services.analytics import home_feed
from chalicelib.services.gateway.tokens import client_for
from chalicelib.services.push import policy as push_policy
from chalicelib.services.shared.errors import Conflict, UpstreamError
from chalicelib.services.shared.pagination import Page, page_by_unit
from chalicelib.services.shared.writes import OBJECT_TAG, check_if_match, commit, delete_with_audit, now, revise, snap
from chalicelib.wechat.menu import MenuKey

WRITABLE_SECRETS = ("app_secret", "token", "aes_key")


def public(account: Account) -> dict[str, Any]:
    present = set(account.secrets_set or ())
    return {
        "appid": account.appid,
        "unit_id": account.unit_id,
        "name": account.name,
        "account_type": account.account_type,
        "certified": bool(account.certified),
        "original_id": account.original_id,
        "template_id": account.template_id,
        "subscribe_template_id": account.subscribe_template_id,
        "cross_unit": account.cross_unit or push_policy.DEFAULT_CROSS_UNIT,
        "secrets": {name: name in present for name in SECRET_NAMES},
        "message_mode": account.message_mode or ("safe" if "aes_key" in present else "plain"),
        "callback_url": links.callback_url(account.appid),
        "mp_verify_file": account.mp_verify_file,
        "mp_verify_content": account.mp_verify_content,
        "menu_created_at": account.menu_created_at,
        "revision": account.revision,
        "created_at": account.created_at,
        "updated_at": account.updated_at,
    }


def _store_secrets(account: Account, secrets: dict[str, str | None]) -> None:
    """Write secrets to SSM and record which are set (no revision bump: secrets are not in the ETag)."""
    if not secrets:
        return
    stored = store_account_secrets(account.appid, **secrets)
    names = stored.names_set()
    # pynamodb stores None as NULL on a nullable attribute; its stubs leave None out of set()
    account.update(
        actions=[
            Account.secrets_set.set(names or None),  # type: ignore[arg-type]
            Account.updated_at.set(now()),
        ]
    )
    account_repo.forget(account.appid)


def create(principal: Principal, data: dict[str, Any]) -> Account:
    unit = principal.unit(data["unit_id"], MANAGE)
    secrets = {k: data.pop(k) for k in WRITABLE_SECRETS if data.get(k) is not None}
    for k in WRITABLE_SECRETS:
        data.pop(k, None)
    account = Account(data.pop("appid"), **data)
    uow = UnitOfWork()
    uow.put(account, condition=Account.appid.does_not_exist(), tag=OBJECT_TAG)
    audit.record(
        uow,
        principal.user_id,
        "account.create",
        account.unit_id,
        "account",
        account.appid,
        None,
        snap(public(account)),
        note=f"secrets set: {sorted(secrets)}",
    )
    home_feed.track_account(uow, account, unit.path)
    # the same answer wherever the appid is registered: it names no unit (appids are global, branches private)
    commit(uow, Conflict("appid unavailable: it is already registered", field="appid", code="unavailable"))
    _store_secrets(account, secrets)
    account.refresh(consistent_read=True)
    return account


def _visible(principal: Principal, appid: str, permission: str = READ) -> Account:
    return fetch_in_scope(principal, Account, appid, "account", permission)[0]


def get(principal: Principal, appid: str) -> Account:
    return _visible(principal, appid)


def list_accounts(principal: Principal, cursor: str | None, limit: int, unit_id: str | None) -> Page:
    units = scope_units(principal, unit_id)
    return page_by_unit(Account.by_unit, [u.unit_id for u in units], cursor, limit)


def update(principal: Principal, appid: str, changes: dict[str, Any], if_match: int | None) -> Account:
    account = _visible(principal, appid, MANAGE)
    check_if_match(if_match, account.revision)
    secrets = {k: changes.pop(k) for k in WRITABLE_SECRETS if k in changes}
    old_path = principal.unit(account.unit_id).path
    new_path = principal.unit(changes["unit_id"], MANAGE).path if "unit_id" in changes else old_path
    before = snap(public(account))
    if changes:
        for k, v in changes.items():
            setattr(account, k, v)
        uow = UnitOfWork()
        revise(uow, account, [getattr(Account, k).set(v) for k, v in changes.items()])
        account.revision += 1
        audit.record(
            uow,
            principal.user_id,
            "account.update",
            account.unit_id,
            "account",
            appid,
            before,
            snap(public(account)),
            note=f"secrets changed: {sorted(secrets)}" if secrets else None,
        )
        home_feed.track_account(uow, account, new_path, old_path)
        commit(uow)
    elif secrets:
        uow = UnitOfWork()
        audit.record(
            uow,
            principal.user_id,
            "account.secrets",
            account.unit_id,
            "account",
            appid,
            note=f"secrets changed: {sorted(secrets)}",
        )
        commit(uow)
    _store_secrets(account, secrets)
    account_repo.forget(appid)
    account.refresh(consistent_read=True)
    return account


def delete(principal: Principal, appid: str, if_match: int | None) -> None:
    account = _visible(principal, appid, MANAGE)
    check_if_match(if_match, account.revision)
    if next(iter(Screen.by_account.query(appid, limit=1)), None) is not None:
        raise Conflict("screens still subscribe through this account", code="in_use")
    unit_path = principal.unit(account.unit_id).path
    delete_with_audit(
        account,
        principal.user_id,
        "account.delete",
        account.unit_id,
        "account",
        appid,
        snap(public(account)),
        also=lambda uow: home_feed.track_account(uow, account, unit_path, deleted=True),
    )
    store_account_secrets(appid, **dict.fromkeys(SECRET_NAMES))
    account_repo.forget(appid)


def menu_for(appid: str) -> dict[str, Any]:
    """The account's custom menu: subscribe (H5 page), latest, and 'mine' with my screens and help."""
    return {
        "button": [
            {"type": "view", "name": "订阅大屏", "url": links.subscription_centre(appid)},
            {"type": "click", "name": "最新内容", "key": MenuKey.LATEST.value},
            {
                "name": "我的",
                "sub_button": [
                    {"type": "click", "name": "我的大屏", "key": MenuKey.MY_SCREENS.value},
                    {"type": "click", "name": "如何订阅", "key": MenuKey.HOW_TO_SUBSCRIBE.value},
                ],
            },
        ]
    }


def current_menu(principal: Principal, appid: str) -> dict[str, Any]:
    """The menu last published through this API (kept on the account), or the default one the editor starts from."""
    account = _visible(principal, appid)
    stored = account.menu
    return {"menu": stored or menu_for(appid), "default": not stored, "published_at": account.menu_created_at}


def _without_nulls(button: dict[str, Any]) -> dict[str, Any]:
    """WeChat's own shape: only the fields a button uses."""
    out = {k: v for k, v in button.items() if v is not None and k != "sub_button"}
    if button.get("sub_button") is not None:
        out["sub_button"] = [_without_nulls(sub) for sub in button["sub_button"]]
    return out


def create_menu(
    principal: Principal, appid: str, buttons: list[dict[str, Any]] | None = None
) -> tuple[Account, dict[str, Any]]:
    """Publish ``buttons`` (validated by the API's MenuIn) or the default menu, and keep what was published."""
    account = _visible(principal, appid, MANAGE)
    menu = {"button": [_without_nulls(b) for b in buttons]} if buttons else menu_for(appid)
    try:
        client_for(appid).menu.create(menu)
    except WeChatClientException as exc:
        raise UpstreamError(f"WeChat refused the menu: {exc.errcode} {exc.errmsg}", code="wechat_error") from None
    except Exception as exc:  # network, 5xx: the call can simply be repeated
        raise UpstreamError(f"WeChat API unavailable: {type(exc).__name__}", code="wechat_unavailable") from None
    uow = UnitOfWork()
    uow.update(
        account, [Account.menu_created_at.set(now()), Account.menu.set(menu if buttons else None)], tag=OBJECT_TAG
    )
    audit.record(uow, principal.user_id, "account.menu", account.unit_id, "account", appid, None, menu)
    commit(uow)
    account.refresh(consistent_read=True)
    return account, menu
