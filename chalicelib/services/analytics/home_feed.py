"""Keeps the home page's feed (``models/home.py``) in step with screens, content and accounts.

The home page must cost a handful of DynamoDB requests whatever the subtree
holds (issue 14: at most 10 for 1,000 screens and 10,000 items), so nothing
it shows may be found by querying every unit or screen.  Instead each fact it
lists is mirrored, when it changes, into every ancestor's scope:

* content: ``track_content`` adds to the content write's own transaction
  (pending review entries, publish entries), so an entry exists exactly when
  the record says so;
* accounts: ``track_account`` adds to the account write's transaction (the
  "no push channel" alert, decided by ``push_policy.has_channel``: a
  subscription account needs no template, it sends customer-service messages);
* screens: ``presence`` is set by heartbeats and by the ``screen_health``
  schedule (``presence.mark_presence``: going offline is the absence of an
  event, so a schedule must notice it); ``apply_screen_records`` turns the
  screens stream's old/new images into counter changes and ``lo#`` entries
  (what a change means is ``presence``'s to say), so moves and deletions are
  counted too.  Stream batches are retried by Lambda: the counters go out in
  transactions with a token derived from the batch.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from chalicelib import aws
from chalicelib.dal.items import find
from chalicelib.logs import logger
from chalicelib.models.accounts import Account
from chalicelib.models.content import PENDING, PUBLISHED, WITHDRAWN, Content
from chalicelib.models.home import HomeEntry
from chalicelib.models.unit_of_work import UnitOfWork
from chalicelib.services.analytics.presence import (
    PRESENCE_KEY,
    PRESENCE_STATES,
    changed_sides,
    presence_changes,
    presence_writes,
)
from chalicelib.services.push import policy as push_policy

PUBLISH_ENTRY_DAYS = 180


def tree_scopes(path: str) -> list[str]:
    """``tree#<id>`` of the unit at ``path`` and of each of its ancestors."""
    return [f"tree#{part}" for part in path.split("/") if part]


def publish_scope(scope: str) -> str:
    return f"pub#{scope}"


# ------------------------------------------------------------------ content and accounts (same transaction)


def track_content(uow: UnitOfWork, content: Content, unit_path: str, new_status: str) -> None:
    """Mirror a content write: its pending-review entry and, when published or withdrawn, its publish entry."""
    old_status = content.status
    for scope in tree_scopes(unit_path):
        review = HomeEntry(scope, f"review#{content.content_id}")
        if new_status == PENDING:
            uow.put(
                HomeEntry(
                    scope,
                    review.key,
                    ident=content.content_id,
                    unit_id=content.unit_id,
                    name=content.title,
                    at=datetime.now(UTC),
                )
            )
        elif old_status == PENDING:
            uow.delete(review)
        if (new_status in (PUBLISHED, WITHDRAWN) or old_status == PUBLISHED) and content.published_at is not None:
            uow.put(publish_entry(scope, content, new_status))


def publish_entry(scope: str, content: Content, status: str) -> HomeEntry:
    published = content.published_at
    return HomeEntry(
        publish_scope(scope),
        f"{published.astimezone(UTC).isoformat()}#{content.content_id}",
        ident=content.content_id,
        unit_id=content.unit_id,
        name=content.title,
        status=status,
        at=published,
        until=content.valid_until,
        job_id=content.push_job_id if content.push else None,
        expires_at=published + timedelta(days=PUBLISH_ENTRY_DAYS),
    )


def forget_content(uow: UnitOfWork, content: Content, unit_path: str) -> None:
    """A deleted item leaves the recent publishes (in the delete's transaction)."""
    if content.published_at is None:
        return
    for scope in tree_scopes(unit_path):
        uow.delete(
            HomeEntry(publish_scope(scope), f"{content.published_at.astimezone(UTC).isoformat()}#{content.content_id}")
        )


def lacks_channel(account: Account) -> bool:
    """The alert's rule: the account cannot push its own unit's content (push_policy decides, as publish does)."""
    return not push_policy.has_channel(account, push_policy.PUSH)


