"""The screens a fan can subscribe to, in the order the subscription centre shows them.

Near screens first: those of the account's own unit and its subordinates.
Then the rest of the account's unit tree, grouped by region (province, city,
district) and unit, so units can watch each other.  Listing never scans: one
Query on ``Unit.subtree`` finds the tree's units and one Query on
``Screen.by_unit`` per unit finds their screens (run a few at a time).  The
result is cached in the process for a short while; fan counts, which change
with every subscription, are re-read for the screens actually shown.

A screen code typed into the search box is looked up directly, so a screen of
any tree can be found and subscribed.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cachetools import TTLCache

from chalicelib.contracts.ids import normalise_screen_code
from chalicelib.dal import screens as screen_repo
from chalicelib.dal import units as unit_repo
from chalicelib.models.accounts import Account
from chalicelib.models.screens import Screen
from chalicelib.models.units import Unit
from chalicelib.services.push import policy as push_policy
from chalicelib.services.screens import playlist
from chalicelib.services.screens.manifest_store import load_manifest
from chalicelib.services.shared.pagination import readable

CATALOGUE_SECONDS = 30
MANIFEST_SECONDS = 10
PAGE_SIZE = 30
MAX_QUERY_CHARS = 40
_PARALLEL = 8

_lock = threading.Lock()
_trees: TTLCache = TTLCache(maxsize=256, ttl=CATALOGUE_SECONDS)
_manifests: TTLCache = TTLCache(maxsize=4096, ttl=MANIFEST_SECONDS)


@dataclass
class Card:
    """One screen as the phone pages show it."""

    screen: Screen
    unit_name: str
    region: str
    near: bool = False
    showing: dict[str, Any] | None = None
    subscribed: bool = False
    reach: str = "push"  # how this unit's content reaches the account's fans (push_policy.reach)


@dataclass
class Group:
    title: str
    subtitle: str
    cards: list[Card] = field(default_factory=list)


@dataclass
class CataloguePage:
    groups: list[Group]
    page: int
    pages: int
    total: int
    query: str


@dataclass(frozen=True)
class _Tree:
    units: dict[str, Unit]
    screens: list[Screen]


def clear() -> None:
    with _lock:
        _trees.clear()
        _manifests.clear()


# ------------------------------------------------------------------ data access


def _tree_of(unit: Unit) -> _Tree:
    with _lock:
        hit = _trees.get(unit.root_id)
    if hit is not None:
        return hit
    units = {u.unit_id: u for u in Unit.subtree.query(unit.root_id)}
    with ThreadPoolExecutor(max_workers=_PARALLEL) as pool:
        per_unit = pool.map(lambda uid: list(readable(Screen.by_unit.query(uid))), sorted(units))
        screens = [s for batch in per_unit for s in batch]
    tree = _Tree(units, screens)
    with _lock:
        _trees[unit.root_id] = tree
    return tree


def manifest_for(screen_id: str) -> dict[str, Any] | None:
    """The screen's manifest, cached briefly (the player polls it on the same rhythm)."""
    with _lock:
        if screen_id in _manifests:
            return _manifests[screen_id]
    manifest = load_manifest(screen_id)
    with _lock:
        _manifests[screen_id] = manifest
    return manifest


def reported_content(screen: Screen, now: datetime) -> str | None:
    """What the player last said it was playing, if it is online (seen within two heartbeat intervals)."""
    beat = screen.heartbeat.as_dict() if screen.heartbeat is not None else {}
    if not beat or screen.last_seen is None:
        return None
    if now - screen.last_seen > timedelta(seconds=2 * int(screen.heartbeat_interval or 30)):
        return None
    playing = beat.get("content_id") or beat.get("playing")
    return playing if isinstance(playing, str) else None


def showing_now(screen: Screen, now: datetime) -> dict[str, Any] | None:
    return playlist.now_playing(manifest_for(screen.screen_id), now, reported_content(screen, now))


# ------------------------------------------------------------------ shaping


def region_of(screen: Screen, unit: Unit | None) -> str:
    parts = [
        screen.province or (unit.province if unit else None),
        screen.city or (unit.city if unit else None),
        screen.district or (unit.district if unit else None),
    ]
    return " ".join(p for p in parts if p) or "其他地区"


def _card(screen: Screen, units: dict[str, Unit], near: bool) -> Card:
    unit = units.get(screen.unit_id)
    return Card(screen, unit.name if unit else "", region_of(screen, unit), near)


