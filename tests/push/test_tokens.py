"""One access token per account, shared by every thread and process; one CAS refresh when WeChat rejects it."""

from __future__ import annotations

import multiprocessing
import threading
import time

import pytest

from chalicelib.models.tokens import AccessToken
from chalicelib.services.gateway.tokens import REFRESH_MARGIN, DynamoTokenProvider, TokenUnavailable
from tests.push import token_worker
from tests.support import PLAIN_APPID, emulator_env

STABLE = "/cgi-bin/stable_token"
ENV_KEYS = (
    "STAGE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "WECHAT_API_BASE",
    "PUBLIC_BASE_URL",
    "POWERTOOLS_LOG_LEVEL",
)


def in_threads(n: int, fn) -> list:
    results, lock = [], threading.Lock()
    start = threading.Barrier(n)

    def run():
        start.wait()
        value = fn()
        with lock:
            results.append(value)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_threads_fetch_one_token(wechat):
    tokens = in_threads(16, lambda: DynamoTokenProvider().get(PLAIN_APPID))
    assert len(set(tokens)) == 1
    assert len(wechat.calls(STABLE)) == 1
    assert AccessToken.get(PLAIN_APPID).generation == 1


def test_processes_and_threads_share_the_token_and_refresh_it_once(wechat):
    env = {k: v for k, v in emulator_env().items() if k in ENV_KEYS}
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(3) as pool:
        start = time.time() + 4  # after the children have imported everything
        runs = [pool.apply_async(token_worker.run, (env, PLAIN_APPID, 4, start, False)) for _ in range(3)]
        time.sleep(max(0.0, start - time.time()))
        local = in_threads(4, lambda: DynamoTokenProvider().get(PLAIN_APPID))
        tokens = set(local) | {t for r in runs for t in r.get(timeout=60)}
        assert len(tokens) == 1 and len(wechat.calls(STABLE)) == 1

        wechat.expire_tokens(PLAIN_APPID)  # every worker still holds the old token
        start = time.time() + 3
        runs = [pool.apply_async(token_worker.run, (env, PLAIN_APPID, 4, start, True)) for _ in range(3)]
        fresh = {t for r in runs for t in r.get(timeout=60)}
    assert len(fresh) == 1 and fresh != tokens
    assert len(wechat.calls(STABLE)) == 2  # one compare-and-swap refresh for twelve rejected workers
    rejected = [c for c in wechat.calls("/cgi-bin/user/get") if c["errcode"] == 42001]
    assert len(rejected) == 12 and all(c["errcode"] in (0, 42001) for c in wechat.calls("/cgi-bin/user/get"))
    assert AccessToken.get(PLAIN_APPID).generation == 2


def test_refresh_when_five_minutes_or_less_remain(wechat):
    provider = DynamoTokenProvider()
    first = provider.get(PLAIN_APPID)
    AccessToken(PLAIN_APPID).update(actions=[AccessToken.expires_at.set(time.time() + REFRESH_MARGIN - 10)])
    assert DynamoTokenProvider().get(PLAIN_APPID) == first  # stable_token returns the same token while valid
    assert len(wechat.calls(STABLE)) == 2
    assert AccessToken.get(PLAIN_APPID).expires_at > time.time() + REFRESH_MARGIN


def test_invalidate_is_a_compare_and_swap(wechat):
    a, b = DynamoTokenProvider(), DynamoTokenProvider()
    old = a.get(PLAIN_APPID)
    wechat.expire_tokens(PLAIN_APPID)
    new = a.invalidate(PLAIN_APPID, old)
    assert new != old
    assert b.invalidate(PLAIN_APPID, old) == new  # the stored token is no longer the bad one: no second fetch
    assert len(wechat.calls(STABLE)) == 2


def test_waits_for_another_refresher_are_bounded(wechat):
    AccessToken(PLAIN_APPID, lease_owner="dead-worker", lease_until=time.time() + 30).save()
    started = time.monotonic()
    with pytest.raises(TokenUnavailable):
        DynamoTokenProvider(wait_seconds=0.5).get(PLAIN_APPID)
    assert time.monotonic() - started < 3
    assert wechat.calls(STABLE) == []
    AccessToken(PLAIN_APPID).update(actions=[AccessToken.lease_until.set(time.time() - 1)])  # the lease ran out
    assert DynamoTokenProvider().get(PLAIN_APPID)
    assert len(wechat.calls(STABLE)) == 1
