"""The accounts aggregate: WeChat official accounts, read through one process cache.

Every callback, phone page and push batch needs its account; reading the
item each time would add a round trip inside WeChat's 5-second budget.
Accounts change rarely, so they are kept per process, and each reader says
what staleness it tolerates:

- callbacks and phone pages: up to ``CACHE_SECONDS`` old (admin changes take
  effect within that time; ``forget`` applies them at once in the process
  that made them);
- the push sender: at least the revision the planner saw (``min_revision``),
  read strongly consistent, so an edit applies to the next job.

Unknown appids are cached too (as ``None``): probing them costs one read a
minute.  Values derived from accounts (which account signs in, whose
``MP_verify`` file a name is) share the cache through ``remembered``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from chalicelib.dal import items
from chalicelib.dal.cache import FreshnessCache
from chalicelib.models.accounts import Account

CACHE_SECONDS = 60
VERIFY_FILE_SECONDS = 300
LONGEST_SECONDS = 600  # the longest max_age any reader asks for (the sign-in account)
T = TypeVar("T")
_cache = FreshnessCache(maxsize=2048, longest_seconds=LONGEST_SECONDS)


def _at_least(min_revision: int) -> Callable[[Account | None], bool]:
    def accept(account: Account | None) -> bool:
        if account is None:
            return min_revision <= 0  # someone saw it exist since: look again
        return int(account.revision or 0) >= min_revision

    return accept


def find(
    appid: str, *, max_age: float = CACHE_SECONDS, min_revision: int = 0, consistent: bool = False
) -> Account | None:
    """The account (``None`` when unknown), no older than ``max_age`` and at least at ``min_revision``."""
    return _cache.get(
        ("account", appid),
        lambda: items.find(Account, appid, consistent=consistent),
        max_age=max_age,
        accept=_at_least(min_revision),
    )


def read(appid: str, *, consistent: bool = False) -> Account | None:
    """The account as stored now (no cache: admin paths check what they are about to change)."""
    return items.find(Account, appid, consistent=consistent)


def remembered(name: str, load: Callable[[], T], *, max_age: float) -> T:
    """A value derived from accounts, kept like an account (``forget`` drops it with any account)."""
    return _cache.get(("derived", name), load, max_age=min(max_age, LONGEST_SECONDS))


def verification_content(file_name: str) -> str | None:
    """The content some account registered as its ``MP_verify`` file ``file_name`` (kept five minutes).

    Accounts are few: one filtered scan, reading only the two attributes.
    """

    def load() -> str | None:
        found = next(
            iter(
                Account.scan(
                    Account.mp_verify_file == file_name,
                    attributes_to_get=["appid", "mp_verify_file", "mp_verify_content"],
                )
            ),
            None,
        )
        return found.mp_verify_content if found is not None and found.mp_verify_content else None

    return remembered(f"mp_verify:{file_name}", load, max_age=VERIFY_FILE_SECONDS)


def forget(appid: str) -> None:
    """Drop this account and every value derived from accounts (after an admin change in this process)."""
    _cache.forget(lambda key: key == ("account", appid) or _is_derived(key))


def _is_derived(key: Any) -> bool:
    return isinstance(key, tuple) and key[0] == "derived"


def clear() -> None:
    """Drop everything (tests, after the emulator was reset)."""
    _cache.clear()
