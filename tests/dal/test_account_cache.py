"""The one account cache: each reader gets an account as fresh as it asks for, loaded once per need.

No emulator: the cache is tested over a counting loader (the repository's
read of the item is ``dal.items.find``, covered by every emulator test).
"""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from chalicelib.dal import accounts
from chalicelib.dal.cache import FreshnessCache


class Table:
    """Stands in for the accounts table: counts reads, answers the current item."""

    def __init__(self) -> None:
        self.items: dict[str, SimpleNamespace] = {}
        self.reads: list[tuple[str, bool]] = []

    def find(self, _model, appid, range_key=None, *, consistent=False):
        self.reads.append((appid, consistent))
        return self.items.get(appid)


@pytest.fixture
def table(monkeypatch):
    fake = Table()
    monkeypatch.setattr(accounts.items, "find", fake.find)
    accounts.clear()
    yield fake
    accounts.clear()


def test_a_minute_old_account_serves_callbacks_and_pages_without_a_read(table):
    table.items["wx1"] = SimpleNamespace(appid="wx1", revision=3)
    assert accounts.find("wx1").revision == 3
    table.items["wx1"] = SimpleNamespace(appid="wx1", revision=4)
    assert accounts.find("wx1").revision == 3  # within CACHE_SECONDS: the cached one
    assert accounts.find("wx1", max_age=0).revision == 4  # a reader wanting it fresh reads again
    assert len(table.reads) == 2


def test_the_sender_rereads_an_account_older_than_the_planners_revision(table):
    table.items["wx1"] = SimpleNamespace(appid="wx1", revision=3)
    accounts.find("wx1")
    table.items["wx1"] = SimpleNamespace(appid="wx1", revision=4)
    assert accounts.find("wx1", min_revision=3).revision == 3  # new enough: no read
    assert accounts.find("wx1", min_revision=4, consistent=True).revision == 4
    assert table.reads == [("wx1", False), ("wx1", True)]
    assert accounts.find("wx1").revision == 4  # and everyone now sees the newer one


def test_unknown_appids_are_cached_until_someone_saw_the_account_exist(table):
    assert accounts.find("wxnew") is None
    table.items["wxnew"] = SimpleNamespace(appid="wxnew", revision=1)
    assert accounts.find("wxnew") is None  # a probe of an unknown appid costs one read a minute
    assert accounts.find("wxnew", min_revision=1).revision == 1  # the planner saw it: read again
    assert len(table.reads) == 2


def test_forget_drops_the_account_and_what_is_derived_from_accounts(table):
    table.items["wx1"] = SimpleNamespace(appid="wx1", revision=1)
    accounts.find("wx1")
    accounts.find("wx2")
    derived = []
    assert accounts.remembered("sign_in_appid", lambda: derived.append(1) or "wx1", max_age=600) == "wx1"
    assert accounts.remembered("sign_in_appid", lambda: derived.append(1) or "wx9", max_age=600) == "wx1"
    accounts.forget("wx1")
    assert accounts.remembered("sign_in_appid", lambda: derived.append(1) or "wx9", max_age=600) == "wx9"
    accounts.find("wx1")
    accounts.find("wx2")  # another account stays cached
    assert derived == [1, 1] and [appid for appid, _ in table.reads] == ["wx1", "wx2", "wx1"]


def test_parallel_readers_of_one_key_share_one_load():
    cache = FreshnessCache(maxsize=8, longest_seconds=60)
    loads, gate = [], threading.Event()

    def load():
        loads.append(1)
        gate.wait(5)
        return "value"

    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("k", load, max_age=60))) for _ in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(0.05)
    gate.set()
    for thread in threads:
        thread.join(5)
    assert results == ["value"] * 8 and loads == [1]


def test_an_entry_older_than_the_readers_max_age_is_loaded_again():
    cache = FreshnessCache(maxsize=8, longest_seconds=60)
    values = iter(["old", "new"])
    assert cache.get("k", lambda: next(values), max_age=60) == "old"
    time.sleep(0.02)
    assert cache.get("k", lambda: next(values), max_age=60) == "old"
    assert cache.get("k", lambda: next(values), max_age=0.01) == "new"
