"""90 days of plausible history for the demo world, so the console's charts have something to show.

Nothing is written around the system's rules: every subscription, unsubscription,
unfollow and re-follow goes through the same functions as the WeChat gateway
and the phone pages (``chalicelib.services.subscriptions.subscribing``: subscription,
fan count, the fan and the day's counters in one transaction), dated in the
past; plays, online time, pushes and reads are added with the same ``bump``
the players, the push pipeline and the read counter use.  The roll-ups then
follow from the streams like any other events, so ``tools.check_rollups``
passes on the demo too.  WeChat's own figures for the same days are seeded in
the stand-in (its followers from other sources too) and pulled through the
data-cube job's code.

Idempotent: it runs once per emulator (a fixed idempotency key).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from chalicelib.models.fans import Fan
from chalicelib.models.stats import CHINA_TZ, bump, china_day
from chalicelib.models.unit_of_work import TransactionConflict, UnitOfWork, read_many
from chalicelib.services.subscriptions import subscribing as subscriptions
from chalicelib.services.subscriptions.subscribing import FanDelta, Outcome

SCREENS = {"NJ001": 4.0, "NJ002": 2.0, "SQ001": 1.5}  # mean new subscriptions a day
SOURCES = (("qr", 0.55), ("page", 0.25), ("text", 0.15), ("menu", 0.05))


def _moment(day: date, rng: random.Random) -> datetime:
    weights = [1, 1, 1, 1, 1, 2, 4, 6, 8, 9, 9, 9, 8, 7, 7, 8, 9, 10, 12, 14, 12, 8, 4, 2]  # evenings read most
    hour = rng.choices(range(24), weights=weights)[0]
    return datetime(
        day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60), tzinfo=CHINA_TZ
    ).astimezone(UTC)


def _commit(appid: str, openid: str, screen_id: str | None, decide) -> Outcome | None:
    """Read, decide, commit — and on a cancelled condition read and decide again, as the gateway does.

    (A commit whose answer was lost to a timeout and retried by botocore finds its own writes done.)
    """
    for _attempt in range(3):
        fan, *rest = read_many(subscriptions.reads_for(appid, openid, screen_id))
        screen, existing = [*rest, None, None][:2]
        uow, delta = UnitOfWork(), FanDelta(appid, openid)
        outcome = decide(uow, delta, fan, screen, existing)
        delta.flush(uow)
        try:
            uow.commit()
            return outcome
        except TransactionConflict:
            continue
    raise RuntimeError("demo history: a change could not be committed")


def subscribe(appid: str, openid: str, screen_id: str, source: str, now: datetime) -> Outcome | None:
    def decide(uow, delta, fan, screen, existing):
        new_follower = fan is None
        outcome = subscriptions.add_subscribe(
            uow, delta, fan=fan, screen=screen, existing=existing, source=source, now=now
        )
        delta.actions += [Fan.last_interaction_at.set(now), Fan.created_at.set(Fan.created_at | now)]
        if new_follower:
            delta.actions += [
                Fan.following.set(True),
                Fan.followed_at.set(now),
                Fan.first_source.set(f"qr:{screen_id}" if source == "qr" else source),
            ]
            if outcome == Outcome.SUBSCRIBED and source == "qr":
                bump(uow, "screen", screen_id, {"subs_qr_follow": 1}, now)
                bump(uow, "account", appid, {"follows": 1, "subs_qr_follow": 1}, now)
            else:
                bump(uow, "account", appid, {"follows": 1}, now)
        return outcome

    return _commit(appid, openid, screen_id, decide)


def unsubscribe(appid: str, openid: str, screen_id: str, now: datetime) -> Outcome | None:
    return _commit(
        appid,
        openid,
        screen_id,
        lambda uow, delta, fan, screen, existing: subscriptions.add_unsubscribe(
            uow, delta, screen_id=screen_id, existing=existing, now=now
        ),
    )


def unfollow(appid: str, openid: str, now: datetime) -> None:
    def decide(uow, delta, fan, _screen, _existing):
        subscriptions.add_suspend_all(uow, delta, fan=fan, now=now)
        delta.actions += [Fan.following.set(False), Fan.unfollowed_at.set(now)]
        bump(uow, "account", appid, {"unfollows": 1}, now)

    _commit(appid, openid, None, decide)


def refollow(appid: str, openid: str, now: datetime) -> None:
    def decide(uow, delta, fan, _screen, _existing):
        subscriptions.add_restore_all(uow, delta, fan=fan, now=now)
        delta.actions += [Fan.following.set(True), Fan.followed_at.set(now), Fan.last_interaction_at.set(now)]
        bump(uow, "account", appid, {"follows": 1}, now)

    _commit(appid, openid, None, decide)


def build(
    screen_accounts: dict[str, str], content_ids: list[str], days: int = 90, seed: int = 2026, today: date | None = None
) -> dict[str, int]:
    """Write ``days`` days of events ending yesterday; ``screen_accounts`` maps screen -> its account's appid."""
    rng = random.Random(seed)
    today = today or date.fromisoformat(china_day())
    people: dict[str, list[str]] = {appid: [] for appid in set(screen_accounts.values())}
    subscribed: dict[tuple[str, str], set[str]] = {}
    following: dict[tuple[str, str], bool] = {}
    counts = {"subscriptions": 0, "unsubscriptions": 0, "unfollows": 0, "refollows": 0}
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        growth = 0.5 + 1.0 * (days - back) / days  # the screens get better known
        weekend = 1.4 if day.weekday() >= 5 else 1.0
        for screen_id, mean in SCREENS.items():
            if screen_id not in screen_accounts:
                continue
            own = screen_accounts[screen_id]
            for _ in range(rng.randint(0, round(2 * mean * growth * weekend))):
                appid = own if rng.random() < 0.85 else rng.choice(sorted(people))  # some come via other accounts
                pool = people[appid]
                known = [p for p in pool if following.get((appid, p)) and screen_id not in subscribed[(appid, p)]]
                if known and rng.random() < 0.3:
                    openid = rng.choice(known)
                else:
                    openid = f"o-demo-{appid[-4:]}-{len(pool):04d}"
                    pool.append(openid)
                    subscribed[(appid, openid)] = set()
                    following[(appid, openid)] = True
                source = rng.choices([s for s, _ in SOURCES], weights=[w for _, w in SOURCES])[0]
                if subscribe(appid, openid, screen_id, source, _moment(day, rng)) == Outcome.SUBSCRIBED:
                    subscribed[(appid, openid)].add(screen_id)
                    counts["subscriptions"] += 1
        active = [(a, p) for (a, p), s in subscribed.items() if s and following.get((a, p))]
        for appid, openid in rng.sample(active, k=min(len(active), rng.randint(0, 2))):
            screen_id = rng.choice(sorted(subscribed[(appid, openid)]))
            unsubscribe(appid, openid, screen_id, _moment(day, rng))
            subscribed[(appid, openid)].discard(screen_id)
            counts["unsubscriptions"] += 1
        if active and rng.random() < 0.35:
            appid, openid = rng.choice(active)
            unfollow(appid, openid, _moment(day, rng))
            following[(appid, openid)] = False
            counts["unfollows"] += 1
        gone = [(a, p) for (a, p), f in following.items() if not f]
        if gone and rng.random() < 0.15:
            appid, openid = rng.choice(gone)
            refollow(appid, openid, _moment(day, rng))
            following[(appid, openid)] = True
            counts["refollows"] += 1
        _activity(day, screen_accounts, content_ids, rng, sum(len(s) for s in subscribed.values()))
    return counts


