"""PIPL requests a unit received some other way (letter, phone, counter), carried out through the admin API.

Scoped like every admin call: the account must be in the caller's subtree
(otherwise the same 404 as an unknown account), and erasure needs the manage
permission on it.  Each request leaves an audit entry on the account naming
the resident only by ``personal_data.subject_ref`` (a digest): the audit log
must not itself keep the openid the erasure removed.
"""

from __future__ import annotations

from typing import Any

from chalicelib.models import Account
from chalicelib.models.unit_of_work import UnitOfWork
from chalicelib.services.access import audit
from chalicelib.services.access.grants import MANAGE, Principal, fetch_in_scope
from chalicelib.services.subscriptions import personal_data


def _note(appid: str, openid: str, reason: str | None) -> str:
    subject = personal_data.subject_ref(appid, openid)
    cleaned = (reason or "").replace(openid, "…")  # a reason quoting the openid must not keep it in the log
    return f"subject {subject}" + (f": {cleaned}" if cleaned else "")


def _audit(principal: Principal, account: Account, action: str, note: str, after: dict[str, Any] | None) -> None:
    uow = UnitOfWork()
    audit.record(uow, principal.user_id, action, account.unit_id, "account", account.appid, None, after, note=note)
    uow.commit()


def export(principal: Principal, appid: str, openid: str, reason: str | None) -> dict[str, Any]:
    account = fetch_in_scope(principal, Account, appid, "account", MANAGE)[0]
    data = personal_data.collect(appid, openid)
    _audit(principal, account, "resident.export", _note(appid, openid, reason), personal_data.summary(data))
    return data


def erase(principal: Principal, appid: str, openid: str, reason: str | None) -> dict[str, Any]:
    account = fetch_in_scope(principal, Account, appid, "account", MANAGE)[0]
    result = personal_data.erase(appid, openid).as_json()
    _audit(principal, account, "resident.erase", _note(appid, openid, reason), result)
    return {"subject": personal_data.subject_ref(appid, openid), **result}