def track_account(
    uow: UnitOfWork, account: Account, unit_path: str, old_unit_path: str | None = None, deleted: bool = False
) -> None:
    """Mirror an account write into the "no push channel" alert of every ancestor scope."""
    new = set() if deleted or not lacks_channel(account) else set(tree_scopes(unit_path))
    old = set(tree_scopes(old_unit_path if old_unit_path is not None else unit_path))
    for scope in sorted(old | new):
        entry = HomeEntry(scope, f"nochan#{account.appid}")
        if scope in new:
            uow.put(
                HomeEntry(
                    scope,
                    entry.key,
                    ident=account.appid,
                    unit_id=account.unit_id,
                    name=account.name,
                    status=account.account_type,
                )
            )
        else:
            uow.delete(entry)


# ------------------------------------------------------------------ screens (the stream's presence changes)


def apply_screen_records(records: list[dict[str, Any]], token_base: str) -> int:
    """Presence counters and long-offline entries from screens stream records; returns requests made."""
    from chalicelib.services.analytics import scopes  # the cached unit look-ups the roll-ups use

    sides = changed_sides(records)
    if not sides:
        return 0
    units = scopes.units({img["unit_id"] for pair in sides for img in pair if img.get("unit_id")})

    def scopes_of(image: dict[str, Any]) -> list[str]:
        unit = units.get(image.get("unit_id") or "")
        return tree_scopes(unit.path) if unit else []

    counters, entries = presence_changes(sides, scopes_of)
    return _transact_in_chunks(presence_writes(counters, entries, HomeEntry.Meta.table_name), token_base)


def _transact_in_chunks(items: list[dict[str, Any]], token_base: str) -> int:
    """Write the items 100 per transaction, each with a token derived from the batch (a redelivery is a no-op)."""
    requests = 0
    for index, start in enumerate(range(0, len(items), 100)):
        token = hashlib.sha256(f"{token_base}#home#{index}".encode()).hexdigest()[:36]
        requests += 1
        try:
            aws.client("dynamodb").transact_write_items(
                TransactItems=items[start : start + 100], ClientRequestToken=token
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "IdempotentParameterMismatchException":
                raise
            logger.info("home feed chunk already applied by an earlier delivery of this batch")
    return requests


# ------------------------------------------------------------------ unit moves


def move_subtree(unit_id: str, old_parent_path: str, new_parent_path: str) -> int:
    """Carry a moved subtree's entries and presence counts from its old superiors to its new ones.

    Every fact of the subtree is already in its own top scope ``tree#<unit_id>``
    (and ``pub#tree#<unit_id>``), so one read of those partitions tells what the
    superiors it leaves must lose and the ones it joins must gain: a cost
    bounded by the subtree's own entries, never by the old or new ancestry's.
    The scopes inside the subtree keep their ids and need no change.  Returns
    the number of entries copied or removed.
    """
    leaving = [s for s in tree_scopes(old_parent_path) if s not in tree_scopes(new_parent_path)]
    joining = [s for s in tree_scopes(new_parent_path) if s not in tree_scopes(old_parent_path)]
    if not leaving and not joining:
        return 0
    own = f"tree#{unit_id}"
    entries = [e for e in HomeEntry.query(own, consistent_read=True) if e.key != PRESENCE_KEY]
    publishes = list(HomeEntry.query(publish_scope(own), consistent_read=True))
    counts = find(HomeEntry, own, PRESENCE_KEY, consistent=True)
    presence = {s: int(getattr(counts, s) or 0) for s in PRESENCE_STATES} if counts is not None else {}
    touched = 0
    with HomeEntry.batch_write() as batch:
        for scope, adding in [(s, False) for s in leaving] + [(s, True) for s in joining]:
            for entry, target in [(e, scope) for e in entries] + [(e, publish_scope(scope)) for e in publishes]:
                copy = HomeEntry(target, entry.key, **{name: getattr(entry, name) for name in _ENTRY_FIELDS})
                if adding:
                    batch.save(copy)
                else:
                    batch.delete(copy)
                touched += 1
    sign = {False: -1, True: 1}
    for scope, adding in [(s, False) for s in leaving] + [(s, True) for s in joining]:
        nonzero = {k: sign[adding] * v for k, v in presence.items() if v}
        if nonzero:
            HomeEntry(scope, PRESENCE_KEY).update(actions=[getattr(HomeEntry, k).add(v) for k, v in nonzero.items()])
    return touched


_ENTRY_FIELDS = ("ident", "unit_id", "name", "status", "at", "until", "job_id", "expires_at")