def _activity(
    day: date, screen_accounts: dict[str, str], content_ids: list[str], rng: random.Random, fans: int
) -> None:
    """A day's plays, online time, pushes and reads, added as the players, pushes and pages add them."""
    noon = datetime(day.year, day.month, day.day, 4, tzinfo=UTC)  # 12:00 China time
    uow = UnitOfWork()
    for screen_id in screen_accounts:
        offline = rng.random() < 0.04
        plays = 0 if offline else rng.randint(300, 520)
        counters = {
            "plays": plays,
            "play_seconds": plays * rng.randint(14, 22),
            "online_seconds": 0 if offline else rng.randint(11, 14) * 3600,
            "reads_mirror": rng.randint(0, 6),
            "reads_link": rng.randint(0, 3),
        }
        if rng.random() < 0.3 and fans:
            sent = max(1, fans // 3)
            counters.update(
                pushes_sent=sent,
                pushes_template=sent,
                receipts_success=round(sent * 0.97),
                reads_push=round(sent * rng.uniform(0.1, 0.35)),
            )
        bump(uow, "screen", screen_id, {k: v for k, v in counters.items() if v}, noon)
    for content_id in content_ids:
        reads = rng.randint(0, 12)
        if reads:
            bump(uow, "content", content_id, {"reads_push": reads, "plays": rng.randint(100, 300)}, noon)
    uow.commit()


def wechat_figures(
    standin, screen_accounts: dict[str, str], days: int = 90, seed: int = 2026, today: date | None = None
) -> None:
    """What WeChat's data cube would say: more followers than the screens brought (search, articles, shares)."""
    from chalicelib.models.stats import DailyStat

    rng = random.Random(seed + 1)
    today = today or date.fromisoformat(china_day())
    first = today - timedelta(days=days)
    for appid in sorted(set(screen_accounts.values())):
        total = rng.randint(3000, 9000)
        ours = {s.day: s for s in DailyStat.query(f"account#{appid}", DailyStat.day >= first.isoformat())}
        for back in range(days, 0, -1):
            day = (today - timedelta(days=back)).isoformat()
            stat = ours.get(day)
            new = (stat.counter("follows") if stat else 0) + rng.randint(5, 40)
            cancel = (stat.counter("unfollows") if stat else 0) + rng.randint(0, 6)
            total += new - cancel
            standin.set_user_summary(appid, day, new, cancel, total)


def register_followers(standin, appids: set[str]) -> int:
    """Tell the stand-in who follows each account, as the system's fan records say.

    The history writes its fans through the system's own functions, as if
    WeChat had sent their follow events, but WeChat (the stand-in) never saw
    them follow: every template message to them came back 43004 "require
    subscribe" and the publish showed 计划 29, 被拒收 28.  Real WeChat knows
    its followers; so must the stand-in.  Each is registered at his follow
    time, so the one-minute window a follow opens is long closed (as it would
    be).  Runs on every start: the emulator keeps its tables, the stand-in
    starts empty.
    """
    registered = 0
    for fan in Fan.scan(Fan.following == True):  # noqa: E712 (a pynamodb condition, not a comparison)
        if fan.appid in appids:
            moment = fan.followed_at or fan.created_at or datetime.now(UTC)
            standin.follow(fan.appid, fan.openid, at=moment.timestamp())
            registered += 1
    return registered


def seed_history(standin, info: dict, days: int = 90) -> dict[str, int]:
    """Once per emulator: the demo's history, WeChat's figures for it, the data-cube pull and fan attributes."""
    from chalicelib.services.analytics import attributes, wechat_view
    from devstack.demo import _once

    accounts = {s["screen_id"]: s["appid"] for s in info["screens"]}
    counts = _once(f"history-{days}d", lambda: build(accounts, sorted(info["content"].values()), days))
    counts["followers_in_standin"] = register_followers(standin, set(accounts.values()))
    wechat_figures(standin, accounts, days)
    today = date.fromisoformat(china_day())
    for appid in sorted(set(accounts.values())):
        last = today - timedelta(days=1)
        while last > today - timedelta(days=days + 1):
            first = max(last - timedelta(days=6), today - timedelta(days=days))
            wechat_view.pull(appid, first, last)
            last = first - timedelta(days=1)
    attributes.refresh()
    return counts
