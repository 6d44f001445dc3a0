"""The daily digest of a subscription account: one tag mass send listing the day's pushed items.

Subscription accounts reach fans outside the customer-service windows only
through mass sends (a few a day at most).  Where the operator allows it (the
account has a ``digest_tag_id``), the items the day's pushes parked in fans'
unread lists are sent once to that tag in the evening.  ``clientmsgid`` is
derived from the account and the day, so a retried digest is refused by
WeChat (45065) instead of being sent twice; the quota day then records it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from wechatpy.exceptions import WeChatClientException

from chalicelib import links
from chalicelib.dal.items import find
from chalicelib.logs import logger
from chalicelib.models.accounts import Account
from chalicelib.models.content import Content
from chalicelib.models.push import PushQuota
from chalicelib.models.stats import bump
from chalicelib.models.unit_of_work import UnitOfWork
from chalicelib.services.gateway.tokens import client_for
from chalicelib.services.push.policy import quota_day
from chalicelib.tracing import capture_method

MAX_ITEMS = 8
DUPLICATE_CLIENTMSGID = 45065


def digest_text(items: list[Content], appid: str) -> str:
    lines = ["今日大屏科普速递："]
    for index, item in enumerate(items, 1):
        lines.append(f"{index}. {item.title[:40]}")
        lines.append(links.content_page(appid, item.content_id, src="digest"))
    return "\n".join(lines)


def clientmsgid(appid: str, day: str) -> str:
    return f"kepu-digest-{appid}-{day}"[:64]


@capture_method
def send_digest(account: Account, now: datetime | None = None) -> str:
    """Send one account's digest for today; returns "sent", "already" or "nothing"."""
    now = now or datetime.now(UTC)
    day = quota_day(now)
    quota = find(PushQuota, account.appid, day, consistent=True)
    if quota is None:
        return "nothing"
    if quota.digest_sent or not quota.digest_content or account.digest_tag_id is None:
        return "already" if quota.digest_sent else "nothing"
    ids = sorted(quota.digest_content)[:50]
    items = sorted(Content.batch_get(ids), key=lambda c: c.published_at or c.created_at, reverse=True)[:MAX_ITEMS]
    if not items:
        return "nothing"
    msg_key = clientmsgid(account.appid, day)
    body = {
        "filter": {"is_to_all": False, "tag_id": int(account.digest_tag_id)},
        "msgtype": "text",
        "text": {"content": digest_text(items, account.appid)},
        "clientmsgid": msg_key,
    }
    outcome = "sent"
    try:
        client_for(account.appid).post("message/mass/sendall", data=body)
    except WeChatClientException as exc:
        if exc.errcode != DUPLICATE_CLIENTMSGID:
            raise
        outcome = "already"  # an earlier attempt got through; WeChat refused the repeat
    uow = UnitOfWork()
    uow.update(quota, [PushQuota.digest_sent.set(msg_key)], condition=PushQuota.digest_sent.does_not_exist())
    if outcome == "sent":
        bump(uow, "account", account.appid, {"pushes_digest": 1}, now)
    uow.commit()
    logger.info("daily digest", appid=account.appid, items=len(items), outcome=outcome)
    return outcome


def send_all_digests(now: datetime | None = None) -> dict[str, str]:
    """Every subscription account with a digest tag (the accounts table is small: a scan is fine)."""
    results = {}
    for account in Account.scan(Account.digest_tag_id.exists()):
        if account.is_service:
            continue
        try:
            results[account.appid] = send_digest(account, now)
        except Exception:
            logger.exception("daily digest failed", appid=account.appid)
            results[account.appid] = "error"
    return results