def _matches(card: Card, needle: str) -> bool:
    haystack = " ".join(
        [card.screen.name or "", card.screen.screen_id, card.screen.address or "", card.unit_name, card.region]
    ).casefold()
    return needle in haystack


def _ordered_cards(account: Account, query: str) -> list[tuple[tuple[str, str], Card]]:
    """Every card in display order, each with the (title, subtitle) of its group."""
    home = unit_repo.find(account.unit_id)
    tree = _tree_of(home) if home is not None else _Tree({}, [])
    near_units = {uid for uid, u in tree.units.items() if home is not None and u.is_within(home.path)}
    cards = [_card(s, tree.units, s.unit_id in near_units) for s in tree.screens]
    found: list[Card] = []
    if query:
        needle = query.casefold()
        cards = [c for c in cards if _matches(c, needle)]
        code = normalise_screen_code(query)
        if code and all(c.screen.screen_id != code for c in cards):
            other = screen_repo.find_code(code)
            if other is not None:
                unit = tree.units.get(other.unit_id) or unit_repo.find(other.unit_id)
                found.append(Card(other, unit.name if unit else "", region_of(other, unit)))

    def near_key(c: Card) -> tuple:
        unit = tree.units.get(c.screen.unit_id)
        return (unit.path if unit else "", c.screen.screen_id)

    def other_key(c: Card) -> tuple:
        return (c.region, c.unit_name, c.screen.screen_id)

    ordered: list[tuple[tuple[str, str], Card]] = [(("按编号找到", c.region), c) for c in found]
    ordered += [(("离您最近", c.unit_name), c) for c in sorted((c for c in cards if c.near), key=near_key)]
    ordered += [((c.region, c.unit_name), c) for c in sorted((c for c in cards if not c.near), key=other_key)]
    return ordered


def refresh(cards: list[Card], active: set[str], now: datetime, *, reload: bool = True) -> None:
    """Fresh fan counts (one BatchGetItem unless just read), subscription marks and what each screen shows now."""
    if not cards:
        return
    if reload:
        fresh = {s.screen_id: s for s in Screen.batch_get([c.screen.screen_id for c in cards])}
        for card in cards:
            card.screen = fresh.get(card.screen.screen_id, card.screen)
    for card in cards:
        card.subscribed = card.screen.screen_id in active
    with ThreadPoolExecutor(max_workers=_PARALLEL) as pool:
        shown = list(pool.map(lambda c: showing_now(c.screen, now), cards))
    for card, item in zip(cards, shown, strict=True):
        card.showing = item


def catalogue_page(
    account: Account, *, query: str = "", page: int = 1, active: set[str] | None = None, now: datetime | None = None
) -> CataloguePage:
    """One page of the subscription centre, grouped for display."""
    now = now or datetime.now(UTC)
    query = (query or "").strip()[:MAX_QUERY_CHARS]
    ordered = _ordered_cards(account, query)
    pages = max(1, -(-len(ordered) // PAGE_SIZE))
    page = min(max(1, page), pages)
    chunk = ordered[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    refresh([c for _, c in chunk], active or set(), now)
    mark_reach([c for _, c in chunk], account)
    groups: list[Group] = []
    for (title, subtitle), card in chunk:
        if not groups or (groups[-1].title, groups[-1].subtitle) != (title, subtitle):
            groups.append(Group(title, subtitle))
        groups[-1].cards.append(card)
    return CataloguePage(groups, page, pages, len(ordered), query)


def mark_reach(cards: list[Card], account: Account) -> None:
    """Tell each card whether its unit's content is pushed, only listed, or neither (the account's policy)."""
    ids = sorted({account.unit_id} | {c.screen.unit_id for c in cards})
    paths = {u.unit_id: u.path for u in Unit.batch_get(ids)} if cards else {}
    for card in cards:
        card.reach = push_policy.reach(account, paths.get(account.unit_id), paths.get(card.screen.unit_id))


def cards_for(
    screen_ids: list[str], *, active: set[str], now: datetime | None = None, account: Account | None = None
) -> list[Card]:
    """Cards for given screens (the fan's own), in the given order, skipping screens that no longer exist."""
    now = now or datetime.now(UTC)
    if not screen_ids:
        return []
    screens = {s.screen_id: s for s in Screen.batch_get(screen_ids)}
    unit_ids = sorted({s.unit_id for s in screens.values()})
    units = {u.unit_id: u for u in Unit.batch_get(unit_ids)} if unit_ids else {}
    cards = [_card(screens[sid], units, False) for sid in screen_ids if sid in screens]
    refresh(cards, active, now, reload=False)
    if account is not None:
        mark_reach(cards, account)
    return cards
