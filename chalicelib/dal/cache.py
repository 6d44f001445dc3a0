"""A process cache whose readers say how fresh a value they need.

A Lambda process serves many requests; items that change rarely (accounts)
are kept between them.  Readers differ in what staleness they tolerate: a
callback takes an account up to a minute old, the push sender needs one at
least as new as the revision the planner saw.  So each read passes its own
``max_age`` and an ``accept`` test; a value failing either is loaded again.
Loads of one key are single-flight: parallel threads share one read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

from cachetools import TTLCache


class _Entry(NamedTuple):
    value: Any
    loaded_at: float


class FreshnessCache:
    """Keyed values with their load time; see the module docstring."""

    def __init__(self, maxsize: int, longest_seconds: float) -> None:
        self._entries: TTLCache = TTLCache(maxsize=maxsize, ttl=longest_seconds)
        self._lock = threading.Lock()
        self._loads: dict[Hashable, threading.Lock] = {}

    def _fresh(self, key: Hashable, max_age: float, accept: Callable[[Any], bool]) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry.loaded_at >= max_age or not accept(entry.value):
            return None
        return entry

    def get(
        self,
        key: Hashable,
        load: Callable[[], Any],
        *,
        max_age: float,
        accept: Callable[[Any], bool] = lambda _value: True,
    ) -> Any:
        """The cached value when fresh enough, else ``load()``'s (kept for the next reader)."""
        entry = self._fresh(key, max_age, accept)
        if entry is not None:
            return entry.value
        with self._lock:
            loading = self._loads.setdefault(key, threading.Lock())
        with loading:
            entry = self._fresh(key, max_age, accept)
            if entry is not None:
                return entry.value
            value = load()
            with self._lock:
                self._entries[key] = _Entry(value, time.monotonic())
            return value

    def forget(self, predicate: Callable[[Hashable], bool]) -> None:
        """Drop every entry whose key ``predicate`` selects."""
        with self._lock:
            for key in [k for k in self._entries if predicate(k)]:
                self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
